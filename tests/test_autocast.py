"""fastnn.autocast against torch.autocast on the CPU: the state rules (nesting, enabled=False,
decorators, threads, unsupported dtypes and devices), which ops run in bfloat16 and which in
float32, the values of linear/matmul/conv2d and of their gradients, the float32 fallback
(the same results without the bfloat16 kernel), and a short training run."""
import threading
import warnings

import ml_dtypes
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import _kernels, backend, nn

try:
    import torch
except ImportError:  # the parity tests skip; the rest runs
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")
bf16 = ml_dtypes.bfloat16


def test_state_nests_restores_and_is_per_thread():
    assert not fastnn.is_autocast_enabled("cpu")
    with fastnn.autocast("cpu"):
        assert fastnn.is_autocast_enabled("cpu") and not fastnn.is_autocast_enabled()
        assert fastnn.get_autocast_dtype("cpu") == fastnn.bfloat16
        with fastnn.autocast("cpu", enabled=False):
            assert not fastnn.is_autocast_enabled("cpu")
        with fastnn.autocast("cpu", dtype=fastnn.float16):
            assert fastnn.get_autocast_dtype("cpu") == fastnn.float16
        assert fastnn.get_autocast_dtype("cpu") == fastnn.bfloat16
        seen = []
        worker = threading.Thread(target=lambda: seen.append(fastnn.is_autocast_enabled("cpu")))
        worker.start()
        worker.join()
        assert seen == [False]
    assert not fastnn.is_autocast_enabled("cpu")
    with pytest.raises(ZeroDivisionError):
        with fastnn.autocast("cpu"):
            1 / 0
    assert not fastnn.is_autocast_enabled("cpu")


def test_decorator_and_old_spelling():
    @fastnn.autocast("cpu")
    def forward(x, w):
        return F.linear(x, w)

    x, w = fastnn.randn(2, 3), fastnn.randn(4, 3)
    assert forward(x, w).dtype == fastnn.bfloat16
    assert F.linear(x, w).dtype == fastnn.float32
    with pytest.warns(FutureWarning, match="deprecated"):
        context = fastnn.cpu.amp.autocast()
    with context:
        assert F.linear(x, w).dtype == fastnn.bfloat16


def test_unsupported_dtype_device_and_bad_type_as_torch():
    x, w = fastnn.randn(2, 3), fastnn.randn(4, 3)
    with pytest.warns(UserWarning, match="target dtype is not supported. Disabling autocast"):
        context = fastnn.autocast("cpu", dtype=fastnn.float32)
    with context:
        assert F.linear(x, w).dtype == fastnn.float32
    with pytest.warns(UserWarning, match="CUDA is not available"):
        context = fastnn.autocast("cuda")
    with context:
        assert not fastnn.is_autocast_enabled("cuda") and F.linear(x, w).dtype == fastnn.float32
    with pytest.raises(RuntimeError, match="device type at start of device string: xyz"):
        fastnn.autocast("xyz")
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        fastnn.autocast(0)


OPS = {
    "linear": lambda m, x, w, c, t: m.nn.functional.linear(x, w),
    "matmul": lambda m, x, w, c, t: x @ w.T,
    "conv2d": lambda m, x, w, c, t: m.nn.functional.conv2d(c, m.ones(2, 1, 3, 3)),
    "relu of linear": lambda m, x, w, c, t: m.relu(m.nn.functional.linear(x, w)),
    "softmax of linear": lambda m, x, w, c, t: m.softmax(m.nn.functional.linear(x, w), 1),
    "cross_entropy": lambda m, x, w, c, t: m.nn.functional.cross_entropy(
        m.nn.functional.linear(x, w), t),
    "mse_loss": lambda m, x, w, c, t: m.nn.functional.mse_loss(
        m.nn.functional.linear(x, w), m.zeros(3, 4)),
    "sum": lambda m, x, w, c, t: m.nn.functional.linear(x, w).sum(),
    "add float32": lambda m, x, w, c, t: m.nn.functional.linear(x, w) + m.ones(3, 4),
    "float64 matmul": lambda m, x, w, c, t: x.double() @ w.double().T,
}


