"""amax, amin, ravel, broadcast_to, hstack, vstack and movedim against torch (values and
gradients) and by hand."""
import numpy as np
import pytest

import fastnn
from gradcheck import check_op

try:
    import torch
except ImportError:
    torch = None

A = np.random.default_rng(0).permutation(24).reshape(2, 3, 4) * 0.37 - 4.0

CASES = {
    "amax_all": lambda T, x: T.amax(x),
    "amax_dims": lambda T, x: T.amax(x, (0, 2), keepdim=True),
    "amin_dim": lambda T, x: x.amin(1),
    "ravel": lambda T, x: T.ravel(x),
    "broadcast_to": lambda T, x: T.broadcast_to(x[:, :1], (2, 3, 4)) * x,
    "hstack": lambda T, x: T.hstack([x[0], x[1]]),
    "hstack_1d": lambda T, x: T.hstack([x[0, 0], x[1, 1]]),
    "vstack": lambda T, x: T.vstack([x[0, 0], x[1, 1]]),
    "movedim": lambda T, x: T.movedim(x, 0, -1),
    "movedim_many": lambda T, x: x.movedim((0, 1), (2, 0)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch_and_finite_differences(name):
    fn = CASES[name]
    check_op(lambda t: fn(fastnn, t), [A],
             torch_fn=(lambda t: fn(torch, t)) if torch is not None else None)


def test_shapes():
    x = fastnn.zeros(2, 3, 4)
    assert tuple(fastnn.movedim(x, 1, 0).shape) == (3, 2, 4)
    assert tuple(fastnn.moveaxis(x, (0, 1), (2, 0)).shape) == (3, 4, 2)
    assert tuple(fastnn.vstack([x[0], x[1]]).shape) == (6, 4)
    assert tuple(fastnn.amax(x, 1).shape) == (2, 4)
