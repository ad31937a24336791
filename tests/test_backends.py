"""Backend selection, threads, configuration, and the backends agreeing on a training run."""
import os
import subprocess
import sys

import numpy as np

import fastnn
from fastnn import backend, nn
from conftest import BACKENDS


def test_use_and_current():
    previous = backend.current()
    try:
        for name in BACKENDS:
            backend.use(name)
            assert backend.current() == name
    finally:
        backend.use(previous)


def test_default_is_the_compiled_backend_and_env_var_selects():
    code = "import fastnn; print(fastnn.backend.current())"
    env = {k: v for k, v in os.environ.items() if k != "FASTNN_BACKEND"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "cython"
    out = subprocess.run([sys.executable, "-c", code], env={**env, "FASTNN_BACKEND": "numpy"},
                         capture_output=True, text=True)
    assert out.stdout.strip() == "numpy"


def test_threads_default_honours_omp_num_threads():
    code = "import fastnn; print(fastnn.get_num_threads())"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "OMP_NUM_THREADS": "1"},
                         capture_output=True, text=True)
    assert out.stdout.strip() == "1"


def test_set_num_threads_reaches_the_kernels():
    from fastnn import _kernels
    fastnn.set_num_threads(1)
    assert fastnn.get_num_threads() == 1 and _kernels.get_num_threads() == 1
    fastnn.set_num_threads(2)
    assert _kernels.get_num_threads() == 2


def test_show_config_names_backend_and_instruction_set(capsys):
    from fastnn import _kernels
    fastnn.show_config()
    text = capsys.readouterr().out
    assert "backend: cython" in text
    assert any(f"instruction_set: {isa}" in text for isa in ("avx512", "avx2", "generic"))
    assert "threads:" in text and "numpy:" in text
    wants = "Winograd" if _kernels.isa_active() == "avx512" else "implicit GEMM"
    assert f"conv2d_3x3: {wants}" in text
    was = _kernels.conv_winograd(False)
    try:
        assert fastnn.config.config()["conv2d_3x3"] == "implicit GEMM"
    finally:
        _kernels.conv_winograd(was)


def _loss_trajectory(name, steps=60):
    previous = backend.current()
    backend.use(name)
    try:
        fastnn.manual_seed(0)
        net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
        net.apply(lambda m: (nn.init.normal_(m.weight, std=0.01), nn.init.zeros_(m.bias))
                  if isinstance(m, nn.Linear) else None)
        opt = fastnn.optim.SGD(net.parameters(), lr=0.1)
        rng = np.random.default_rng(0)
        # a fixed synthetic task with structure to learn: labels from a random projection
        x_all = rng.random((steps * 64, 784), dtype=np.float32)
        y_all = (x_all @ rng.standard_normal((784, 10)).astype(np.float32)).argmax(1)
        losses = []
        for step in range(steps):
            x = fastnn.from_numpy(x_all[step * 64:(step + 1) * 64])
            y = fastnn.from_numpy(y_all[step * 64:(step + 1) * 64])
            loss = nn.functional.cross_entropy(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return np.array(losses)
    finally:
        backend.use(previous)


def test_backends_agree_on_60_sgd_steps():
    trajectories = {name: _loss_trajectory(name) for name in BACKENDS}
    reference = trajectories["numpy"]
    assert reference[-1] < reference[0]  # it learns
    for name, losses in trajectories.items():
        np.testing.assert_allclose(losses, reference, atol=1e-4, err_msg=name)
