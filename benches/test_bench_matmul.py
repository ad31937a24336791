"""matmul through each library's public API at the MLP's shapes, in the layouts autograd uses,
and at 1024^3. GFLOP/s = 2*M*N*K / median time."""
import numpy as np
import pytest

from conftest import record

# name: (A shape, B shape, layout) with layout describing the operation timed.
SHAPES = {
    "fwd x@w.T 256x784x256": ((256, 784), (256, 784), "a@b.T"),
    "wgrad g.T@x 256x256x784": ((256, 256), (256, 784), "a.T@b"),
    "igrad g@w 256x256x784": ((256, 256), (256, 784), "a@b"),
    "out 256x256x10": ((256, 256), (256, 10), "a@b"),
    "square 1024^3": ((1024, 1024), (1024, 1024), "a@b"),
}


def flops_of(sa, sb, layout):
    if layout == "a@b.T":
        return 2 * sa[0] * sa[1] * sb[0]
    if layout == "a.T@b":
        return 2 * sa[1] * sa[0] * sb[1]
    return 2 * sa[0] * sa[1] * sb[1]


def product(lib, a, b, layout):
    if layout == "a@b.T":
        return lambda: a @ b.T
    if layout == "a.T@b":
        return lambda: a.T @ b
    return lambda: a @ b


def operands(contender, a, b):
    if contender.startswith("fastnn"):
        import fastnn
        return fastnn.from_numpy(a), fastnn.from_numpy(b)
    if contender == "torch":
        import torch
        return torch.from_numpy(a), torch.from_numpy(b)
    return a, b


@pytest.mark.parametrize("shape", list(SHAPES))
def test_matmul(benchmark, shape, threads, contender, rng):
    sa, sb, layout = SHAPES[shape]
    if contender == "fastnn-numpy":
        pytest.skip("the numpy backend's GEMM is NumPy's (the 'numpy' row)")
    a = rng.standard_normal(sa, dtype=np.float32)
    b = rng.standard_normal(sb, dtype=np.float32)
    x, y = operands(contender, a, b)
    fn = product(contender, x, y, layout)
    record(benchmark, f"matmul {shape}", contender, threads, flops_of(sa, sb, layout))
    out = benchmark(fn)
    expected = product("numpy", a, b, layout)()
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-3, atol=1e-2)