@needs_torch
@pytest.mark.parametrize("op", list(OPS))
def test_output_dtypes_follow_torch(op):
    def run(m):
        with m.autocast("cpu", dtype=m.bfloat16):
            out = OPS[op](m, m.ones(3, 5), m.ones(4, 5), m.ones(1, 1, 5, 5),
                          m.tensor([0, 1, 2]))
        return str(out.dtype).split(".")[-1]
    assert run(fastnn) == run(torch)


def _to_torch(a, requires_grad=False):
    return torch.tensor(np.asarray(a), requires_grad=requires_grad)


@needs_torch
@pytest.mark.parametrize("shape", [(1, 784, 256), (37, 100, 10), (256, 256, 10)])
@pytest.mark.parametrize("fused_relu", [False, True])
def test_linear_forward_and_gradients_match_torch(shape, fused_relu):
    n, fan_in, fan_out = shape
    rng = np.random.default_rng(n + fan_in)
    x = rng.standard_normal((n, fan_in), dtype=np.float32)
    w = rng.standard_normal((fan_out, fan_in), dtype=np.float32) / fan_in ** 0.5
    b = rng.standard_normal(fan_out, dtype=np.float32)
    g = rng.standard_normal((n, fan_out), dtype=np.float32)
    results = []
    for m, wrap in ((fastnn, fastnn.tensor), (torch, _to_torch)):
        xt, wt, bt = (wrap(a, requires_grad=True) for a in (x, w, b))
        with m.autocast("cpu", dtype=m.bfloat16):
            if m is fastnn and fused_relu:
                from fastnn.ops.linear import linear_relu
                y = linear_relu(xt, wt, bt)
            else:
                y = m.nn.functional.linear(xt, wt, bt)
                y = m.relu(y) if fused_relu else y
        y.backward(wrap(g).to(m.bfloat16))
        results.append([np.asarray(t.detach().float().numpy(), np.float64)
                        for t in (y, xt.grad, wt.grad, bt.grad)])
        assert str(y.dtype).endswith("bfloat16")
        assert str(wt.grad.dtype).endswith("float32") and str(xt.grad.dtype).endswith("float32")
    for name, ours, theirs in zip(("output", "x.grad", "weight.grad", "bias.grad"), *results):
        # both sides round the same float32 sums to bfloat16 (8 bits): at most an ulp apart
        scale = np.abs(theirs).max() + 1e-6
        assert np.abs(ours - theirs).max() <= 2 ** -7 * scale, name


@needs_torch
@pytest.mark.parametrize("shapes", [((5, 7), (7, 3)), ((2, 4, 6), (6, 5)), ((3, 4, 6), (3, 6, 2)),
                                    ((6,), (6, 4)), ((4, 6), (6,))])
def test_matmul_matches_torch(shapes):
    rng = np.random.default_rng(len(shapes[0]) * 10 + len(shapes[1]))
    a = rng.standard_normal(shapes[0], dtype=np.float32)
    b = rng.standard_normal(shapes[1], dtype=np.float32)
    results = []
    for m, wrap in ((fastnn, fastnn.tensor), (torch, _to_torch)):
        at, bt = wrap(a, requires_grad=True), wrap(b, requires_grad=True)
        with m.autocast("cpu", dtype=m.bfloat16):
            y = m.matmul(at, bt)
        y.float().sum().backward()
        results.append([t.detach().float().numpy().astype(np.float64)
                        for t in (y, at.grad, bt.grad)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=2 ** -7, atol=2 ** -7)


@needs_torch
def test_conv2d_module_matches_torch():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 9, 9), dtype=np.float32)
    ours, theirs = nn.Conv2d(3, 4, 3, padding=1), torch.nn.Conv2d(3, 4, 3, padding=1)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.detach().numpy()))
        theirs.bias.copy_(torch.tensor(ours.bias.detach().numpy()))
    outs = []
    for m, layer, wrap in ((fastnn, ours, fastnn.tensor), (torch, theirs, _to_torch)):
        with m.autocast("cpu"):
            y = layer(wrap(x))
        assert str(y.dtype).endswith("bfloat16")
        y.float().sum().backward()
        outs.append((y.float().detach().numpy(), layer.weight.grad.numpy()))
        assert str(layer.weight.grad.dtype).endswith("float32")
    np.testing.assert_allclose(outs[0][0], outs[1][0], rtol=2 ** -7, atol=2 ** -6)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=2 ** -6, atol=2 ** -5)


