"""Forward and backward of every op: finite differences always, torch when installed."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn.ops.linear import linear_relu
from conftest import HAS_TORCH
from gradcheck import check_op

if HAS_TORCH:
    import torch
    import torch.nn.functional as TF
else:
    torch = TF = None

R = np.random.default_rng(42)


def rand(*shape, low=None):
    x = R.standard_normal(shape).astype(np.float32)
    if low is not None:  # keep away from kinks/poles (|x| >= low) for finite differences
        x = np.where(np.abs(x) < low, np.sign(x + 1e-9) * low, x) + 0
    return x


def pos(*shape):
    return (R.random(shape) + 0.5).astype(np.float32)


LABELS = np.array([1, 0, 3, 3, 2])


def _relu_inputs_away_from_kink():
    """x, w with every entry of x @ w at least 0.1 from 0, so finite differences of a ReLU
    after the product never straddle the kink."""
    rng = np.random.default_rng(7)
    while True:
        x = rng.standard_normal((3, 4)).astype(np.float32)
        w = rng.standard_normal((4, 5)).astype(np.float32)
        if np.abs(x @ w).min() > 0.1:
            return x, w


# name, fastnn function, torch function, inputs
OPS = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, [rand(3, 4), rand(4)]),
    ("add_column", lambda a, b: a + b, lambda a, b: a + b, [rand(3, 1), rand(1, 4)]),
    ("add_scalar", lambda a: 2.5 + a, lambda a: 2.5 + a, [rand(2, 3)]),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, [rand(2, 3), rand(3)]),
    ("rsub", lambda a: 1 - a, lambda a: 1 - a, [rand(2, 3)]),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, [rand(3, 4), rand(3, 1)]),
    ("mul_fn", lambda a, b: fastnn.mul(a, b), lambda a, b: torch.mul(a, b), [rand(5), rand(5)]),
    ("div", lambda a, b: a / b, lambda a, b: a / b, [rand(3, 4), pos(4)]),
    ("rdiv", lambda a: 2 / a, lambda a: 2 / a, [pos(3)]),
    ("neg", lambda a: -a, lambda a: -a, [rand(4)]),
    ("pow2", lambda a: a ** 2, lambda a: a ** 2, [rand(3, 2)]),
    ("pow_half", lambda a: a ** 0.5, lambda a: a ** 0.5, [pos(3, 2)]),
    ("matmul", lambda a, b: a @ b, lambda a, b: a @ b, [rand(4, 5), rand(5, 3)]),
    ("matmul_vec_mat", lambda a, b: a @ b, lambda a, b: a @ b, [rand(5), rand(5, 3)]),
    ("matmul_mat_vec", lambda a, b: a @ b, lambda a, b: a @ b, [rand(4, 5), rand(5)]),
    ("matmul_dot", lambda a, b: a @ b, lambda a, b: a @ b, [rand(5), rand(5)]),
    ("matmul_batched", lambda a, b: a @ b, lambda a, b: a @ b, [rand(2, 3, 4), rand(4, 2)]),
    ("matmul_broadcast", lambda a, b: a @ b, lambda a, b: a @ b, [rand(2, 1, 3, 4), rand(3, 4, 2)]),
    ("matmul_transposed", lambda a, b: a @ b.T, lambda a, b: a @ b.T, [rand(3, 4), rand(5, 4)]),
    ("mm", lambda a, b: fastnn.mm(a, b), lambda a, b: torch.mm(a, b), [rand(2, 3), rand(3, 2)]),
    ("relu", lambda a: a.relu(), lambda a: a.relu(), [rand(4, 5, low=0.05)]),
    ("exp", lambda a: a.exp(), lambda a: a.exp(), [rand(3, 3)]),
    ("log", lambda a: a.log(), lambda a: a.log(), [pos(3, 3)]),
    ("abs", lambda a: a.abs(), lambda a: a.abs(), [rand(6, low=0.05)]),
    ("maximum", lambda a, b: fastnn.max(a, b), lambda a, b: torch.max(a, b),
     [rand(3, 4), rand(3, 4)]),
    ("sum", lambda a: a.sum(), lambda a: a.sum(), [rand(3, 4)]),
    ("sum_dim", lambda a: a.sum(dim=1), lambda a: a.sum(dim=1), [rand(3, 4)]),
    ("sum_axis_keepdims", lambda a: a.sum(axis=0, keepdims=True),
     lambda a: a.sum(dim=0, keepdim=True), [rand(3, 4)]),
    ("mean", lambda a: a.mean(), lambda a: a.mean(), [rand(3, 4)]),
    ("mean_dim", lambda a: a.mean(dim=-1, keepdim=True), lambda a: a.mean(dim=-1, keepdim=True),
     [rand(2, 3, 4)]),
    ("max", lambda a: a.max(), lambda a: a.max(), [rand(3, 4)]),
    ("max_dim", lambda a: a.max(dim=1).values, lambda a: a.max(dim=1).values, [rand(3, 4)]),
    ("max_dim_keepdim", lambda a: a.max(0, keepdim=True)[0],
     lambda a: a.max(0, keepdim=True)[0], [rand(3, 4)]),
    ("reshape", lambda a: a.reshape(6, -1), lambda a: a.reshape(6, -1), [rand(3, 4)]),
    ("view_flatten", lambda a: a.view(a.shape[0], -1), lambda a: a.view(a.shape[0], -1),
     [rand(2, 3, 4)]),
    ("flatten", lambda a: a.flatten(1), lambda a: a.flatten(1), [rand(2, 3, 2)]),
    ("transpose", lambda a: a.transpose(0, 1), lambda a: a.transpose(0, 1), [rand(3, 4)]),
    ("T", lambda a: a.T * 1, lambda a: a.T * 1, [rand(3, 4)]),
    ("getitem_slice", lambda a: a[1:, ::2], lambda a: a[1:, ::2], [rand(4, 5)]),
    ("getitem_int", lambda a: a[2], lambda a: a[2], [rand(4, 5)]),
    ("getitem_repeated", lambda a: a[[0, 2, 0]], lambda a: a[[0, 2, 0]], [rand(4, 3)]),
    ("getitem_mask", lambda a: a[a.detach() > 0], lambda a: a[a.detach() > 0], [rand(4, 3)]),
    ("linear", lambda x, w, b: F.linear(x, w, b), lambda x, w, b: TF.linear(x, w, b),
     [rand(4, 3), rand(5, 3), rand(5)]),
    ("linear_3d", lambda x, w, b: F.linear(x, w, b), lambda x, w, b: TF.linear(x, w, b),
     [rand(2, 4, 3), rand(5, 3), rand(5)]),
    ("linear_no_bias", lambda x, w: F.linear(x, w), lambda x, w: TF.linear(x, w),
     [rand(4, 3), rand(2, 3)]),
    ("linear_relu_fused", lambda x, w, b: linear_relu(x, w, b),
     lambda x, w, b: TF.linear(x, w, b).relu(), [rand(4, 3), rand(5, 3), rand(5, low=0.3)]),
    ("min", lambda a: a.min(), lambda a: a.min(), [rand(3, 4)]),
    ("min_dim", lambda a: a.min(dim=0).values, lambda a: a.min(dim=0).values, [rand(3, 4)]),
    ("cumsum", lambda a: a.cumsum(1), lambda a: a.cumsum(1), [rand(3, 4)]),
    ("cumsum_axis0", lambda a: fastnn.cumsum(a, 0), lambda a: torch.cumsum(a, 0), [rand(3, 4)]),
    ("dot", lambda a, b: fastnn.dot(a, b), lambda a, b: torch.dot(a, b), [rand(6), rand(6)]),
    ("mv", lambda a, v: fastnn.mv(a, v), lambda a, v: torch.mv(a, v), [rand(3, 5), rand(5)]),
    ("norm_vector", lambda a: a.norm(), lambda a: a.norm(), [rand(7)]),
    ("norm_frobenius", lambda a: a.norm(), lambda a: a.norm(), [rand(3, 4)]),
    ("norm_p1", lambda a: a.norm(p=1), lambda a: a.norm(p=1), [rand(3, 4, low=0.05)]),
    ("norm_dim", lambda a: a.norm(dim=1), lambda a: a.norm(dim=1), [rand(3, 4)]),
    ("l1_as_abs_sum", lambda a: a.abs().sum(), lambda a: a.abs().sum(), [rand(5, low=0.05)]),
    ("sqrt", lambda a: a.sqrt(), lambda a: a.sqrt(), [pos(3, 2)]),
    ("pow_tensor_method", lambda a: a.pow(3), lambda a: a.pow(3), [rand(4)]),
    ("clamp", lambda a: a.clamp(-0.5, 0.5), lambda a: a.clamp(-0.5, 0.5), [rand(4, 4, low=0.05)]),
    ("clamp_min", lambda a: fastnn.clamp(a, min=0.1), lambda a: torch.clamp(a, min=0.1),
     [rand(6, low=0.05) + 0.03]),
    ("where", lambda a, b: fastnn.where(a.detach() > 0, a, b),
     lambda a, b: torch.where(a.detach() > 0, a, b), [rand(3, 4), rand(4)]),
    ("minimum", lambda a, b: fastnn.minimum(a, b), lambda a, b: torch.minimum(a, b),
     [rand(3, 4), rand(3, 4)]),
    ("sigmoid", lambda a: a.sigmoid(), lambda a: a.sigmoid(), [rand(3, 4) * 4]),
    ("tanh", lambda a: a.tanh(), lambda a: a.tanh(), [rand(3, 4)]),
    ("leaky_relu", lambda a: F.leaky_relu(a, 0.2), lambda a: TF.leaky_relu(a, 0.2),
     [rand(3, 4, low=0.05)]),
    ("softmax", lambda a: F.softmax(a, dim=1), lambda a: TF.softmax(a, dim=1), [rand(3, 5)]),
    ("softmax_dim0", lambda a: a.softmax(0), lambda a: a.softmax(0), [rand(3, 5)]),
    ("log_softmax", lambda a: F.log_softmax(a, dim=1), lambda a: TF.log_softmax(a, dim=1),
     [rand(3, 5)]),
    ("squeeze", lambda a: a.squeeze(1), lambda a: a.squeeze(1), [rand(3, 1, 2)]),
    ("squeeze_all", lambda a: a.squeeze(), lambda a: a.squeeze(), [rand(1, 3, 1)]),
    ("unsqueeze", lambda a: a.unsqueeze(-1), lambda a: a.unsqueeze(-1), [rand(3, 2)]),
    ("permute", lambda a: a.permute(2, 0, 1), lambda a: a.permute(2, 0, 1), [rand(2, 3, 4)]),
    ("cat", lambda a, b: fastnn.cat([a, b], dim=1), lambda a, b: torch.cat([a, b], dim=1),
     [rand(2, 3), rand(2, 2)]),
    ("stack", lambda a, b: fastnn.stack([a, b], dim=1), lambda a, b: torch.stack([a, b], dim=1),
     [rand(2, 3), rand(2, 3)]),
    ("mse_loss", lambda a, b: F.mse_loss(a, b), lambda a, b: TF.mse_loss(a, b),
     [rand(4, 3), rand(4, 3)]),
    ("mse_loss_none", lambda a, b: F.mse_loss(a, b, reduction="none"),
     lambda a, b: TF.mse_loss(a, b, reduction="none"), [rand(4, 3), rand(4, 3)]),
    ("l1_loss_sum", lambda a, b: F.l1_loss(a, b, reduction="sum"),
     lambda a, b: TF.l1_loss(a, b, reduction="sum"), [rand(5) + 3, rand(5)]),
    ("bce_with_logits", lambda a, b: F.binary_cross_entropy_with_logits(a, b),
     lambda a, b: TF.binary_cross_entropy_with_logits(a, b),
     [rand(4, 3) * 5, (R.random((4, 3)) > 0.5).astype(np.float32)]),
    ("nll_loss", lambda a: F.nll_loss(F.log_softmax(a, dim=1), fastnn.tensor(LABELS)),
     lambda a: TF.nll_loss(TF.log_softmax(a, dim=1), torch.tensor(LABELS)), [rand(5, 4)]),
    ("cross_entropy_label_smoothing",
     lambda x: F.cross_entropy(x, fastnn.tensor(LABELS), label_smoothing=0.1),
     lambda x: TF.cross_entropy(x, torch.tensor(LABELS), label_smoothing=0.1), [rand(5, 4)]),
    ("cross_entropy_mean", lambda x: F.cross_entropy(x, fastnn.tensor(LABELS)),
     lambda x: TF.cross_entropy(x, torch.tensor(LABELS)), [rand(5, 4)]),
    ("cross_entropy_sum", lambda x: F.cross_entropy(x, fastnn.tensor(LABELS), reduction="sum"),
     lambda x: TF.cross_entropy(x, torch.tensor(LABELS), reduction="sum"), [rand(5, 4)]),
    ("cross_entropy_none", lambda x: F.cross_entropy(x, fastnn.tensor(LABELS), reduction="none"),
     lambda x: TF.cross_entropy(x, torch.tensor(LABELS), reduction="none"), [rand(5, 4)]),
    ("cross_entropy_unbatched", lambda x: F.cross_entropy(x, fastnn.tensor(2)),
     lambda x: TF.cross_entropy(x, torch.tensor(2)), [rand(4)]),
    ("composite_mlp", lambda x, w1, w2: ((x @ w1).relu() @ w2).exp().mean(dim=0).sum(),
     lambda x, w1, w2: ((x @ w1).relu() @ w2).exp().mean(dim=0).sum(),
     [*_relu_inputs_away_from_kink(), rand(5, 2) * 0.3]),
    # reordering, repeating, splitting and selecting (fastnn/ops/manipulation.py)
    ("flip", lambda x: x.flip(0, 2), lambda x: x.flip(0, 2), [rand(2, 3, 4)]),
    ("flip_fn", lambda x: fastnn.flip(x, [1]), lambda x: torch.flip(x, [1]), [rand(3, 4)]),
    ("roll", lambda x: x.roll(1, 1), lambda x: x.roll(1, 1), [rand(3, 4)]),
    ("roll_dims", lambda x: x.roll((2, -1), (0, 1)), lambda x: x.roll((2, -1), (0, 1)),
     [rand(3, 4)]),
    ("roll_flat", lambda x: fastnn.roll(x, 5), lambda x: torch.roll(x, 5), [rand(3, 4)]),
    ("repeat", lambda x: x.repeat(2, 1, 3), lambda x: x.repeat(2, 1, 3), [rand(3, 2)]),
    ("tile", lambda x: fastnn.tile(x, (2,)), lambda x: torch.tile(x, (2,)), [rand(3, 2)]),
    ("chunk", lambda x: x.chunk(3, 1)[1] * 2, lambda x: x.chunk(3, 1)[1] * 2, [rand(2, 7)]),
    ("split", lambda x: fastnn.cat(x.split([1, 3], 1)[::-1], 1),
     lambda x: torch.cat(x.split([1, 3], 1)[::-1], 1), [rand(2, 4)]),
    ("split_size", lambda x: x.split(2)[-1], lambda x: x.split(2)[-1], [rand(5, 2)]),
    ("index_select", lambda x: x.index_select(1, fastnn.tensor([2, 0, 2])),
     lambda x: x.index_select(1, torch.tensor([2, 0, 2])), [rand(3, 4)]),
    ("gather", lambda x: x.gather(1, fastnn.tensor([[0, 0], [3, 1], [2, 2]])),
     lambda x: x.gather(1, torch.tensor([[0, 0], [3, 1], [2, 2]])), [rand(3, 4)]),
    ("sort", lambda x: x.sort(1, descending=True).values,
     lambda x: x.sort(1, descending=True).values, [rand(3, 5)]),
    ("topk", lambda x: x.topk(2).values, lambda x: x.topk(2).values, [rand(3, 5)]),
    ("topk_smallest", lambda x: x.topk(2, dim=0, largest=False).values,
     lambda x: x.topk(2, dim=0, largest=False).values, [rand(4, 3)]),
    # statistics (fastnn/ops/statistics.py)
    ("prod", lambda x: x.prod(), lambda x: x.prod(), [rand(2, 3)]),
    ("prod_dim", lambda x: x.prod(1, keepdim=True), lambda x: x.prod(1, keepdim=True),
     [rand(3, 4)]),
    ("prod_with_zero", lambda x: (x * fastnn.tensor([1.0, 0.0, 1.0])).prod(1),
     lambda x: (x * torch.tensor([1.0, 0.0, 1.0])).prod(1), [rand(2, 3)]),
    ("var", lambda x: x.var(), lambda x: x.var(), [rand(3, 4)]),
    ("var_dim_biased", lambda x: x.var(1, unbiased=False), lambda x: x.var(1, unbiased=False),
     [rand(3, 4)]),
    ("std_correction", lambda x: x.std(0, correction=0, keepdim=True),
     lambda x: x.std(0, correction=0, keepdim=True), [rand(3, 4)]),
    ("logsumexp", lambda x: x.logsumexp(1), lambda x: x.logsumexp(1), [rand(3, 4) * 30]),
    ("outer", lambda a, b: fastnn.outer(a, b), lambda a, b: torch.outer(a, b), [rand(3), rand(4)]),
    ("bmm", lambda a, b: fastnn.bmm(a, b), lambda a, b: torch.bmm(a, b),
     [rand(2, 3, 4), rand(2, 4, 2)]),
    ("floor_is_flat", lambda x: x.floor() + x, lambda x: x.floor() + x, [rand(3) * 3 + 0.5]),
    ("repeat_interleave", lambda x: x.repeat_interleave(2, dim=1),
     lambda x: x.repeat_interleave(2, dim=1), [rand(2, 3)]),
    ("repeat_interleave_counts", lambda x: fastnn.repeat_interleave(x, fastnn.tensor([1, 0, 3])),
     lambda x: torch.repeat_interleave(x, torch.tensor([1, 0, 3])), [rand(3)]),
    ("einsum_matmul", lambda a, b: fastnn.einsum("ij,jk->ik", a, b),
     lambda a, b: torch.einsum("ij,jk->ik", a, b), [rand(3, 4), rand(4, 2)]),
    ("einsum_batched", lambda a, b: fastnn.einsum("bij,bjk->bik", a, b),
     lambda a, b: torch.einsum("bij,bjk->bik", a, b), [rand(2, 3, 4), rand(2, 4, 2)]),
    ("einsum_implicit_trace_free", lambda a, b: fastnn.einsum("ij,kj", a, b),
     lambda a, b: torch.einsum("ij,kj", a, b), [rand(3, 4), rand(2, 4)]),
    ("einsum_sum_out", lambda a: fastnn.einsum("ijk->j", a), lambda a: torch.einsum("ijk->j", a),
     [rand(2, 3, 4)]),
    ("einsum_outer_only_here", lambda a, b: fastnn.einsum("i,j->i", a, b),
     lambda a, b: torch.einsum("i,j->i", a, b), [rand(3), rand(4)]),
    ("einsum_ellipsis_broadcast", lambda a, b: fastnn.einsum("...ij,...jk->...ik", a, b),
     lambda a, b: torch.einsum("...ij,...jk->...ik", a, b), [rand(2, 1, 3, 4), rand(5, 4, 2)]),
    ("einsum_three", lambda a, b, c: fastnn.einsum("ij,jk,k->i", a, b, c),
     lambda a, b, c: torch.einsum("ij,jk,k->i", a, b, c), [rand(3, 4), rand(4, 5), rand(5)]),
]


@pytest.mark.parametrize("name,fn,torch_fn,inputs", OPS, ids=[op[0] for op in OPS])
def test_op(name, fn, torch_fn, inputs, backend_name):
    check_op(fn, inputs, torch_fn if HAS_TORCH else None)


def test_relu_gradient_at_zero_is_zero():
    x = fastnn.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0])


def test_cross_entropy_huge_logits_through_autograd():
    x = fastnn.tensor([[1e4, 0.0, -1e4], [100.0, 1000.0, 0.0]], requires_grad=True)
    loss = F.cross_entropy(x, fastnn.tensor([0, 1]))
    loss.backward()
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx(0.0, abs=1e-6)
    assert np.all(np.isfinite(x.grad.numpy()))


def test_max_dim_returns_values_and_indices():
    x = fastnn.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(values.numpy(), [5.0, 7.0])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    assert indices.dtype == np.int64


def test_sequential_fuses_linear_relu_with_unchanged_results(backend_name, monkeypatch):
    from fastnn.ops import linear as linear_ops

    calls = []
    original = linear_ops.LinearReLU.forward
    monkeypatch.setattr(linear_ops.LinearReLU, "forward",
                        staticmethod(lambda *a: calls.append(1) or original(*a)))
    net = fastnn.nn.Sequential(fastnn.nn.Linear(6, 5), fastnn.nn.ReLU(), fastnn.nn.Linear(5, 2))
    x = fastnn.tensor(rand(7, 6), requires_grad=True)
    fused = net(x)
    fused.sum().backward()
    assert calls, "Sequential did not use the fused Linear+ReLU op"
    grads = [p.grad.numpy().copy() for p in net.parameters()] + [x.grad.numpy().copy()]
    net.zero_grad()
    x.grad = None
    unfused = net[2](net[1](net[0](x)))  # the same layers called one by one
    unfused.sum().backward()
    np.testing.assert_allclose(fused._data, unfused._data, rtol=1e-6, atol=1e-6)
    for got, want in zip(grads, [p.grad.numpy() for p in net.parameters()] + [x.grad.numpy()]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_bce_with_logits_is_stable_for_large_logits():
    x = fastnn.tensor([[100.0, -100.0, 0.0]], requires_grad=True)
    y = fastnn.tensor([[1.0, 0.0, 1.0]])
    loss = F.binary_cross_entropy_with_logits(x, y)
    loss.backward()
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx(np.log(2) / 3, rel=1e-5)


def test_mm_is_2d_only_and_loss_shapes_must_match():
    with pytest.raises(RuntimeError, match="must be a matrix"):
        fastnn.mm(fastnn.randn(3), fastnn.randn(3, 2))
    with pytest.raises(RuntimeError, match="1D tensors expected"):
        fastnn.dot(fastnn.randn(2, 2), fastnn.randn(2))
    with pytest.warns(UserWarning, match="different to the input size"), \
            pytest.raises(RuntimeError, match=r"The size of tensor a \(2\) must match the size "
                                              r"of tensor b \(3\) at non-singleton dimension 1"):
        F.mse_loss(fastnn.randn(3, 2), fastnn.randn(3))  # torch warns, then fails to broadcast
    with pytest.raises(RuntimeError, match="Sizes of tensors must match"):
        fastnn.cat([fastnn.randn(2, 3), fastnn.randn(3, 2)], dim=0)


def test_creation_functions():
    assert fastnn.eye(3).numpy().tolist() == np.eye(3).tolist()
    assert fastnn.arange(5).dtype == np.int64 and fastnn.arange(0, 1, 0.25).numel() == 4
    assert fastnn.zeros_like(fastnn.randn(2, 3)).shape == (2, 3)
    assert fastnn.ones_like(fastnn.randn(2)).numpy().tolist() == [1.0, 1.0]
    fastnn.manual_seed(0)
    r = fastnn.rand(1000)
    assert 0 <= r.numpy().min() and r.numpy().max() < 1
    n = fastnn.normal(1.0, 0.01, size=(2000,))
    assert n.numpy().mean() == pytest.approx(1.0, abs=1e-3) and n.numpy().std() == pytest.approx(0.01, rel=0.1)


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
@pytest.mark.parametrize("op", ["sum", "mean"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_full_reductions_of_large_tensors_match_torch(op, keepdim):
    """sum()/mean() over every element of a float32 tensor from 16 Ki elements run on the
    backend's sum kernel (kernels/reduce.c); the value, dtype, shape (keepdim) and gradient
    are torch's, and the kernel ran. A 0-d result without keepdim, as torch's."""
    import torch
    from fastnn import _kernels
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((64, 33, 5, 7)) + 0.25).astype(np.float32)  # 73,920 elements
    ours = fastnn.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    before = _kernels.call_counts()["sum"]
    got = getattr(ours, op)(dim=None, keepdim=keepdim) if keepdim else getattr(ours, op)()
    want = getattr(theirs, op)(dim=tuple(range(4)), keepdim=True) if keepdim \
        else getattr(theirs, op)()
    assert _kernels.call_counts()["sum"] == before + 1
    assert tuple(got.shape) == tuple(want.shape) and got.dtype == fastnn.float32
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=2e-6)
    (got * 3.0).sum().backward()
    (want * 3.0).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6)
