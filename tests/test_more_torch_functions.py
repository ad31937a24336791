"""The torch functions the tutorials use that fastnn lacked (found by running
pytorch/tutorials' tensors_deeper_tutorial and the pytorch/examples programs with the import
swapped): scans, order statistics, products, index ops, erfinv, atan2, in-place forms and
in-place shape changes. Each against torch (values and gradients) and finite differences."""
import numpy as np
import pytest

import fastnn
from gradcheck import assert_same_as_torch, check_op

try:
    import torch
except ImportError:
    torch = None

RNG = np.random.default_rng(0)
V = RNG.permutation(7) * 0.41 - 1.3          # distinct values: order statistics are stable
M = RNG.permutation(12).reshape(3, 4) * 0.37 - 2.0
W = np.array([0.5, -1.5, 0.0, 2.0, 0.25])   # with a zero, for cumprod
T3 = RNG.standard_normal((2, 3, 3))

DIFFERENTIABLE = {
    "cumprod": (lambda T, x: T.cumprod(x, 0), [W]),
    "cumprod_matrix": (lambda T, m: m.cumprod(1), [M * 0.5]),
    "cummax_values": (lambda T, x: T.cummax(x, 0).values, [V]),
    "cummin_values": (lambda T, m: m.cummin(1).values, [M]),
    "diff": (lambda T, x: T.diff(x), [V]),
    "diff_n2_dim0": (lambda T, m: m.diff(n=2, dim=0), [M]),
    "kthvalue": (lambda T, x: T.kthvalue(x, 3).values, [V]),
    "median_all": (lambda T, m: T.median(m), [M]),
    "median_dim": (lambda T, m: m.median(1).values, [M]),
    "quantile": (lambda T, x: T.quantile(x, 0.3), [V]),
    "quantile_dim": (lambda T, m: T.quantile(m, T.tensor([0.25, 0.5], dtype=m.dtype), dim=1),
                     [M]),
    "nansum": (lambda T, m: T.nansum(m, 1), [M]),
    "var_mean": (lambda T, m: T.stack(T.var_mean(m, 1)), [M]),
    "std_mean": (lambda T, m: T.stack(T.std_mean(m)), [M]),
    "cross": (lambda T, a, b: T.cross(a, b, dim=1), [T3[0].T, T3[1].T]),
    "tensordot": (lambda T, a, b: T.tensordot(a, b, dims=([1, 2], [0, 1])), [T3, T3[0]]),
    "kron": (lambda T, a, b: T.kron(a, b), [M[:2, :2], M[:2, 2:]]),
    "cdist": (lambda T, a, b: T.cdist(a, b), [M, M[::-1] + 0.3]),
    "addcmul": (lambda T, a, b, c: T.addcmul(a, b, c, value=0.5), [V, V[::-1], V * 2]),
    "addcdiv": (lambda T, a, b, c: T.addcdiv(a, b, c, value=0.5), [V, V[::-1], V * 2 + 4]),
    "block_diag": (lambda T, a, b: T.block_diag(a, b), [M[:2, :2], M[2:, :3]]),
    "atan2": (lambda T, a, b: T.atan2(a, b), [M, M[::-1] + 0.5]),
    "erfinv": (lambda T, x: T.erfinv(x), [np.array([-0.9, -0.3, 0.1, 0.5, 0.95])]),
    "scatter_add": (lambda T, m, s: m.scatter_add(1, T.tensor([[0, 1, 0, 2], [3, 3, 1, 0],
                                                              [2, 2, 2, 2]]), s), [M, M * 2]),
    "index_add": (lambda T, m, s: m.index_add(0, T.tensor([2, 0]), s, alpha=2.0), [M, M[:2]]),
    "index_fill": (lambda T, m: m.index_fill(1, T.tensor([0, 3]), -1.0), [M]),
    "take_along_dim": (lambda T, m: T.take_along_dim(m, T.tensor([[1], [0], [3]]), dim=1), [M]),
    "tensor_split": (lambda T, x: T.cat([p * (i + 1) for i, p in
                                         enumerate(T.tensor_split(x, 3))]), [V]),
    "rot90": (lambda T, m: T.rot90(m, 1, (0, 1)), [M]),
    "rot90_k3": (lambda T, m: m.rot90(3, (1, 0)), [M]),
    "rot90_k2": (lambda T, m: m.rot90(2), [M]),
    "column_stack": (lambda T, x: T.column_stack([x, x * 2]), [V]),
    "dstack": (lambda T, m: T.dstack([m, m]), [M]),
    "sin_in_place": (lambda T, x: (x * 1).sin_(), [V]),
    "square_in_place": (lambda T, x: (x * 1).square_(), [V]),
    "cartesian_prod": (lambda T, a, b: T.cartesian_prod(a, b), [V[:3], V[3:5]]),
    "combinations": (lambda T, x: T.combinations(x, 2), [V[:4]]),
}