def test_linear_is_the_rounded_product_and_the_fallback_agrees():
    """Without torch: the output is bf16(bf16(x) @ bf16(w)^T + bf16(b)); the numpy backend's
    float32 fallback and the compiled kernel give the same values."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((33, 70), dtype=np.float32)
    w = rng.standard_normal((20, 70), dtype=np.float32)
    b = rng.standard_normal(20, dtype=np.float32)
    exact = (x.astype(bf16).astype(np.float64) @ w.astype(bf16).astype(np.float64).T
             + b.astype(bf16).astype(np.float64))
    outs = {}
    for name in ("cython", "numpy"):
        before = _kernels.call_counts()["gemm_bf16"]
        with backend.using(name), fastnn.autocast("cpu"):
            y = F.linear(fastnn.tensor(x), fastnn.tensor(w), fastnn.tensor(b))
        ran = _kernels.call_counts()["gemm_bf16"] - before
        assert ran == (1 if name == "cython" and _kernels.bf16_supported() else 0)
        outs[name] = y.float().numpy().astype(np.float64)
        np.testing.assert_allclose(outs[name], exact.astype(bf16).astype(np.float64),
                                   rtol=2 ** -7, atol=1e-6)
    np.testing.assert_allclose(outs["cython"], outs["numpy"], rtol=2 ** -7, atol=1e-6)


def test_float16_autocast_rounds_to_half():
    x = fastnn.tensor(np.full((1, 3), 1 + 2 ** -12, np.float32))  # rounds to 1 in half
    w = fastnn.ones(1, 3)
    with fastnn.autocast("cpu", dtype=fastnn.float16):
        y = F.linear(x, w)
    assert y.dtype == fastnn.float16 and float(y) == 3.0


def test_float64_operands_are_not_cast():
    x, w = fastnn.randn(2, 3, dtype=fastnn.float64), fastnn.randn(4, 3, dtype=fastnn.float64)
    with fastnn.autocast("cpu"):
        assert F.linear(x, w).dtype == fastnn.float64
        assert (x @ w.T).dtype == fastnn.float64


def test_short_training_run_under_autocast_learns():
    """The d2l MLP on a synthetic separable problem: loss falls under autocast as in float32."""
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((10, 64), dtype=np.float32) * 2
    labels = rng.integers(0, 10, 512)
    data = centers[labels] + rng.standard_normal((512, 64), dtype=np.float32)
    losses = {}
    for mode in (False, True):
        fastnn.manual_seed(0)
        model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
        opt = fastnn.optim.SGD(model.parameters(), lr=0.1)
        x, y = fastnn.tensor(data), fastnn.tensor(labels)
        for _ in range(30):
            with fastnn.autocast("cpu", enabled=mode):
                loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        assert loss.dtype == fastnn.float32
        assert all(p.grad.dtype == fastnn.float32 for p in model.parameters())
        losses[mode] = float(loss)
    assert losses[True] < 0.2 and abs(losses[True] - losses[False]) < 0.02


def test_bfloat16_tensors_multiply_on_the_bfloat16_gemm_without_autocast():
    """A model.bfloat16() (no autocast): linear and matmul of bfloat16 tensors accumulate in
    float32 on the bfloat16 GEMM and return bfloat16, gradients in bfloat16, as torch's CPU."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((6, 40), dtype=np.float32).astype(bf16)
    w = rng.standard_normal((5, 40), dtype=np.float32).astype(bf16)
    b = rng.standard_normal(5, dtype=np.float32).astype(bf16)
    exact = x.astype(np.float64) @ w.astype(np.float64).T + b.astype(np.float64)
    before = _kernels.call_counts()["gemm_bf16"]
    xt, wt, bt = (fastnn.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.linear(xt, wt, bt)
    z = xt @ wt.T
    assert y.dtype == z.dtype == fastnn.bfloat16
    if _kernels.bf16_supported():
        assert _kernels.call_counts()["gemm_bf16"] - before == 2
    np.testing.assert_allclose(y.detach().float().numpy(),
                               exact.astype(bf16).astype(np.float64), rtol=2 ** -7, atol=1e-6)
    (y.float().sum() + z.float().sum()).backward()
    assert xt.grad.dtype == wt.grad.dtype == bt.grad.dtype == fastnn.bfloat16
    want = np.broadcast_to(2 * x.astype(np.float32).sum(axis=0), (5, 40))
    np.testing.assert_allclose(wt.grad.float().numpy(), want, rtol=2 ** -6, atol=1e-2)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.linear(xt, fastnn.tensor(w.astype(np.float32)))


@needs_torch
def test_state_functions_and_cpu_module_match_torch():
    """set/get/is_* autocast functions, their deprecated CPU spellings (with torch's warning
    category) and the torch.cpu device functions, side by side."""
    for m in (fastnn, torch):
        try:
            m.set_autocast_enabled("cpu", True)
            assert m.is_autocast_enabled("cpu") and not m.is_autocast_enabled()
            m.set_autocast_dtype("cpu", m.float16)
            assert m.get_autocast_dtype("cpu") == m.float16
            with pytest.warns(DeprecationWarning, match="is_autocast_cpu_enabled.. is deprecated"):
                assert m.is_autocast_cpu_enabled()
            with pytest.warns(DeprecationWarning, match="get_autocast_cpu_dtype.. is deprecated"):
                assert m.get_autocast_cpu_dtype() == m.float16
        finally:
            m.set_autocast_enabled("cpu", False)
            m.set_autocast_dtype("cpu", m.bfloat16)
        assert not m.is_autocast_enabled("cpu")
        assert m.get_autocast_dtype("cpu") == m.bfloat16
        assert m.get_autocast_dtype("cuda") == m.float16
    for name in ("is_available", "device_count", "current_device", "synchronize"):
        assert getattr(fastnn.cpu, name)() == getattr(torch.cpu, name)()
    for m in (fastnn, torch):
        with pytest.raises(ValueError, match=r"Expected `device_type` of type `str`, got: "
                                             r"`<class 'int'>`"):
            m.autocast(0)


@pytest.mark.parametrize("name", ["cython", "numba", "numpy"])
def test_bfloat16_gemm_entry_on_every_backend_with_gemm_checks(name):
    """backend.gemm_bf16 on each backend: the same rounded products (the compiled one on
    VDPBF16PS where it can, the others on the float32 GEMM of rounded operands) and gemm's
    checks and messages for bad calls."""
    rng = np.random.default_rng(11)
    a = rng.standard_normal((19, 70), dtype=np.float32)
    b = rng.standard_normal((70, 33), dtype=np.float32)
    exact = a.astype(bf16).astype(np.float64) @ b.astype(bf16).astype(np.float64)
    out = backend.gemm_bf16(a, b, backend=name)
    np.testing.assert_allclose(out, exact, rtol=1e-5, atol=1e-4)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied "
                                           r"\(19x70 and 33x70\)"):
        backend.gemm_bf16(a, b.T, backend=name)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied"):
        backend.gemm(a, b.T, backend=name)
