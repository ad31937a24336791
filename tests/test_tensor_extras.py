"""logical ops, count_nonzero, isin, argwhere, diag, diagonal, trace, masked_select, fmod,
frac, clamp_min/max, nan_to_num, logaddexp, meshgrid, unflatten, bernoulli, multinomial and the
Tensor methods that name existing functions: against torch (values and gradients) and by
hand."""
import numpy as np
import pytest

import fastnn
from gradcheck import assert_same_as_torch, check_op

try:
    import torch
except ImportError:
    torch = None

RNG = np.random.default_rng(0)
M = RNG.standard_normal((3, 4)) * 2
V = RNG.standard_normal(4)
B = RNG.standard_normal((2, 3, 4))

DIFFERENTIABLE = {
    "diag_of_vector": (lambda T, v: T.diag(v), [V]),
    "diag_above": (lambda T, v: T.diag(v, 1), [V]),
    "diag_below": (lambda T, v: v.diag(-2), [V]),
    "diag_of_matrix": (lambda T, m: T.diag(m, 1), [M]),
    "diagonal_3d": (lambda T, b: T.diagonal(b, 0, 1, 2), [B]),
    "diagonal_offset": (lambda T, b: b.diagonal(-1, 2, 0), [B]),
    "trace": (lambda T, m: T.trace(m[:, :3]), [M]),
    "masked_select": (lambda T, m: T.masked_select(m, m > 0.3), [M]),
    "masked_select_broadcast": (lambda T, m: m.masked_select(T.tensor([True, False, True, True])),
                                [M]),
    "fmod": (lambda T, m: T.fmod(m, 1.5), [M]),
    "fmod_tensor": (lambda T, m, v: m.fmod(v), [M, V + 3]),
    "frac": (lambda T, m: T.frac(m), [M]),
    "clamp_min": (lambda T, m: T.clamp_min(m, 0.5), [M]),
    "clamp_max": (lambda T, m: m.clamp_max(0.5), [M]),
    "logaddexp": (lambda T, m, v: T.logaddexp(m, v), [M, V]),
    "meshgrid_ij": (lambda T, v, w: T.stack(T.meshgrid(v, w, indexing="ij")), [V, V[:3]]),
    "meshgrid_xy": (lambda T, v, w: T.stack(T.meshgrid(v, w, indexing="xy")), [V, V[:3]]),
    "unflatten": (lambda T, b: T.unflatten(b, 2, (2, 2)), [B]),
    "maximum_method": (lambda T, m, v: m.maximum(v), [M, V * 3 + 0.1]),
    "minimum_method": (lambda T, m, v: m.minimum(v), [M, V * 3 + 0.1]),
    "where_method": (lambda T, m, v: m.where(m > 0, v), [M, V]),
}


@pytest.mark.parametrize("name", sorted(DIFFERENTIABLE))
def test_values_and_gradients(name):
    fn, arrays = DIFFERENTIABLE[name]
    # fmod/frac jump at whole multiples: the inputs here are at least 0.05 away from them
    check_op(lambda *t: fn(fastnn, *t), arrays,
             torch_fn=(lambda *t: fn(torch, *t)) if torch is not None else None)


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("call", [
    lambda T, a, b: T.logical_and(a > 0, b > 0), lambda T, a, b: (a > 0).logical_or(b > 0),
    lambda T, a, b: T.logical_xor(a > 0, b), lambda T, a, b: T.logical_not(a),
    lambda T, a, b: T.count_nonzero(a > 0), lambda T, a, b: (a > 0).count_nonzero(1),
    lambda T, a, b: T.isin(T.tensor([1, 2, 5]), T.tensor([2, 5, 7])),
    lambda T, a, b: T.argwhere(a > 0), lambda T, a, b: T.nan_to_num(a / (b * 0)),
    lambda T, a, b: T.nan_to_num(a / (b * 0), nan=1.0, posinf=2.0, neginf=-3.0),
    lambda T, a, b: a.remainder(1.5), lambda T, a, b: a.floor_divide(1.5),
])
def test_non_differentiable_match_torch(call):
    a = np.array([[-1.5, 0.0, 2.0], [3.0, -0.5, 0.0]], np.float32)
    b = np.array([[1.0, 0.0, -2.0], [0.5, 0.0, 1.0]], np.float32)
    assert_same_as_torch(call(fastnn, fastnn.tensor(a), fastnn.tensor(b)),
                         call(torch, torch.tensor(a), torch.tensor(b)), rtol=0)


def test_multinomial_frequencies_and_rules():
    fastnn.manual_seed(0)
    draws = fastnn.multinomial(fastnn.tensor([0.2, 0.0, 0.8]), 4000, replacement=True).numpy()
    assert set(np.unique(draws)) == {0, 2} and abs((draws == 2).mean() - 0.8) < 0.03
    rows = fastnn.tensor([[1.0, 1.0, 0.0, 1.0], [0.0, 5.0, 1.0, 0.0]]).multinomial(2)
    assert tuple(rows.shape) == (2, 2) and rows.dtype == fastnn.int64
    for row, picked in zip([[0, 1, 3], [1, 2]], rows.numpy()):
        assert len(set(picked)) == 2 and set(picked) <= set(row)
    with pytest.raises(RuntimeError, match="cannot sample n_sample > prob_dist.size"):
        fastnn.multinomial(fastnn.ones(3), 4)
    with pytest.raises(RuntimeError, match="probability tensor contains either `inf`, `nan` or "
                                           "element < 0"):
        fastnn.multinomial(fastnn.tensor([0.5, -0.1]), 1)
    fastnn.manual_seed(3)
    first = fastnn.multinomial(fastnn.ones(10), 5).numpy()
    fastnn.manual_seed(3)
    assert np.array_equal(first, fastnn.multinomial(fastnn.ones(10), 5).numpy())


def test_bernoulli():
    fastnn.manual_seed(1)
    draws = fastnn.bernoulli(fastnn.full((20000,), 0.3)).numpy()
    assert set(np.unique(draws)) == {0.0, 1.0} and abs(draws.mean() - 0.3) < 0.02
    filled = fastnn.zeros(10000).bernoulli_(0.75).numpy()
    assert abs(filled.mean() - 0.75) < 0.03
    with pytest.raises(RuntimeError, match="Expected p_in >= 0 && p_in <= 1"):
        fastnn.bernoulli(fastnn.tensor([1.5]))


def test_meshgrid_without_indexing_warns_as_torch():
    with pytest.warns(UserWarning, match="it will be required to pass the indexing argument"):
        grids = fastnn.meshgrid(fastnn.arange(2), fastnn.arange(3))
    assert tuple(grids[0].shape) == (2, 3)


def test_lerp_in_place():
    x = fastnn.zeros(3)
    assert x.lerp_(fastnn.ones(3), 0.25).tolist() == [0.25, 0.25, 0.25]


def test_legacy_typed_constructors():
    empty = fastnn.FloatTensor(2, 3)
    assert tuple(empty.shape) == (2, 3) and empty.dtype == fastnn.float32
    longs = fastnn.LongTensor([1, 2])
    assert longs.dtype == fastnn.int64 and longs.tolist() == [1, 2]
    assert isinstance(longs, fastnn.LongTensor) and not isinstance(longs, fastnn.FloatTensor)
    assert longs.type(fastnn.FloatTensor).dtype == fastnn.float32
    assert fastnn.DoubleTensor([[1.5]]).dtype == fastnn.float64
