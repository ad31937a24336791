"""torch.utils.checkpoint: the same values and gradients as running the function directly,
the same dropout masks on recomputation, and no graph kept for the function's inside."""
import warnings

import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn.utils.checkpoint import checkpoint, checkpoint_sequential


def _model():
    fastnn.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Dropout(0.5), nn.Linear(8, 3))


def _grads(model):
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    return grads


@pytest.mark.parametrize("use_reentrant", [False, True])
def test_checkpointed_gradients_equal_direct_ones_with_the_same_dropout_mask(use_reentrant):
    model, x = _model(), fastnn.randn(5, 4, requires_grad=True)
    fastnn.manual_seed(3)
    direct = model(x)
    direct.pow(2).sum().backward()
    want, want_x = _grads(model), x.grad.numpy().copy()
    x.grad = None
    fastnn.manual_seed(3)
    y = checkpoint(model, x, use_reentrant=use_reentrant)
    y.pow(2).sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), direct.detach().numpy(), rtol=1e-6)
    for got, expected in zip(_grads(model), want):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(x.grad.numpy(), want_x, rtol=1e-5, atol=1e-7)


def test_no_graph_is_kept_inside_the_checkpoint():
    model, x = _model(), fastnn.randn(5, 4)
    y = checkpoint(model, x, use_reentrant=False)
    assert y.grad_fn.name() == "_RecomputeBackward"
    # the node's edges lead to the inputs only, not to the Linear layers' nodes
    assert all(type(f).__name__ in ("AccumulateGrad", "NoneType") for f, _ in
               y.grad_fn.next_functions)


def test_reentrant_without_inputs_that_need_grad_warns_as_torch():
    model = _model()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = checkpoint(model, fastnn.randn(2, 4))
    messages = [str(w.message) for w in caught]
    assert any("use_reentrant parameter should be passed explicitly" in m for m in messages)
    assert "None of the inputs have requires_grad=True. Gradients will be None" in messages
    assert not y.requires_grad


def test_checkpoint_sequential_and_several_outputs():
    model, x = _model(), fastnn.randn(5, 4)
    model.eval()
    model(x).sum().backward()
    want = _grads(model)
    checkpoint_sequential(model, 2, x, use_reentrant=False).sum().backward()
    for got, expected in zip(_grads(model), want):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    a = fastnn.tensor([1., 2.], requires_grad=True)
    b = fastnn.tensor([3., 4.], requires_grad=True)
    p, q = checkpoint(lambda u, v: (u * v, u + v), a, b, use_reentrant=False)
    (p.sum() + 2 * q.sum()).backward()
    np.testing.assert_allclose(a.grad.numpy(), [5., 6.])
    np.testing.assert_allclose(b.grad.numpy(), [3., 4.])
