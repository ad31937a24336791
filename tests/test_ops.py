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
    np.testing.assert_allclose(fused.data, unfused.data, rtol=1e-6, atol=1e-6)
    for got, want in zip(grads, [p.grad.numpy() for p in net.parameters()] + [x.grad.numpy()]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
