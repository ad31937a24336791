"""The six convolutions of issue 12, forward and both backward passes (the input requires a
gradient, as inside a network), fastnn's compiled kernels against PyTorch (oneDNN) at each
thread count: the first layers of d2l's LeNet and of the `--model cnn` network, and the
channel-heavy middle layers where an im2col GEMM is weakest. For fastnn, the same step with
every pass on im2col + GEMM runs back to back with the default (the stride-1 passes the rules
in kernels/conv.c send to the implicit GEMM) for the vs_im2col ratio."""
import numpy as np
import pytest

from conftest import paired_ratio, record

# (batch, in channels, size) -> out channels, kernel, padding
SHAPES = [((128, 1, 28), 32, 3, 1), ((128, 32, 14), 64, 3, 1), ((256, 1, 28), 6, 5, 2),
          ((256, 6, 14), 16, 5, 0), ((64, 64, 14), 64, 3, 1), ((64, 64, 14), 128, 1, 0)]


def _label(shape):
    (n, cin, size), cout, k, p = shape
    return f"conv2d ({n},{cin},{size},{size})->{cout} {k}x{k} p{p} fwd+both bwd"


@pytest.mark.parametrize("shape", SHAPES, ids=_label)
def test_conv2d_forward_and_both_backward(benchmark, threads, contender, rng, shape):
    if contender not in ("fastnn-cython", "torch"):
        pytest.skip("the issue-12 shapes compare the compiled kernels with PyTorch")
    (n, cin, size), cout, k, p = shape
    out = size + 2 * p - k + 1
    x = rng.standard_normal((n, cin, size, size), dtype=np.float32)
    w = (rng.standard_normal((cout, cin, k, k)) * 0.1).astype(np.float32)
    lib = __import__("torch" if contender == "torch" else "fastnn")
    conv = lib.nn.Conv2d(cin, cout, k, padding=p)
    conv.load_state_dict({"weight": lib.from_numpy(w), "bias": lib.from_numpy(np.zeros(cout, np.float32))})
    xt = lib.tensor(x, requires_grad=True)
    record(benchmark, _label(shape), contender, threads, 3 * 2 * n * cout * out * out * cin * k * k)

    def step():
        conv.weight.grad = conv.bias.grad = xt.grad = None
        conv(xt).sum().backward()
    benchmark(step)
    if contender == "fastnn-cython":
        from fastnn import _kernels

        def on_im2col():
            previous = _kernels.conv_implicit_mode("never")
            try:
                step()
            finally:
                _kernels.conv_implicit_mode(previous)
        # im2col time over the default's, back to back (above 1: the implicit GEMM is faster)
        benchmark.extra_info["vs_im2col"] = paired_ratio(on_im2col, step)
