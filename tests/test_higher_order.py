"""create_graph=True: gradients that can be differentiated again. Every op with a recorded
backward formula is checked by gradgradcheck (its backward against finite differences, in
float64), and the recipes that need it (gradient penalty, physics-informed second
derivatives, Hessians) against torch when it is installed."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn.autograd import gradgradcheck

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional peer
    torch = None


def _double(*shape, low=0.2, high=0.9, seed=0):
    values = np.random.default_rng(seed + sum(shape)).uniform(low, high, shape)
    signs = np.where(np.arange(values.size).reshape(shape) % 3 == 0, -1.0, 1.0)
    return fastnn.tensor(values * signs, dtype=fastnn.float64, requires_grad=True)


def _positive(*shape, seed=0):
    return fastnn.tensor(np.random.default_rng(seed).uniform(0.3, 0.9, shape),
                         dtype=fastnn.float64, requires_grad=True)


UNARY = {
    "exp": fastnn.exp, "tanh": fastnn.tanh, "sigmoid": fastnn.sigmoid, "relu": fastnn.relu,
    "abs": fastnn.abs, "sin": fastnn.sin, "cos": fastnn.cos, "tan": fastnn.tan,
    "sinh": fastnn.sinh, "cosh": fastnn.cosh, "asin": fastnn.asin, "acos": fastnn.acos,
    "atan": fastnn.atan, "expm1": fastnn.expm1, "neg": lambda x: -x,
    "pow3": lambda x: x ** 3, "leaky_relu": lambda x: F.leaky_relu(x, 0.2),
    "clamp": lambda x: x.clamp(-0.5, 0.5), "square": lambda x: x * x,
    "softmax": lambda x: fastnn.softmax(x, 1), "log_softmax": lambda x: fastnn.log_softmax(x, 0),
    "sum_dim": lambda x: (x * x).sum(1), "mean": lambda x: (x * x).mean(),
    "norm_dim": lambda x: x.norm(2, dim=1), "norm3": lambda x: x.norm(3),
    "reshape": lambda x: (x.reshape(6) ** 2), "permute": lambda x: x.t() * x.t(),
    "expand": lambda x: x[:1].expand(4, 3) ** 2, "select": lambda x: x[1] ** 2,
    "advanced_index": lambda x: x[[0, 0, 2]] ** 2, "cat": lambda x: fastnn.cat([x, x * x], 1),
    "matmul": lambda x: x @ x.t(), "matvec": lambda x: x @ x[0],
    "where": lambda x: fastnn.where(x > 0, x * x, x ** 3),
    "layer_norm": lambda x: F.layer_norm(x, (3,), x[0] * 2, x[1]),
}
POSITIVE = {
    "log": fastnn.log, "sqrt": fastnn.sqrt, "log2": fastnn.log2, "log10": fastnn.log10,
    "log1p": fastnn.log1p, "rsqrt": fastnn.rsqrt, "reciprocal": fastnn.reciprocal,
}
BINARY = {
    "add": lambda a, b: (a + b) ** 2, "sub": lambda a, b: (a - b) ** 2, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "broadcast_mul": lambda a, b: a * b[0],
    "batched_matmul": lambda a, b: a.reshape(2, 1, 3) @ b.reshape(2, 3, 1),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_gradgradcheck_unary(name):
    shape = (2, 3) if name in ("matvec",) else (3, 3) if name in ("matmul",) else (4, 3) \
        if name in ("expand", "advanced_index") else (2, 3)
    assert gradgradcheck(UNARY[name], (_double(*shape),))


@pytest.mark.parametrize("name", sorted(POSITIVE))
def test_gradgradcheck_positive_domain(name):
    assert gradgradcheck(POSITIVE[name], (_positive(2, 3),))


@pytest.mark.parametrize("name", sorted(BINARY))
def test_gradgradcheck_binary(name):
    a, b = _double(2, 3, seed=1), _positive(2, 3, seed=2)
    assert gradgradcheck(BINARY[name], (a, b))


def test_hessian_and_hessian_vector_products():
    from fastnn.autograd.functional import hessian, hvp, vhp
    x = fastnn.tensor([1.0, 2.0])
    np.testing.assert_allclose(hessian(lambda v: (v ** 3).sum(), x).numpy(),
                               [[6.0, 0.0], [0.0, 12.0]])
    value, product = hvp(lambda v: (v ** 3).sum(), x, fastnn.tensor([1.0, 0.0]))
    assert value.item() == 9.0 and product.tolist() == [6.0, 0.0]
    assert vhp(lambda v: (v ** 3).sum(), x, fastnn.tensor([0.0, 1.0]))[1].tolist() == [0.0, 12.0]
    with pytest.raises(RuntimeError, match="should contain a single element"):
        hessian(lambda v: v * 2, x)


def test_backward_with_create_graph_keeps_the_gradients_graph():
    z = fastnn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="reference cycle"):
        (z ** 3).sum().backward(create_graph=True)
    assert z.grad.requires_grad and z.grad.tolist() == [3.0, 12.0]
    first = z.grad.sum()
    z.grad = None
    first.backward()
    assert z.grad.tolist() == [6.0, 12.0]


def test_an_op_without_a_second_derivative_says_so():
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="no differentiable backward for ProdBackward0"):
        fastnn.autograd.grad(x.prod(), x, create_graph=True)


def _init(module, rng, lib):
    with lib.no_grad():
        for p in module.parameters():
            p.copy_(lib.from_numpy(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.5))
    return module


def _gradient_penalty(lib):
    rng = np.random.default_rng(0)
    nn = lib.nn
    critic = _init(nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.2), nn.Linear(8, 8), nn.Tanh(),
                                 nn.Linear(8, 1)), rng, lib)
    real, fake, alpha = (lib.from_numpy(rng.random(s).astype(np.float32))
                         for s in ((5, 4), (5, 4), (5, 1)))
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    out = critic(mixed)
    grads = lib.autograd.grad(out, mixed, lib.ones_like(out), create_graph=True)[0]
    penalty = ((grads.norm(2, dim=1) - 1) ** 2).mean()
    penalty.backward()
    return [penalty.item()] + [None if p.grad is None else p.grad.numpy().copy()
                               for p in critic.parameters()]


def _physics_informed(lib):
    rng = np.random.default_rng(1)
    nn = lib.nn
    net = _init(nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(),
                              nn.Linear(16, 1)), rng, lib)
    xt = lib.from_numpy(rng.random((6, 2)).astype(np.float32)).requires_grad_(True)
    u = net(xt)
    du = lib.autograd.grad(u, xt, lib.ones_like(u), create_graph=True)[0]
    u_x, u_t = du[:, 0:1], du[:, 1:2]
    u_xx = lib.autograd.grad(u_x, xt, lib.ones_like(u_x), create_graph=True)[0][:, 0:1]
    loss = ((u_t - 0.01 * u_xx + u * u_x) ** 2).mean()  # Burgers' equation residual
    loss.backward()
    return [loss.item()] + [p.grad.numpy().copy() for p in net.parameters()]


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize("recipe", [_gradient_penalty, _physics_informed])
def test_second_order_recipes_match_torch(recipe):
    for mine, theirs in zip(recipe(fastnn), recipe(torch)):
        if theirs is None:
            assert mine is None  # the last bias does not reach the input gradient
        else:
            np.testing.assert_allclose(mine, theirs, rtol=2e-4, atol=1e-6)


def _conv_case(groups, stride, padding, dilation, relu):
    x = _double(2, 4, 7, 7)
    w = _double(6, 4 // groups, 3, 3, seed=3)
    b = _double(6, seed=4)
    from fastnn.ops.conv import conv2d_maybe_relu

    def f(x, w, b):
        return conv2d_maybe_relu(x, w, b, stride, padding, dilation, groups, relu=relu)
    return f, (x, w, b)


@pytest.mark.parametrize("groups,stride,padding,dilation,relu", [
    (1, 1, 1, 1, False), (2, 2, 0, 1, False), (1, 2, 1, 2, True), (1, (2, 1), (0, 1), 1, False)])
def test_conv2d_second_derivatives_against_torch(groups, stride, padding, dilation, relu):
    """conv2d's recorded backward (conv_transpose2d for the input, a channel-swapped conv2d
    for the weight) against torch, in float32 (fastnn's convolution kernels are float32)."""
    if torch is None:
        pytest.skip("torch not installed")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in
              ((2, 4, 7, 7), (6, 4 // groups, 3, 3), (6,))]
    results = []
    for lib in (fastnn, torch):
        x, w, b = (lib.from_numpy(a.copy()).requires_grad_(True) for a in arrays)
        out = lib.nn.functional.conv2d(x, w, b, stride, padding, dilation, groups)
        if relu:
            out = out.relu()
        gx, gw = lib.autograd.grad((out * out).sum(), (x, w), create_graph=True)
        ((gx ** 2).sum() + (gw * gw).sum() * 0.5).backward()
        results.append([t.detach().numpy() for t in (gx, gw, x.grad, w.grad, b.grad)])
    for mine, theirs in zip(*results):  # float32 sums of a few hundred terms each
        np.testing.assert_allclose(mine, theirs, rtol=1e-3, atol=1e-4 * np.abs(theirs).max())


def test_cross_entropy_dropout_and_in_place_second_derivatives():
    """MAML's inner step differentiates cross-entropy with create_graph; in-place writes
    (CopySlices) and dropout masks are differentiated again too."""
    logits = _double(3, 4).float().detach().requires_grad_(True)
    labels = fastnn.tensor([0, 3, 1])
    g, = fastnn.autograd.grad(F.cross_entropy(logits, labels), logits, create_graph=True)
    expected = (fastnn.softmax(logits, 1) - F.one_hot(labels, 4).float()) / 3
    np.testing.assert_allclose(g.detach().numpy(), expected.detach().numpy(), rtol=1e-5,
                               atol=1e-7)
    (g ** 2).sum().backward()
    assert logits.grad is not None and np.isfinite(logits.grad.numpy()).all()
    assert gradgradcheck(lambda x: F.dropout(x, 0.0) * x, (_double(2, 3),))

    def write_in_place(x):
        y = x * 1
        y[:, 0] = x[:, 1] ** 2
        return y * y
    assert gradgradcheck(write_in_place, (_double(2, 3),))


class _Legendre3(fastnn.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return 0.5 * (5 * x ** 3 - 3 * x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 1.5 * (5 * x ** 2 - 1)


class _SumAndProduct(fastnn.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b, a + b

    @staticmethod
    def backward(ctx, g_product, g_sum):
        a, b = ctx.saved_tensors
        return g_product * b + g_sum, g_product * a + g_sum


def test_user_functions_backward_is_recorded_too():
    """A user's Function backward is written in tensor ops: with create_graph it is recorded,
    so the tutorial's LegendrePolynomial3 has a second derivative (15 x)."""
    x = fastnn.tensor([0.5, -1.0, 2.0], requires_grad=True)
    g, = fastnn.autograd.grad(_Legendre3.apply(x).sum(), x, create_graph=True)
    h, = fastnn.autograd.grad(g.sum(), x)
    assert h.tolist() == [7.5, -15.0, 30.0]
    assert gradgradcheck(lambda a, b: _SumAndProduct.apply(a, b)[0] * _SumAndProduct.apply(a, b)[1],
                         (_double(2, 3), _double(2, 3, seed=5)))


def _second_order_case(lib, build, shape, seed=0):
    rng = np.random.default_rng(seed)
    x = lib.from_numpy(rng.standard_normal(shape).astype(np.float32)).requires_grad_(True)
    module = build(lib)
    with lib.no_grad():
        for p in module.parameters():
            p.copy_(lib.from_numpy(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
    out = module(x)
    weights = lib.from_numpy(rng.standard_normal(tuple(out.shape)).astype(np.float32))
    params = [p for p in module.parameters()]
    grads = lib.autograd.grad((out * weights).sum(), [x] + params, create_graph=True)
    penalty = sum((gr ** 2).sum() for gr in grads)
    penalty.backward()
    # (a parameter the penalty does not reach: None here, zeros in torch in places)
    return [gr.detach().numpy() for gr in grads] + [x.grad.numpy()] + \
        [p.grad.numpy() if p.grad is not None else np.zeros(tuple(p.shape), np.float32)
         for p in params]


LAYERS = {
    "max_pool": (lambda lib: lib.nn.Sequential(lib.nn.Conv2d(2, 3, 3, padding=1),
                                               lib.nn.MaxPool2d(2)), (2, 2, 6, 6)),
    "max_pool_3x3_s2": (lambda lib: lib.nn.Sequential(lib.nn.Conv2d(2, 3, 3),
                                                      lib.nn.MaxPool2d(3, 2, 1)), (2, 2, 7, 7)),
    "avg_pool": (lambda lib: lib.nn.Sequential(lib.nn.Conv2d(2, 3, 3), lib.nn.Tanh(),
                                               lib.nn.AvgPool2d(2)), (2, 2, 6, 6)),
    "batch_norm_train": (lambda lib: lib.nn.Sequential(lib.nn.Conv2d(2, 3, 3),
                                                       lib.nn.BatchNorm2d(3), lib.nn.Tanh()),
                         (4, 2, 5, 5)),
    "conv_transpose": (lambda lib: lib.nn.Sequential(lib.nn.ConvTranspose2d(3, 2, 4, 2, 1),
                                                     lib.nn.Tanh()), (2, 3, 4, 4)),
}


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_pooling_batchnorm_and_transposed_conv_second_derivatives_match_torch(name):
    build, shape = LAYERS[name]
    mine, theirs = _second_order_case(fastnn, build, shape), _second_order_case(torch, build,
                                                                                 shape)
    for m, t in zip(mine, theirs):
        np.testing.assert_allclose(m, t, rtol=2e-3, atol=2e-4 * max(1.0, np.abs(t).max()))
