"""Forward-mode AD (torch.autograd.forward_ad, torch.func.jvp / linearize, custom Function
jvp, gradcheck(check_forward_ad=True)): every op's tangent J v against central finite
differences of the op along v (float64), and against torch's forward AD when it is installed;
the dual-tensor API's semantics and error messages against torch's."""
import functools

import numpy as np
import pytest

import fastnn
import fastnn.autograd.forward_ad as fwAD
import fastnn.nn.functional as F
from fastnn import nn
from fastnn.func import functional_call, jacfwd, jacrev, jvp, linearize, vjp, vmap

try:
    import torch
    import torch.autograd.forward_ad as torch_fwAD
except ImportError:  # pragma: no cover - torch is an optional peer
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

# (name, fn(library, *inputs), input shapes): the same code runs on fastnn and on torch
CASES = [
    ("add_broadcast", lambda L, a, b: a + b, [(3, 4), (4,)]),
    ("sub", lambda L, a, b: a - b, [(3, 4), (3, 4)]),
    ("mul_broadcast", lambda L, a, b: a * b, [(3, 4), (3, 1)]),
    ("div", lambda L, a, b: a / (b.abs() + 1), [(3, 4), (3, 4)]),
    ("pow_number", lambda L, a: a ** 3, [(5,)]),
    ("pow_tensor", lambda L, a, b: (a.abs() + 1) ** b, [(5,), (5,)]),
    ("number_pow", lambda L, a: 2 ** a, [(5,)]),
    ("neg", lambda L, a: -a, [(5,)]),
    ("exp", lambda L, a: a.exp(), [(5,)]),
    ("log", lambda L, a: (a.abs() + 0.5).log(), [(5,)]),
    ("sqrt", lambda L, a: (a.abs() + 0.5).sqrt(), [(5,)]),
    ("sin", lambda L, a: a.sin(), [(5,)]),
    ("cos", lambda L, a: L.cos(a), [(5,)]),
    ("tanh", lambda L, a: a.tanh(), [(5,)]),
    ("sigmoid", lambda L, a: a.sigmoid(), [(5,)]),
    ("relu", lambda L, a: L.relu(a), [(5,)]),
    ("abs", lambda L, a: a.abs(), [(5,)]),
    ("clamp", lambda L, a: a.clamp(-0.5, 0.5), [(5,)]),
    ("erf", lambda L, a: L.erf(a), [(5,)]),
    ("log1p", lambda L, a: L.log1p(a.abs()), [(5,)]),
    ("atan2", lambda L, a, b: L.atan2(a, b), [(5,), (5,)]),
    ("floor", lambda L, a: L.floor(a) * a, [(5,)]),
    ("sum_dim", lambda L, a: a.sum(1), [(3, 4)]),
    ("mean", lambda L, a: a.mean(), [(3, 4)]),
    ("max", lambda L, a: a.max(), [(3, 4)]),
    ("max_dim", lambda L, a: a.max(1).values, [(3, 4)]),
    ("amax", lambda L, a: a.amax(1), [(3, 4)]),
    ("min", lambda L, a: a.min(), [(3, 4)]),
    ("prod_dim", lambda L, a: a.prod(1), [(3, 4)]),
    ("prod", lambda L, a: a.prod(), [(3, 4)]),
    ("var_dim", lambda L, a: a.var(1), [(3, 4)]),
    ("std", lambda L, a: a.std(), [(3, 4)]),
    ("norm", lambda L, a: a.norm(), [(3, 4)]),
    ("logsumexp", lambda L, a: a.logsumexp(1), [(3, 4)]),
    ("cumsum", lambda L, a: a.cumsum(1), [(3, 4)]),
    ("softmax", lambda L, a: a.softmax(1), [(3, 4)]),
    ("log_softmax", lambda L, a: L.nn.functional.log_softmax(a, 1), [(3, 4)]),
    ("matmul", lambda L, a, b: a @ b, [(3, 4), (4, 2)]),
    ("bmm", lambda L, a, b: L.bmm(a, b), [(2, 3, 4), (2, 4, 2)]),
    ("linear", lambda L, x, w, b: L.nn.functional.linear(x, w, b), [(3, 4), (2, 4), (2,)]),
    ("einsum", lambda L, a, b: L.einsum("ij,jk->ik", a, b), [(3, 4), (4, 2)]),
    ("reshape", lambda L, a: a.reshape(4, 3), [(3, 4)]),
    ("transpose", lambda L, a: a.t(), [(3, 4)]),
    ("permute", lambda L, a: a.permute(2, 0, 1), [(2, 3, 4)]),
    ("expand", lambda L, a: a.expand(3, 4), [(1, 4)]),
    ("slice", lambda L, a: a[1:, ::2], [(3, 4)]),
    ("gather", lambda L, a: a.gather(1, L.tensor([[0, 2], [1, 1], [3, 0]])), [(3, 4)]),
    ("cat", lambda L, a, b: L.cat([a, b], 0), [(3, 4), (2, 4)]),
    ("stack", lambda L, a, b: L.stack([a, b], 1), [(3, 4), (3, 4)]),
    ("where", lambda L, a, b: L.where(a > 0, a, b), [(3, 4), (3, 4)]),
    ("maximum", lambda L, a, b: L.maximum(a, b), [(3, 4), (3, 4)]),
    ("flip", lambda L, a: a.flip(0), [(3, 4)]),
    ("roll", lambda L, a: a.roll(1, 1), [(3, 4)]),
    ("repeat", lambda L, a: a.repeat(2, 1), [(3, 4)]),
    ("masked_fill", lambda L, a: a.masked_fill(a > 0.5, 0.0), [(3, 4)]),
    ("pad", lambda L, a: L.nn.functional.pad(a, (1, 2)), [(3, 4)]),
    ("gelu", lambda L, a: L.nn.functional.gelu(a), [(5,)]),
    ("silu", lambda L, a: L.nn.functional.silu(a), [(5,)]),
    ("softplus", lambda L, a: L.nn.functional.softplus(a), [(5,)]),
    ("elu", lambda L, a: L.nn.functional.elu(a), [(5,)]),
    ("leaky_relu", lambda L, a: L.nn.functional.leaky_relu(a, 0.1), [(5,)]),
    ("hardtanh", lambda L, a: L.nn.functional.hardtanh(a), [(5,)]),
    ("layer_norm", lambda L, a, w, b: L.nn.functional.layer_norm(a, (4,), w, b),
     [(3, 4), (4,), (4,)]),
    ("mse_loss", lambda L, a, b: L.nn.functional.mse_loss(a, b), [(3, 4), (3, 4)]),
    ("cross_entropy", lambda L, a: L.nn.functional.cross_entropy(a, L.tensor([0, 3, 1])),
     [(3, 4)]),
    ("nll_loss", lambda L, a: L.nn.functional.nll_loss(a.log_softmax(1), L.tensor([0, 3, 1])),
     [(3, 4)]),
    ("bce_with_logits", lambda L, a, b: L.nn.functional.binary_cross_entropy_with_logits(
        a, b.sigmoid()), [(3, 4), (3, 4)]),
    ("max_pool2d", lambda L, x: L.nn.functional.max_pool2d(x, 2), [(2, 3, 4, 4)]),
    ("avg_pool2d", lambda L, x: L.nn.functional.avg_pool2d(x, 2), [(2, 3, 4, 4)]),
    ("batch_norm_eval", lambda L, x, w, b: L.nn.functional.batch_norm(
        x, L.zeros(3, dtype=L.float64), L.ones(3, dtype=L.float64), w, b),
     [(2, 3, 4, 4), (3,), (3,)]),
    ("cosine_similarity", lambda L, a, b: L.nn.functional.cosine_similarity(a, b),
     [(3, 4), (3, 4)]),
    ("embedding_weight", lambda L, w: L.nn.functional.embedding(L.tensor([[0, 2], [1, 0]]), w),
     [(3, 4)]),
]
IDS = [c[0] for c in CASES]
# ops whose kernels compute in float32 even for float64 tensors: their values carry float32
# rounding, so finite differences need a larger step and both checks a float32 tolerance
FLOAT32_KERNELS = {"max_pool2d", "avg_pool2d", "batch_norm_eval"}


