"""The 60-minute blitz's "Neural Networks" tutorial walks the graph from the loss:
loss.grad_fn (MseLossBackward0), its next function (AddmmBackward0), and that one's first
(the bias's AccumulateGrad). mse_loss is one node as in torch, with the same values, dtypes and
gradients (first and second order, and forward-mode), and Linear's node shows torch's addmm
inputs (bias, input, weight.t())."""
import warnings

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import nn
from fastnn.autograd import gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional peer
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def _walk(lib):
    lib.manual_seed(0)
    net = lib.nn.Sequential()  # (unused: the tutorial's functional forward below)
    fc1, fc2 = lib.nn.Linear(8, 6), lib.nn.Linear(6, 4)
    nobias = lib.nn.Linear(4, 3, bias=False)
    x = lib.ones(2, 8)
    out = fc2(lib.nn.functional.relu(fc1(x)))
    loss = lib.nn.MSELoss()(out, lib.arange(1, 5).view(1, -1).expand(2, 4))
    first = loss.grad_fn
    second = first.next_functions[0][0]
    names = [first.name(), second.name(),
             [f.name() if f is not None else None for f, _ in second.next_functions],
             second.next_functions[2][0].next_functions[0][0].name(),
             nobias(x[:, :4]).grad_fn.name(), str(loss.dtype)]
    loss.backward()
    assert second.next_functions[0][0].variable is fc2.bias
    del net
    return names


@requires_torch
def test_graph_walk_matches_torch():
    ours, theirs = _walk(fastnn), _walk(torch)
    assert ours[:5] == theirs[:5] and ours[5][7:] == theirs[5][6:]


@requires_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (4, 3))])
def test_mse_loss_matches_torch(reduction, shapes):
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s).astype(np.float32) for s in shapes)
    found = []
    for lib in (fastnn, torch):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the broadcasting UserWarning, both sides
            loss = lib.nn.functional.mse_loss(x, y, reduction=reduction)
        loss.sum().backward()
        found.append((loss.detach().numpy(), x.grad.numpy(), y.grad.numpy(),
                      loss.grad_fn.name()))
    for o, t in zip(found[0][:3], found[1][:3]):
        np.testing.assert_allclose(o, t, rtol=1e-6, atol=1e-7)
    assert found[0][3] == found[1][3] == "MseLossBackward0"


def test_mse_loss_dtypes_and_higher_orders():
    out = fastnn.ones(2, 3)
    assert F.mse_loss(out, fastnn.arange(6).view(2, 3)).dtype == fastnn.float32
    assert F.mse_loss(out.double(), out).dtype == fastnn.float64
    x = fastnn.randn(3, 4, dtype=fastnn.float64, requires_grad=True)
    y = fastnn.randn(4, dtype=fastnn.float64, requires_grad=True)
    for reduction in ("mean", "sum", "none"):
        def fn(a, b, reduction=reduction):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return F.mse_loss(a, b, reduction=reduction)
        assert gradcheck(fn, (x, y)) and gradgradcheck(fn, (x, y))
        from fastnn.func import jvp
        v, w = fastnn.randn(3, 4, dtype=fastnn.float64), fastnn.randn(4, dtype=fastnn.float64)
        tangent = jvp(fn, (x.detach(), y.detach()), (v, w))[1]
        h = 1e-6
        numerical = (fn(x.detach() + h * v, y.detach() + h * w) -
                     fn(x.detach() - h * v, y.detach() - h * w)) / (2 * h)
        np.testing.assert_allclose(tangent.numpy(), numerical.numpy(), rtol=1e-5, atol=1e-7)


def test_weighted_mse_keeps_its_own_path():
    x, y, w = fastnn.ones(2, 2), fastnn.zeros(2, 2), fastnn.tensor([[1.0, 3.0], [0.0, 0.0]])
    assert F.mse_loss(x, y, weight=w).item() == 1.0
    assert nn.MSELoss(reduction="sum")(x, y).item() == 4.0
