"""torch's smaller functions (fastnn/ops/misc_functions.py) and the aliases: against torch,
values and gradients, and finite differences."""
import numpy as np
import pytest

import fastnn
from gradcheck import assert_same_as_torch, check_op

try:
    import torch
except ImportError:
    torch = None

RNG = np.random.default_rng(1)
M = RNG.permutation(12).reshape(3, 4) * 0.37 - 2.0
P = RNG.uniform(0.1, 0.9, (3, 4))
V = RNG.permutation(6) * 0.5 + 0.25
S = np.array([[2.0, 0.5, 0.1], [0.3, 1.5, -0.4], [0.2, -0.1, 1.2]])

DIFFERENTIABLE = {
    "hypot": (lambda T, a, b: T.hypot(a, b), [M, P]),
    "copysign": (lambda T, a, b: T.copysign(a, b), [M, -M[::-1]]),
    "xlogy": (lambda T, a, b: T.xlogy(a, b), [M, P]),
    "logit": (lambda T, p: T.logit(p), [P]),
    "logit_eps": (lambda T, p: p.logit(0.05), [P]),
    "deg2rad": (lambda T, a: T.deg2rad(a), [M]),
    "rad2deg": (lambda T, a: a.rad2deg(), [M]),
    "fmax": (lambda T, a, b: T.fmax(a, b), [M, M[::-1] + 0.1]),
    "fmin": (lambda T, a, b: a.fmin(b), [M, M[::-1] + 0.1]),
    "logaddexp2": (lambda T, a, b: T.logaddexp2(a, b), [M, P]),
    "logcumsumexp": (lambda T, a: T.logcumsumexp(a, 1), [M]),
    "flipud": (lambda T, a: T.flipud(a), [M]),
    "fliplr": (lambda T, a: a.fliplr(), [M]),
    "hsplit": (lambda T, a: T.cat([p * (i + 1) for i, p in enumerate(T.hsplit(a, 2))], 1), [M]),
    "vsplit": (lambda T, a: T.cat([p * (i + 1) for i, p in enumerate(T.vsplit(a, [1]))]), [M]),
    "inner": (lambda T, a, b: T.inner(a, b), [M, P]),
    "vdot": (lambda T, a, b: T.vdot(a, b), [V, V[::-1]]),
    "dist": (lambda T, a, b: T.dist(a, b), [M, P]),
    "dist_p1": (lambda T, a, b: a.dist(b, 1), [M, P]),
    "renorm": (lambda T, a: a.renorm(2, 0, 1.5), [M]),
    "aminmax": (lambda T, a: T.stack(T.aminmax(a, dim=1)), [M]),
    "matrix_power": (lambda T, a: T.matrix_power(a, 3), [S]),
    "matrix_power_negative": (lambda T, a: a.matrix_power(-2), [S]),
    "diag_embed": (lambda T, a: T.diag_embed(a), [M]),
    "diagflat": (lambda T, a: T.diagflat(a[:2, :2], 1), [M]),
    "cov": (lambda T, a: T.cov(a), [M]),
    "corrcoef": (lambda T, a: T.corrcoef(a), [M]),
    "msort": (lambda T, a: T.msort(a), [M]),
    "nanquantile": (lambda T, a: T.nanquantile(a, 0.4), [M]),
    "ldexp": (lambda T, a: T.ldexp(a, T.tensor([1.0, 2.0, -1.0, 0.0], dtype=a.dtype)), [M]),
    "take": (lambda T, a: T.take(a, T.tensor([[0, 5], [11, -1]])), [M]),
    "sum_to_size": (lambda T, a: a.sum_to_size(1, 4), [M]),
    "unfold": (lambda T, a: a.unfold(1, 2, 1), [M]),
    "unfold_dim0": (lambda T, a: a.unfold(0, 2, 2), [M]),
    "float_power": (lambda T, a: T.float_power(a, 2), [P]),
    "addcmul_method": (lambda T, a, b: a.addcmul(b, b, value=0.5), [M, P]),
    "ger": (lambda T, a, b: T.ger(a, b), [V, V[:3]]),
    "swapdims": (lambda T, a: T.swapdims(a, 0, 1), [M]),
}


@pytest.mark.parametrize("name", sorted(DIFFERENTIABLE))
def test_values_and_gradients(name):
    fn, arrays = DIFFERENTIABLE[name]
    check_op(lambda *t: fn(fastnn, *t), arrays, rtol=3e-2,
             torch_fn=(lambda *t: fn(torch, *t)) if torch is not None else None)


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("call", [
    lambda T, x: T.signbit(x), lambda T, x: T.sgn(x), lambda T, x: T.isposinf(x / 0),
    lambda T, x: T.isneginf(x / 0), lambda T, x: T.isreal(x),
    lambda T, x: T.unique_consecutive(T.tensor([1, 1, 2, 2, 3, 1, 1])),
    lambda T, x: T.unique_consecutive(T.tensor([1, 1, 2, 1]), return_counts=True)[1],
    lambda T, x: T.unique_consecutive(T.tensor([1, 1, 2, 1]), return_inverse=True)[1],
    lambda T, x: T.mode(T.tensor([[1.0, 2.0, 2.0, 3.0], [4.0, 4.0, 1.0, 1.0]])).values,
    lambda T, x: T.mode(T.tensor([1.0, 3.0, 3.0, 2.0])).indices,
    lambda T, x: T.lgamma(T.tensor([0.5, 1.0, 4.5, 10.0])),
    lambda T, x: x.greater(0), lambda T, x: x.less_equal(0.0), lambda T, x: T.not_equal(x, x),
    lambda T, x: T.fix(x * 3), lambda T, x: T.positive(x),
])
def test_non_differentiable_match_torch(call):
    x = np.array([-1.5, -0.0, 0.0, 2.0, 3.5], np.float32)
    ours, theirs = call(fastnn, fastnn.tensor(x)), call(torch, torch.tensor(x))
    assert_same_as_torch(ours, theirs)


def test_predicates_and_in_place_forms():
    x = fastnn.tensor([1.0, -2.0])
    assert x.is_signed() and not fastnn.tensor([1], dtype=fastnn.uint8).is_signed()
    assert x.is_same_size(fastnn.zeros(2)) and not x.is_same_size(fastnn.zeros(3))
    m = fastnn.ones(3, 3)
    assert m.clone().tril_().numpy().tolist() == np.tril(np.ones((3, 3))).tolist()
    assert m.clone().triu_(1).numpy().tolist() == np.triu(np.ones((3, 3)), 1).tolist()
    assert fastnn.tensor([1.0, 2.0, 3.0]).cumsum_(0).tolist() == [1.0, 3.0, 6.0]
    assert fastnn.tensor([1.0, 2.0, 3.0]).cumprod_(0).tolist() == [1.0, 2.0, 6.0]
    out = fastnn.zeros(2, 2).addmm_(fastnn.eye(2), fastnn.ones(2, 2), alpha=2)
    assert out.tolist() == [[2.0, 2.0], [2.0, 2.0]]
