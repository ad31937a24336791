"""The engine: order, accumulation, only-needed gradients, no_grad, graph release, depth."""
import numpy as np
import pytest

import fastnn
from fastnn.ops.linalg import MatMul


def test_value_used_twice_gets_both_contributions():
    x = fastnn.tensor([3.0], requires_grad=True)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    assert x.grad.item() == pytest.approx(7.0)


def test_gradients_accumulate_across_backward_calls_like_torch():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])
    x.grad.zero_()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_chain_of_20000_ops_backpropagates_without_recursion():
    x = fastnn.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(20000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 20000, rel=1e-3)


def test_graph_is_released_after_backward():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    assert y.grad_fn.released and y.grad_fn.ctx is None
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])


def test_only_needed_gradients_are_computed(monkeypatch):
    seen = []
    original = MatMul.backward

    def spy(ctx, g):
        seen.append(ctx.needs_input_grad)
        return original(ctx, g)

    monkeypatch.setattr(MatMul, "backward", staticmethod(spy))
    x = fastnn.randn(3, 4)  # data: no gradient wanted
    w = fastnn.randn(4, 2, requires_grad=True)
    (x @ w).sum().backward()
    assert seen == [(False, True)]
    assert x.grad is None and w.grad is not None


def test_grad_for_some_inputs_skips_the_passes_nothing_asked_for(monkeypatch):
    """torch's engine runs only the nodes on a path to the tensors asked for, and in those only
    the input gradients on such a path: a convolution asked for its input's gradient alone
    never runs its weight-gradient pass."""
    seen = []
    original = MatMul.backward

    def spy(ctx, g):
        seen.append(ctx.needs_input_grad)
        return original(ctx, g)

    monkeypatch.setattr(MatMul, "backward", staticmethod(spy))
    x = fastnn.randn(3, 4, requires_grad=True)
    w1 = fastnn.randn(4, 4, requires_grad=True)
    w2 = fastnn.randn(4, 2, requires_grad=True)
    side = fastnn.randn(3, 2, requires_grad=True)
    y = ((x @ w1) @ w2 + side * 2).sum()
    inner = y.grad_fn.next_functions[0][0].next_functions[0][0]  # (x @ w1) @ w2's node
    (gx,) = fastnn.autograd.grad(y, [x], retain_graph=True)
    assert seen == [(True, False), (True, False)]  # (x @ w1) @ w2, then x @ w1
    assert inner.ctx.needs_input_grad == (True, True)  # the node's own flags again after
    expected = np.ones((3, 2), np.float32) @ w2.detach().numpy().T @ w1.detach().numpy().T
    np.testing.assert_allclose(gx.numpy(), expected, rtol=1e-5)
    seen.clear()
    y.backward(inputs=[w2])
    assert seen == [(False, True)]  # x @ w1 leads nowhere asked for: not run at all
    assert w2.grad is not None and x.grad is None and w1.grad is None and side.grad is None


def test_backward_inputs_may_name_a_non_leaf_like_torch():
    x = fastnn.tensor([1.0, -2.0, 3.0], requires_grad=True)
    w = fastnn.tensor([0.5, 4.0, -1.0], requires_grad=True)
    h = x * w
    (h * h).sum().backward(inputs=[h])
    np.testing.assert_allclose(h.grad.numpy(), 2 * (x * w).detach().numpy())
    assert x.grad is None and w.grad is None


def test_retain_grad_on_the_path_still_fills_with_inputs_given():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    w = fastnn.tensor([3.0, 4.0], requires_grad=True)
    h = x * w
    h.retain_grad()
    (h * 2).sum().backward(inputs=[x])
    np.testing.assert_array_equal(h.grad.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 8.0])
    assert w.grad is None


def test_no_grad_records_nothing():
    w = fastnn.randn(3, requires_grad=True)
    with fastnn.no_grad():
        y = w * 2
    assert not y.requires_grad and y.grad_fn is None

    @fastnn.no_grad()
    def predict(v):
        return v * 2

    assert not predict(w).requires_grad
    assert fastnn.is_grad_enabled()


def test_backward_needs_scalar_or_gradient():
    x = fastnn.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        fastnn.randn(3).sum().backward()


def test_leaf_requiring_grad_cannot_be_modified_in_place():
    w = fastnn.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        w -= 1
    with fastnn.no_grad():
        w -= 1  # the optimizer pattern is allowed


def test_detach_shares_memory_and_leaves_the_graph():
    x = fastnn.randn(3, requires_grad=True)
    d = x.detach()
    assert not d.requires_grad
    assert np.shares_memory(d.numpy(), x._data)


def test_numpy_on_a_tensor_requiring_grad_raises_like_torch():
    with pytest.raises(RuntimeError, match="detach"):
        fastnn.randn(2, requires_grad=True).numpy()


def test_a_gradient_reaching_a_leaf_through_a_view_is_kept_only_when_nothing_else_holds_it():
    """A fresh gradient that reaches a leaf reshaped (unsqueeze, view) becomes .grad without a
    copy; one whose array a backward also keeps elsewhere is copied, so later changes to that
    array do not reach .grad."""
    kept = []

    class KeepsItsGradient(fastnn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            grad = g * 2
            kept.append(grad)  # a second reference to the array handed back
            return grad

    x = fastnn.randn(4, 5, requires_grad=True)
    KeepsItsGradient.apply(x.unsqueeze(0)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((4, 5), 2, np.float32))
    kept[0][...] = 7
    np.testing.assert_array_equal(x.grad.numpy(), np.full((4, 5), 2, np.float32))

    y = fastnn.randn(3, 7, requires_grad=True)
    (y.unsqueeze(1) * 3).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), np.full((3, 7), 3, np.float32))
    assert y.grad.numpy().flags.writeable
    y.grad.add_(1)  # .grad is the leaf's own array
    np.testing.assert_array_equal(y.grad.numpy(), np.full((3, 7), 4, np.float32))
