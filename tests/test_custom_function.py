"""torch.autograd.Function written by a user (forward and backward on tensors, as the
tutorials' LegendrePolynomial3) and torch.autograd.functional's jacobian / vjp / jvp."""
import math

import numpy as np
import pytest

import fastnn
from conftest import requires_torch
from fastnn.autograd import Function


class Legendre3(Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


def test_the_tutorials_legendre_function_gives_its_analytic_gradient():
    x = fastnn.linspace(-1, 1, 7, dtype=fastnn.float64, requires_grad=True)
    y = Legendre3.apply(x)
    assert y.grad_fn.name() == "Legendre3Backward"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1.5 * (5 * x.detach().numpy() ** 2 - 1))
    assert "Legendre3Backward" in repr(y)


def test_the_tutorials_polynomial_fit_with_a_custom_function_learns():
    x = fastnn.linspace(-math.pi, math.pi, 200)
    y = fastnn.sin(x)
    a, b, c, d = (fastnn.full((), v, requires_grad=True) for v in (0.0, -1.0, 0.0, 0.3))
    losses = []
    for _ in range(2000):  # the tutorial's loop
        loss = (a + b * Legendre3.apply(c + d * x) - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with fastnn.no_grad():
            for p in (a, b, c, d):
                p -= 5e-6 * p.grad
                p.grad = None
    assert losses[-1] < 0.4 * losses[0] and losses[-1] < losses[-100]


class MulAdd(Function):
    """torch 2's style: forward without ctx, setup_context apart; two outputs."""
    seen_needs = None

    @staticmethod
    def forward(x, w, k):
        return x * w + k, x - w

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, w, _ = inputs
        ctx.save_for_backward(x, w)

    @staticmethod
    def backward(ctx, g1, g2):
        MulAdd.seen_needs = ctx.needs_input_grad
        x, w = ctx.saved_tensors
        return g1 * w + g2, g1 * x - g2, None


def test_two_outputs_meet_in_one_node_and_setup_context_style_works():
    x = fastnn.tensor([1., 2., 3.], requires_grad=True)
    w = fastnn.tensor([0.5, -1., 2.], requires_grad=True)
    p, q = MulAdd.apply(x, w, 2.0)
    assert p.grad_fn.name() == q.grad_fn.name() == "MulAddBackward"
    (p.sum() + (q * q).sum()).backward()
    xn, wn = x.detach().numpy(), w.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), wn + 2 * (xn - wn))
    np.testing.assert_allclose(w.grad.numpy(), xn - 2 * (xn - wn))
    assert MulAdd.seen_needs == (True, True, False)


def test_needs_input_grad_and_no_grad_like_torch():
    x = fastnn.tensor([1., 2.], requires_grad=True)
    p, _ = MulAdd.apply(x, fastnn.tensor([3., 4.]), 0.0)
    p.sum().backward()
    assert MulAdd.seen_needs == (True, False, False)
    np.testing.assert_allclose(x.grad.numpy(), [3., 4.])
    with fastnn.no_grad():
        assert not MulAdd.apply(x, x, 1.0)[0].requires_grad


class ArgMax(Function):
    @staticmethod
    def forward(ctx, x):
        idx = x.argmax(-1)
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(x, idx)
        return x.max(-1).values, idx

    @staticmethod
    def backward(ctx, gv, gi):
        x, idx = ctx.saved_tensors
        assert gi is not None and not gi.any()  # materialised zeros, as torch
        return fastnn.zeros_like(x).scatter_(-1, idx.unsqueeze(-1), gv.unsqueeze(-1))


def test_a_non_differentiable_output_gets_no_graph_and_a_zero_gradient():
    x = fastnn.tensor([[1., 3., 2.], [4., 0., 1.]], requires_grad=True)
    v, i = ArgMax.apply(x)
    assert not i.requires_grad and v.requires_grad
    v.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0], [1, 0, 0]])


def test_wrong_gradient_count_and_shape_are_named_like_torch():
    class Short(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(RuntimeError, match=r"function ShortBackward returned an incorrect "
                                           r"number of gradients \(expected 2, got 1\)"):
        Short.apply(fastnn.ones(2, requires_grad=True), fastnn.ones(2)).sum().backward()

    class WrongShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return fastnn.ones(5)

    with pytest.raises(RuntimeError, match="returned an invalid gradient at index 0"):
        WrongShape.apply(fastnn.ones(2, requires_grad=True)).sum().backward()


def test_a_broadcast_gradient_is_summed_to_its_input():
    class Add(Function):
        @staticmethod
        def forward(ctx, x, b):
            return x + b

        @staticmethod
        def backward(ctx, g):
            return g, g

    x, b = fastnn.ones(2, 3, requires_grad=True), fastnn.ones(3, requires_grad=True)
    Add.apply(x, b).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [2., 2., 2.])


def test_a_saved_tensor_changed_in_place_is_refused():
    x = fastnn.tensor([1., 2.], requires_grad=True)
    h = x * 1
    y = Legendre3.apply(h)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_once_differentiable_and_function_ctx_names_exist():
    from fastnn.autograd.function import FunctionCtx, once_differentiable

    assert fastnn.autograd.FunctionCtx is FunctionCtx
    assert once_differentiable(lambda ctx, g: g * 2)(None, fastnn.ones(1)).item() == 2.0


def test_jacobian_vjp_and_jvp_of_a_small_function():
    from fastnn.autograd.functional import jacobian, jvp, vjp

    x = fastnn.tensor([1., 2., 3.])
    jac = jacobian(lambda t: t ** 2, x)
    np.testing.assert_allclose(jac.numpy(), np.diag([2., 4., 6.]))
    ja, jb = jacobian(lambda a, b: a * b, (x, fastnn.tensor([4., 5., 6.])))
    np.testing.assert_allclose(ja.numpy(), np.diag([4., 5., 6.]))
    np.testing.assert_allclose(jb.numpy(), np.diag([1., 2., 3.]))
    out, g = vjp(lambda t: (t ** 2).sum(), x)
    assert out.item() == 14.0
    np.testing.assert_allclose(g.numpy(), [2., 4., 6.])
    _, jv = jvp(lambda t: t ** 2, x, fastnn.ones(3))
    np.testing.assert_allclose(jv.numpy(), [2., 4., 6.])
    hess = fastnn.autograd.functional.hessian(lambda t: (t ** 3).sum(), x)
    np.testing.assert_allclose(hess.numpy(), np.diag([6., 12., 18.]))


@requires_torch
def test_custom_functions_match_torch():
    import torch

    def run(lib):
        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, scale):
                ctx.save_for_backward(x)
                ctx.scale = scale
                return scale * x ** 3, x.sum()

            @staticmethod
            def backward(ctx, g, gs):
                x, = ctx.saved_tensors
                return 3 * ctx.scale * x ** 2 * g + gs, None

        x = lib.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
        y, s = Cube.apply(x, 0.5)
        (y * lib.tensor(np.arange(6.).reshape(2, 3))).sum().add(s * 3).backward()
        jac = lib.autograd.functional.jacobian(lambda t: t.sin() * t, x.detach())
        return y.detach().numpy(), x.grad.numpy(), jac.numpy(), y.grad_fn.name()

    for mine, theirs in zip(run(fastnn), run(torch)):
        if isinstance(mine, str):
            assert mine == theirs
        else:
            np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=1e-12)
