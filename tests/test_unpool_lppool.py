"""MaxUnpool1d/2d and LPPool1d/2d against torch (values, gradients, reprs, errors)."""
import numpy as np
import pytest

import fastnn
from conftest import requires_torch
from gradcheck import check_op, raised

try:
    import torch
except ImportError:
    torch = None


def _unpool_round_trip(m, x, kernel, stride, padding, output_size, one_d):
    pool = (m.nn.MaxPool1d if one_d else m.nn.MaxPool2d)(kernel, stride, padding,
                                                         return_indices=True)
    unpool = (m.nn.MaxUnpool1d if one_d else m.nn.MaxUnpool2d)(kernel, stride, padding)
    t = m.tensor(x, requires_grad=True)
    pooled, indices = pool(t)
    out = unpool(pooled, indices, output_size=output_size)
    (out * m.tensor(np.arange(out.numel(), dtype=np.float32).reshape(tuple(out.shape)))) \
        .sum().backward()
    return out.detach().numpy(), t.grad.numpy(), repr(unpool)


@requires_torch
@pytest.mark.parametrize("shape,kernel,stride,padding,output_size", [
    ((2, 3, 6, 7), 2, None, 0, (6, 7)), ((1, 2, 7, 7), 3, 2, 1, None),
    ((2, 1, 5, 5), 2, 2, 0, (5, 5)), ((1, 1, 4, 6), (2, 3), (1, 2), 0, (4, 6)),
    ((2, 3, 9), 3, 2, 1, None), ((1, 2, 8), 2, None, 0, [1, 2, 9])])
def test_max_unpool_inverts_max_pool_as_torch(shape, kernel, stride, padding, output_size):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    one_d = len(shape) == 3
    ours = _unpool_round_trip(fastnn, x, kernel, stride, padding, output_size, one_d)
    theirs = _unpool_round_trip(torch, x, kernel, stride, padding, output_size, one_d)
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])
    assert ours[2] == theirs[2]


@requires_torch
@pytest.mark.parametrize("norm,kernel,stride,ceil", [(2, 2, None, False), (1.5, 3, 1, True),
                                                     (3, (2, 3), (2, 1), False)])
def test_lp_pool_matches_torch(norm, kernel, stride, ceil):
    rng = np.random.default_rng(1)
    x = np.abs(rng.standard_normal((2, 2, 6, 7))) + 0.1  # positive: fractional powers exist
    check_op(lambda a: fastnn.nn.LPPool2d(norm, kernel, stride, ceil)(a), [x],
             torch_fn=lambda a: torch.nn.LPPool2d(norm, kernel, stride, ceil)(a))
    k1 = kernel if isinstance(kernel, int) else kernel[0]
    s1 = stride if stride is None or isinstance(stride, int) else stride[0]
    check_op(lambda a: fastnn.nn.LPPool1d(norm, k1, s1, ceil)(a), [x[0]],
             torch_fn=lambda a: torch.nn.LPPool1d(norm, k1, s1, ceil)(a))
    assert repr(fastnn.nn.LPPool2d(norm, kernel, stride, ceil)) == \
        repr(torch.nn.LPPool2d(norm, kernel, stride, ceil))


@requires_torch
def test_unpool_errors_are_torchs():
    def errors(m):
        F = m.nn.functional
        return raised((lambda: F.max_unpool2d(m.rand(1, 1, 2, 2),
                                              m.zeros(1, 1, 2, 3, dtype=m.int64), 2),
                       lambda: F.max_unpool2d(m.rand(1, 1, 2, 2), m.full((1, 1, 2, 2), 99), 2),
                       lambda: F.max_unpool2d(m.rand(1, 1, 2, 2), m.zeros(1, 1, 2, 2), 2),
                       lambda: F.max_unpool2d(m.rand(1, 1, 2, 2),
                                              m.zeros(1, 1, 2, 2, dtype=m.int64), 2,
                                              output_size=(9, 9)),
                       lambda: F.max_unpool1d(m.rand(1, 1, 2), m.full((1, 1, 2), -1), 2)))
    assert errors(fastnn) == errors(torch)
