"""max_pool3d(return_indices=True), max_unpool3d / nn.MaxUnpool3d and lp_pool3d / nn.LPPool3d
against torch (values, flat indices with ties across depth, gradients, round trips), and the
grad_fn names of the 3-D ops fastnn composes from 2-D kernels, as torch's."""
import numpy as np
import pytest

import fastnn

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional peer
    torch = None

X = np.random.default_rng(0).standard_normal((2, 3, 7, 6, 8))
X[0, 0, 1, 1, 1] = X[0, 0, 2, 1, 1] = 9.0  # the same maximum at two depths: the first wins

CASES = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
         dict(kernel_size=(2, 3, 2), stride=(1, 2, 2), dilation=(2, 1, 1), ceil_mode=True)]


def _pool_unpool(lib, kwargs):
    x = lib.tensor(X, requires_grad=True)
    y, idx = lib.nn.functional.max_pool3d(x, return_indices=True, **kwargs)
    (y * y).sum().backward()
    if "dilation" in kwargs:  # (unpooling knows no dilation: its sizes do not reach X's)
        unpooled = lib.zeros(0)
    else:
        unpooled = lib.nn.MaxUnpool3d(kwargs["kernel_size"], kwargs.get("stride"),
                                      kwargs.get("padding", 0))(y.detach(), idx,
                                                                output_size=X.shape[2:])
    single, single_idx = lib.nn.MaxPool3d(return_indices=True, **kwargs)(lib.tensor(X[0]))
    return (y.detach().numpy(), idx.numpy(), x.grad.numpy(), unpooled.numpy(),
            single.numpy(), single_idx.numpy(), y.grad_fn.name(), str(idx.dtype))


@pytest.mark.parametrize("kwargs", CASES)
def test_max_pool3d_indices_and_unpool(kwargs):
    mine = _pool_unpool(fastnn, kwargs)
    y, idx = mine[0], mine[1]
    flat = X.reshape(2, 3, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, idx.reshape(2, 3, -1), 2),
                                  y.reshape(2, 3, -1))  # each index holds its maximum
    if kwargs == CASES[0]:
        assert idx[0, 0, 0, 0, 0] == 1 * 6 * 8 + 1 * 8 + 1  # the first depth of the tie
    if torch is not None:
        for a, b in zip(mine, _pool_unpool(torch, kwargs)):
            if isinstance(a, np.ndarray):
                np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
            else:
                assert a == b.replace("torch.", "fastnn.")


@pytest.mark.skipif(torch is None, reason="torch is not installed")
def test_lp_pool3d_and_grad_fn_names_as_torch():
    found = []
    for lib in (fastnn, torch):
        F = lib.nn.functional
        x = lib.tensor(np.abs(X), requires_grad=True)
        lp = lib.nn.LPPool3d(2, 2)(x)
        lp3 = F.lp_pool3d(x, 3, (2, 2, 2), stride=1)
        (lp.sum() + lp3.sum()).backward()
        y, i = F.max_pool3d(x, 2, return_indices=True)
        names = [F.max_pool3d(x, 2).grad_fn.name(), F.avg_pool3d(x, 2).grad_fn.name(),
                 F.conv3d(x, lib.ones(2, 3, 2, 2, 2, dtype=x.dtype)).grad_fn.name(),
                 F.adaptive_avg_pool3d(x, 2).grad_fn.name(),
                 F.adaptive_max_pool3d(x, 2).grad_fn.name(),
                 F.max_unpool3d(y, i, 2).grad_fn.name()]
        found.append((lp.detach().numpy(), lp3.detach().numpy(), x.grad.numpy(), names))
    for a, b in zip(*found):
        if isinstance(a, np.ndarray):
            np.testing.assert_allclose(a, b, rtol=1e-10)
        else:
            assert a == b


def test_unpool3d_names_an_index_outside_the_volume_as_torch():
    y, idx = fastnn.nn.functional.max_pool3d(fastnn.tensor(X), 3, 2, 1, return_indices=True)
    with pytest.raises(RuntimeError, match=r"output volumes are of size 7x5x7\)"):
        fastnn.nn.functional.max_unpool3d(y, idx, 3, 2, 1)
