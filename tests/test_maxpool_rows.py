"""Max pooling's general windows 16 outputs at a time on AVX-512 (kernels/pool.c, issue 12):
values and argmax indices against the NumPy reference on every instruction set, with rows
wider than a vector, every stride (contiguous, stride-2 permute and gathered columns),
dilation, padding, ceil mode, ties, NaN and -inf; and ResNet's stem pooling against torch."""
import numpy as np
import pytest

import fastnn
from fastnn import _kernels, backend
from fastnn.ops.pool import pool_shape
from conftest import requires_torch

ISAS = [i for i in ("generic", "avx2", "avx512") if _kernels.isa_supported(i)]

# (h, w), kernel, stride, padding, dilation, ceil_mode
WINDOWS = [((9, 70), 3, 2, 1, 1, False),   # ResNet's stem on a wide row: 35 outputs a row
           ((5, 40), 3, 1, 1, 1, False),   # stride 1: masked contiguous loads
           ((7, 53), 4, 3, 2, 1, True),    # stride 3: gathered columns, ceil mode
           ((6, 37), 3, 2, 1, 2, False),   # dilation with stride 2
           ((3, 33), 2, 2, 0, 1, True),    # 2x2 whose last window hangs past the row
           ((1, 1), 1, 1, 0, 1, False)]    # one pixel


def _input(hw, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, (2, 3) + hw).astype(np.float32)  # many ties
    flat = x.reshape(-1)
    flat[rng.choice(flat.size, max(1, flat.size // 50), replace=False)] = np.nan
    flat[rng.choice(flat.size, max(1, flat.size // 50), replace=False)] = -np.inf
    return x


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("window", WINDOWS)
def test_values_and_indices_match_the_reference(isa, threads, window):
    hw, k, stride, pad, dil, ceil = window
    x = _input(hw, sum(hw) + k)
    shape = pool_shape(x, (k, k), (stride, stride), (pad, pad), (dil, dil), ceil, "max_pool2d")
    out = (2, 3, shape[5], shape[6])
    results = []
    previous = (_kernels.isa_active(), fastnn.get_num_threads())
    try:
        _kernels.isa_force(isa)
        fastnn.set_num_threads(threads)
        for name in ("cython", "numpy"):
            y, idx = np.empty(out, np.float32), np.empty(out, np.int64)
            backend.maxpool2d_forward(x, y, idx, shape, backend=name)
            results.append((y, idx))
    finally:
        _kernels.isa_force(previous[0])
        fastnn.set_num_threads(previous[1])
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


@requires_torch
def test_resnet_stem_pooling_matches_torch():
    import torch
    x = np.random.default_rng(0).standard_normal((4, 64, 16, 16)).astype(np.float32)
    x[0, 0, 3, 3] = np.nan
    fx, tx = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    a, ia = fastnn.nn.functional.max_pool2d(fx, 3, 2, 1, return_indices=True)
    b, ib = torch.nn.functional.max_pool2d(tx, 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    np.testing.assert_array_equal(ia.numpy(), ib.numpy())
    a.sum().backward()
    b.sum().backward()
    np.testing.assert_array_equal(fx.grad.numpy(), tx.grad.numpy())