def _inputs(shapes, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes], [rng.standard_normal(s) for s in shapes]


def _fastnn_tangent(fn, xs, vs):
    return jvp(lambda *a: fn(fastnn, *a), tuple(fastnn.tensor(x) for x in xs),
               tuple(fastnn.tensor(v) for v in vs))


@pytest.mark.parametrize("name,fn,shapes", CASES, ids=IDS)
def test_tangent_matches_finite_differences(name, fn, shapes):
    xs, vs = _inputs(shapes, seed=len(name))
    value, tangent = _fastnn_tangent(fn, xs, vs)
    coarse = name in FLOAT32_KERNELS
    h = 1e-3 if coarse else 1e-6

    def at(step):
        return fn(fastnn, *[fastnn.tensor(x + step * v) for x, v in zip(xs, vs)]).numpy()
    numerical = (at(h) - at(-h)) / (2 * h)
    np.testing.assert_allclose(value.numpy(), at(0.0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tangent.numpy(), numerical, rtol=1e-3 if coarse else 1e-5,
                               atol=1e-4 if coarse else 1e-6)


@requires_torch
@pytest.mark.parametrize("name,fn,shapes", CASES, ids=IDS)
def test_tangent_matches_torch(name, fn, shapes):
    xs, vs = _inputs(shapes, seed=len(name))
    expected = torch.func.jvp(lambda *a: fn(torch, *a), tuple(torch.tensor(x) for x in xs),
                              tuple(torch.tensor(v) for v in vs))[1].numpy()
    tangent = _fastnn_tangent(fn, xs, vs)[1]
    assert tangent.dtype == fastnn.float64
    coarse = name in FLOAT32_KERNELS
    np.testing.assert_allclose(tangent.numpy(), expected, rtol=1e-5 if coarse else 1e-7,
                               atol=1e-6 if coarse else 1e-9)


def test_conv2d_tangent_is_the_convolution_of_the_tangents():
    rng = np.random.default_rng(3)
    x, w = (fastnn.tensor(rng.standard_normal(s).astype(np.float32))
            for s in ((2, 3, 6, 6), (4, 3, 3, 3)))
    vx, vw = (fastnn.tensor(rng.standard_normal(s).astype(np.float32))
              for s in ((2, 3, 6, 6), (4, 3, 3, 3)))
    _, tangent = jvp(lambda a, b: F.conv2d(a, b, padding=1), (x, w), (vx, vw))
    expected = F.conv2d(vx, w, padding=1) + F.conv2d(x, vw, padding=1)  # bilinear
    np.testing.assert_allclose(tangent.numpy(), expected.numpy(), rtol=1e-4, atol=1e-4)


# --- the dual-tensor API -------------------------------------------------------------------
def test_make_dual_needs_a_level_and_tangents_end_with_it():
    p, t = fastnn.randn(3, 4), fastnn.randn(3, 4)
    with pytest.raises(RuntimeError, match="no level exists, make sure to enter_dual_level"):
        fwAD.make_dual(p, t)
    with fwAD.dual_level() as level:
        assert level == 0
        with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"):
            fwAD.enter_dual_level()
        d = fwAD.make_dual(p, t)
        out = d.sin()
        assert fwAD.unpack_dual(d).tangent is t
        assert fwAD.unpack_dual(out).tangent is not None
    assert fwAD.unpack_dual(d).tangent is None and fwAD.unpack_dual(out).tangent is None
    with pytest.raises(RuntimeError, match="Dual level must be a positive number"):
        fwAD.exit_dual_level()
    assert fwAD.enter_dual_level() == 0
    fwAD.exit_dual_level(level=0)


def test_dual_is_a_view_and_unpack_gives_views():
    p, t = fastnn.randn(3, 4), fastnn.randn(3, 4)
    with fwAD.dual_level():
        d = fwAD.make_dual(p, t)
        assert d._base is p and not d.requires_grad and d.grad_fn is None
        primal, tangent = fwAD.unpack_dual(d)
        assert primal is not p and primal._base is p and tangent is t
        assert fwAD.unpack_dual(d)._fields == ("primal", "tangent")
        plain = fwAD.unpack_dual(p)
        assert plain.tangent is None and plain.primal is not p
        # a tangent in another layout is copied into the primal's
        assert fwAD.unpack_dual(fwAD.make_dual(p, t.t().contiguous().t())).tangent is not t
        pr = fastnn.randn(3, 4, requires_grad=True)
        d2 = fwAD.make_dual(pr, t)
        assert d2.requires_grad and d2.grad_fn.name() == "ViewBackward0"


@pytest.mark.parametrize("case", ["size", "int_primal", "int_tangent", "twice"])
def test_make_dual_errors_match_torch(case):
    def attempt(lib, ad):
        p, t = lib.ones(3, 4), lib.ones(3, 4)
        with ad.dual_level():
            if case == "size":
                ad.make_dual(p, lib.ones(5))
            elif case == "int_primal":
                ad.make_dual(p.long(), t)
            elif case == "int_tangent":
                ad.make_dual(p, t.long())
            else:
                ad.make_dual(ad.make_dual(p, t), t)
    with pytest.raises((RuntimeError, ValueError)) as ours:
        attempt(fastnn, fwAD)
    if torch is not None:
        with pytest.raises((RuntimeError, ValueError)) as theirs:
            attempt(torch, torch_fwAD)
        assert type(ours.value) is type(theirs.value)
        assert str(ours.value) == str(theirs.value).replace("torch.", "fastnn.")


def test_tangents_flow_without_grad_mode_and_through_in_place_ops():
    p, t = fastnn.tensor([[1.0, -2.0], [0.5, 3.0]]), fastnn.tensor([[0.1, 0.2], [0.3, 0.4]])
    with fwAD.dual_level():
        d = fwAD.make_dual(p, t)
        with fastnn.no_grad():
            np.testing.assert_allclose(fwAD.unpack_dual(d.sin()).tangent.numpy(),
                                       (p.cos() * t).numpy())
        assert fwAD.unpack_dual(d.argmax()).tangent is None
        assert fwAD.unpack_dual(d.detach()).tangent is None
        x = fastnn.zeros(2, 2)
        x.copy_(d)
        np.testing.assert_allclose(fwAD.unpack_dual(x).tangent.numpy(), t.numpy())
        y = fastnn.full((2, 2), 2.0)
        y.mul_(d)
        np.testing.assert_allclose(fwAD.unpack_dual(y).tangent.numpy(), (2 * t).numpy())
        z = d.clone()
        z.add_(1)
        np.testing.assert_allclose(fwAD.unpack_dual(z).tangent.numpy(), t.numpy())
        w = fastnn.zeros(3, 2)
        w[1] = d[0]
        np.testing.assert_allclose(fwAD.unpack_dual(w).tangent.numpy(),
                                   [[0, 0], [0.1, 0.2], [0, 0]])


@requires_torch
def test_dual_tensor_prints_its_tangent_as_torch():
    def shown(lib, ad):
        with ad.dual_level():
            d = ad.make_dual(lib.tensor([[1.0, 2.0], [3.0, 4.0]]),
                             lib.tensor([[0.5, 0.25], [0.125, 1.0]]))
            return repr(d), repr(d * 2)
    assert shown(fastnn, fwAD) == shown(torch, torch_fwAD)


def test_module_parameters_as_duals_and_functional_call_agree():
    """The forward-AD tutorial's two ways to differentiate a module along its parameters."""
    model = nn.Linear(5, 5)
    x = fastnn.randn(16, 5)
    params = dict(model.named_parameters())
    tangents = {name: fastnn.rand_like(p) for name, p in params.items()}
    with fwAD.dual_level():
        for name, p in params.items():
            delattr(model, name)
            setattr(model, name, fwAD.make_dual(p, tangents[name]))
        first = fwAD.unpack_dual(model(x)).tangent
    fresh = nn.Linear(5, 5)
    with fwAD.dual_level():
        duals = {name: fwAD.make_dual(p, tangents[name]) for name, p in params.items()}
        second = fwAD.unpack_dual(functional_call(fresh, duals, x)).tangent
    expected = x @ tangents["weight"].t() + tangents["bias"]
    np.testing.assert_allclose(first.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(second.numpy(), first.numpy(), rtol=1e-6)


def test_an_op_without_a_forward_derivative_says_so():
    x = fastnn.randn(1, 2, 4, 4)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, fastnn.randn(1, 2, 4, 4))
        with pytest.raises(NotImplementedError, match="Trying to use forward AD with"):
            F.unfold(d, 2)


# --- custom Functions and gradcheck --------------------------------------------------------
class Exp(fastnn.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        result = fastnn.exp(x)
        ctx.result = result
        return result

    @staticmethod
    def jvp(ctx, g):
        return g * ctx.result


class WrongJvp(Exp):
    @staticmethod
    def jvp(ctx, g):
        return g * 2 * ctx.result


class NoJvp(fastnn.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.exp()


def test_custom_function_jvp():
    primal = fastnn.randn(4, 3, dtype=fastnn.float64, requires_grad=True)
    tangent = fastnn.randn(4, 3, dtype=fastnn.float64)
    with fwAD.dual_level():
        out = Exp.apply(fwAD.make_dual(primal, tangent))
        np.testing.assert_allclose(fwAD.unpack_dual(out).tangent.numpy(),
                                   (tangent * primal.exp()).detach().numpy())
        with pytest.raises(NotImplementedError, match="You must implement the jvp function"):
            NoJvp.apply(fwAD.make_dual(primal.detach(), tangent))


def test_gradcheck_checks_forward_mode():
    primal = fastnn.randn(3, 3, dtype=fastnn.float64, requires_grad=True)
    kwargs = dict(check_forward_ad=True, check_backward_ad=False, check_undefined_grad=False,
                  check_batched_grad=False)
    assert fastnn.autograd.gradcheck(Exp.apply, (primal,), **kwargs)
    assert fastnn.autograd.gradcheck(fastnn.sin, (primal,), check_forward_ad=True)
    from fastnn.autograd.gradcheck import GradcheckError
    with pytest.raises(GradcheckError,
                       match="Jacobian computed with forward mode mismatch for output 0"):
        fastnn.autograd.gradcheck(WrongJvp.apply, (primal,), **kwargs)
    assert not fastnn.autograd.gradcheck(WrongJvp.apply, (primal,), raise_exception=False,
                                         **kwargs)


# --- torch.func.jvp and friends ------------------------------------------------------------
def test_func_jvp_structure_and_errors():
    p0, t0 = fastnn.tensor([1.0, -2.0]), fastnn.tensor([0.1, 0.2])
    p1, t1 = fastnn.tensor([2.0, 0.5]), fastnn.tensor([1.0, 0.0])
    out, tangent = jvp(lambda x, y: x ** 2 + y ** 2, (p0, p1), (t0, t1))
    np.testing.assert_allclose(tangent.numpy(), (2 * p0 * t0 + 2 * p1 * t1).numpy())
    _, partial = jvp(functools.partial(lambda x, y: x * y, y=p1), (p0,), (t0,))
    np.testing.assert_allclose(partial.numpy(), (t0 * p1).numpy())
    assert jvp(lambda x: (x.sin(), x), (p0,), (t0,))[1][1] is t0
    zero = jvp(lambda x, y: x * 0 + 1, (p0, p1), (t0, t1))[1]
    assert np.all(zero.numpy() == 0)
    value, tangent, aux = jvp(lambda x: (x.exp(), {"s": x.sum()}), (p0,), (t0,), has_aux=True)
    assert set(aux) == {"s"} and not aux["s"].requires_grad
    with pytest.raises(RuntimeError, match="Expected primals to be a tuple"):
        jvp(fastnn.sin, p0, t0)
    with pytest.raises(RuntimeError, match="Expected primals and tangents to have the same"):
        jvp(fastnn.sin, (p0,), (t0, t0))
    with pytest.raises(RuntimeError, match="expected f\\(\\*primals\\) to return only tensors"):
        jvp(lambda x: 3, (p0,), (t0,))


def test_linearize_and_jacfwd():
    x = fastnn.tensor([0.0, 1.0, 2.0], dtype=fastnn.float64)
    value, jvp_fn = linearize(fastnn.sin, x)
    np.testing.assert_allclose(value.numpy(), np.sin(x.numpy()))
    np.testing.assert_allclose(jvp_fn(fastnn.ones(3, dtype=fastnn.float64)).numpy(),
                               np.cos(x.numpy()))
    np.testing.assert_allclose(jacfwd(fastnn.sin, randomness="same")(x).numpy(),
                               np.diag(np.cos(x.numpy())))


def test_ntk_by_vector_products_matches_jacobian_contraction():
    """The NTK tutorial's two methods: vjp then jvp over a dict of parameters, under vmap,
    against the contraction of per-example Jacobians."""
    fastnn.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    params = {k: v.detach() for k, v in net.named_parameters()}

    def single(params, x):
        return functional_call(net, params, (x.unsqueeze(0),)).squeeze(0)

    def by_jacobians(x1, x2):
        j1 = [j.flatten(2) for j in vmap(jacrev(single), (None, 0))(params, x1).values()]
        j2 = [j.flatten(2) for j in vmap(jacrev(single), (None, 0))(params, x2).values()]
        return fastnn.stack([fastnn.einsum("Naf,Mbf->NMab", a, b)
                             for a, b in zip(j1, j2)]).sum(0)

    def by_products(x1, x2):
        def one_pair(a, b):
            output, vjp_fn = vjp(lambda p: single(p, a), params)

            def column(vec):
                return jvp(lambda p: single(p, b), (params,), vjp_fn(vec))[1]
            return vmap(column)(fastnn.eye(output.numel()))
        return vmap(vmap(one_pair, (None, 0)), (0, None))(x1, x2)

    x = fastnn.randn(4, 3)
    np.testing.assert_allclose(by_products(x[:2], x[2:]).numpy(),
                               by_jacobians(x[:2], x[2:]).numpy(), rtol=1e-4, atol=1e-5)


def test_hessian_vector_products_forward_over_reverse_and_reverse_over_reverse():
    """The "Jacobians, Hessians, hvp, vhp" tutorial: jvp of grad (the tangent flows through the
    recorded backward pass) and vjp of grad agree with the analytical H v."""
    from fastnn.func import grad, hessian

    def f(x):
        return x.sin().sum() + (x[0] * x[1]) ** 2

    x = fastnn.tensor([0.3, -1.2, 2.0, 0.7], dtype=fastnn.float64)
    v = fastnn.tensor([1.0, 0.5, -2.0, 0.25], dtype=fastnn.float64)
    xs, vs = x.numpy(), v.numpy()
    h = np.diag(-np.sin(xs))
    h[0, 0] += 2 * xs[1] ** 2
    h[1, 1] += 2 * xs[0] ** 2
    h[0, 1] = h[1, 0] = 4 * xs[0] * xs[1]
    forward_over_reverse = jvp(grad(f), (x,), (v,))[1]
    reverse_over_reverse = vjp(grad(f), x)[1](v)[0]
    np.testing.assert_allclose(forward_over_reverse.numpy(), h @ vs, rtol=1e-12)
    np.testing.assert_allclose(reverse_over_reverse.numpy(), h @ vs, rtol=1e-12)
    np.testing.assert_allclose(hessian(f)(x).numpy(), h, rtol=1e-12)

    def predict(weight, bias, x):
        return F.linear(x, weight, bias).tanh()
    w, b, z = (fastnn.randn(*s, dtype=fastnn.float64) for s in ((3, 5), (3,), (5,)))
    by_api = hessian(predict, argnums=2)(w, b, z)
    by_fwdfwd = jacfwd(jacfwd(predict, argnums=2), argnums=2)(w, b, z)
    assert tuple(by_api.shape) == (3, 5, 5)
    np.testing.assert_allclose(by_api.numpy(), by_fwdfwd.numpy(), rtol=1e-10, atol=1e-12)