@pytest.mark.parametrize("name", sorted(DIFFERENTIABLE))
def test_values_and_gradients(name):
    fn, arrays = DIFFERENTIABLE[name]
    check_op(lambda *t: fn(fastnn, *t), arrays, rtol=3e-2,
             torch_fn=(lambda *t: fn(torch, *t)) if torch is not None else None)


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("call", [
    lambda T: T.bitwise_xor(T.tensor([1, 5, 11]), T.tensor([2, 7, 10])),
    lambda T: T.bitwise_and(T.tensor([12]), T.tensor([10])),
    lambda T: T.bitwise_not(T.tensor([True, False])),
    lambda T: T.histc(T.tensor([1.0, 2.0, 1.0, 2.5]), bins=4, min=0, max=3),
    lambda T: T.histc(T.tensor([1.0, 2.0, 1.0, 2.5]), bins=3),
    lambda T: T.searchsorted(T.tensor([1.0, 3.0, 5.0]), T.tensor([2.0, 3.0, 6.0])),
    lambda T: T.searchsorted(T.tensor([1.0, 3.0, 5.0]), T.tensor([3.0]), right=True),
    lambda T: T.bucketize(T.tensor([2.0, 4.0]), T.tensor([1.0, 3.0, 5.0])),
    lambda T: T.triu_indices(3, 4, 1), lambda T: T.tril_indices(3, 3),
    lambda T: T.heaviside(T.tensor([-1.0, 0.0, 2.0]), T.tensor([0.5])),
    lambda T: T.cummax(T.tensor([1.0, 3.0, 2.0, 3.0]), 0).indices,
    lambda T: T.cummin(T.tensor([2.0, 1.0, 1.0, 3.0]), 0).indices,
    lambda T: T.median(T.tensor([[1.0, 5.0, 3.0, 2.0]]), 1).indices,
    lambda T: T.nanmean(T.tensor([1.0, float("nan"), 3.0])),
    lambda T: T.atleast_2d(T.tensor(1.0)), lambda T: T.atleast_3d(T.ones(2, 3)),
])
def test_non_differentiable_match_torch(call):
    ours, theirs = call(fastnn), call(torch)
    assert_same_as_torch(ours, theirs)


@pytest.mark.skipif(torch is None, reason="torch is not installed")
def test_legacy_svd_and_in_place_shape_changes():
    m = np.array([[3.0, 1.0], [1.0, 2.0], [0.5, -1.0]], np.float32)
    u, s, v = fastnn.svd(fastnn.tensor(m))
    np.testing.assert_allclose((u.numpy() * s.numpy()) @ v.numpy().T, m, atol=1e-5)
    np.testing.assert_allclose(s.numpy(), torch.svd(torch.tensor(m)).S.numpy(), rtol=1e-5)
    x = fastnn.rand(3, 4)
    assert tuple(x.unsqueeze_(0).shape) == (1, 3, 4) and tuple(x.squeeze_(0).shape) == (3, 4)
    assert tuple(x.t_().shape) == (4, 3) and tuple(x.transpose_(0, 1).shape) == (3, 4)
    base = fastnn.zeros(2, 3)
    view = base[0]
    view.unsqueeze_(0)
    view.fill_(1.0)
    assert base.numpy()[0].tolist() == [1.0, 1.0, 1.0]  # still a view of base
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used "
                                           "in an in-place operation"):
        fastnn.zeros(2, requires_grad=True).unsqueeze_(0)


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("change", [lambda t: t.unsqueeze_(0), lambda t: t.t_(),
                                    lambda t: t.transpose_(0, 1), lambda t: t.squeeze_(1),
                                    lambda t: t[1:].unsqueeze_(0)])
def test_in_place_shape_changes_in_the_graph_are_recorded_as_torch(change):
    def run(lib):
        x = lib.tensor(np.arange(1.0, 4.0).reshape(3, 1), requires_grad=True)
        y = x * 2
        z = change(y)
        (z * lib.tensor(np.arange(z.numel(), dtype=np.float64).reshape(z.shape))).sum().backward()
        return tuple(z.shape), x.grad.numpy(), z.grad_fn.name()

    mine, theirs = run(fastnn), run(torch)
    assert mine[0] == theirs[0]
    # (a view's grad_fn is regenerated from its base on each access: AsStridedBackward0)
    assert mine[2] == theirs[2] or mine[2] == "AsStridedBackward0"
    np.testing.assert_allclose(mine[1], theirs[1])


def test_fill_of_a_graph_tensor_gives_zero_gradient_not_none():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    y.fill_(3.0)
    y.sum().backward()
    assert x.grad is not None and x.grad.numpy().tolist() == [0.0, 0.0]


def test_random_fills_and_is_nonzero():
    fastnn.manual_seed(0)
    draws = fastnn.zeros(5000).random_(0, 5).numpy()
    assert set(np.unique(draws)) == {0, 1, 2, 3, 4}
    assert abs(fastnn.zeros(20000).exponential_(2.0).numpy().mean() - 0.5) < 0.02
    eye = fastnn.zeros(3, 3).fill_diagonal_(2.0)
    assert eye.numpy().tolist() == (2 * np.eye(3)).tolist()
    assert fastnn.tensor([1]).is_nonzero() and not fastnn.tensor([0.0]).is_nonzero()
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        fastnn.tensor([1, 2]).is_nonzero()


def test_module_level_in_place_functions():
    x = fastnn.tensor([0.0, np.pi / 2])
    assert fastnn.sin_(x) is x and np.allclose(x.numpy(), [0.0, 1.0])
    assert fastnn.abs_(fastnn.tensor([-2.0])).tolist() == [2.0]
