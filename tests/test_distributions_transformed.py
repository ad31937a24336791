"""TransformedDistribution, the transforms, constraints, biject_to and the added families
(Cauchy, Gumbel, HalfNormal, HalfCauchy, Weibull, Pareto, StudentT, Chi2, Geometric,
NegativeBinomial, MixtureSameFamily, the relaxed distributions) against torch: log_prob,
moments, entropy, cdf and the parameters' gradients on the same values, and the sample mean
against the analytic mean."""
import math

import numpy as np
import pytest

import fastnn
import fastnn.distributions as D

torch = pytest.importorskip("torch")
TD = torch.distributions


def _pair(values):
    """The same parameter for fastnn and torch, each requiring grad."""
    a = np.asarray(values, dtype=np.float32)
    return (fastnn.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True))


FAMILIES = {
    "Cauchy": (lambda lib, p: lib.Cauchy(p[0], p[1]), [[0.5, -1.0], [1.5, 0.7]],
               [[0.3, -2.0]]),
    "Gumbel": (lambda lib, p: lib.Gumbel(p[0], p[1]), [[0.5, -1.0], [1.5, 0.7]], [[0.3, -2.0]]),
    "HalfNormal": (lambda lib, p: lib.HalfNormal(p[0]), [[0.5, 2.0]], [[0.3, 1.7]]),
    "HalfCauchy": (lambda lib, p: lib.HalfCauchy(p[0]), [[0.5, 2.0]], [[0.3, 1.7]]),
    "Weibull": (lambda lib, p: lib.Weibull(p[0], p[1]), [[1.5, 0.7], [2.0, 1.3]], [[0.4, 2.2]]),
    "Pareto": (lambda lib, p: lib.Pareto(p[0], p[1]), [[1.0, 0.5], [3.0, 2.5]], [[1.5, 0.9]]),
    "StudentT": (lambda lib, p: lib.StudentT(p[0], p[1], p[2]),
                 [[3.0, 5.5], [0.2, -1.0], [1.2, 0.8]], [[0.1, -3.0]]),
    "Chi2": (lambda lib, p: lib.Chi2(p[0]), [[3.0, 5.5]], [[0.7, 4.0]]),
    "Geometric": (lambda lib, p: lib.Geometric(probs=p[0]), [[0.3, 0.8]], [[0.0, 3.0]]),
    "GeometricLogits": (lambda lib, p: lib.Geometric(logits=p[0]), [[0.3, -0.8]], [[1.0, 3.0]]),
    "NegativeBinomial": (lambda lib, p: lib.NegativeBinomial(p[0], probs=p[1]),
                         [[3.0, 5.0], [0.3, 0.6]], [[0.0, 4.0]]),
    "RelaxedBernoulli": (lambda lib, p: lib.RelaxedBernoulli(p[0], probs=p[1]),
                         [[0.5, 0.9], [0.3, 0.6]], [[0.2, 0.7]]),
}
MOMENTS = ["mean", "variance", "entropy", "cdf"]


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_family_matches_torch(name):
    make, params, values = FAMILIES[name]
    pairs = [_pair(p) for p in params]
    ours = make(D, [p[0] for p in pairs])
    theirs = make(TD, [p[1] for p in pairs])
    value = np.asarray(values[0], np.float32)
    lp_ours, lp_theirs = ours.log_prob(fastnn.tensor(value)), theirs.log_prob(torch.tensor(value))
    np.testing.assert_allclose(lp_ours.detach().numpy(), lp_theirs.detach().numpy(), rtol=2e-5,
                               atol=1e-5)
    lp_ours.sum().backward()
    lp_theirs.sum().backward()
    for a, b in pairs:
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-5)
    for moment in MOMENTS:
        try:
            expected = getattr(theirs, moment)
            expected = expected(torch.tensor(value)) if moment == "cdf" else \
                expected() if callable(expected) else expected
        except NotImplementedError:
            continue
        got = getattr(ours, moment)
        got = got(fastnn.tensor(value)) if moment == "cdf" else got() if callable(got) else got
        np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=2e-5,
                                   atol=1e-5, err_msg=moment)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    assert ours.sample((3,)).shape == theirs.sample((3,)).shape
    assert repr(ours.support) == repr(theirs.support)


@pytest.mark.parametrize("name", ["Gumbel", "HalfNormal", "Weibull", "Pareto", "StudentT",
                                  "Chi2", "Geometric", "NegativeBinomial"])
def test_sample_mean_matches_the_analytic_mean(name):
    make, params, _ = FAMILIES[name]
    fastnn.manual_seed(0)
    dist = make(D, [fastnn.tensor(np.asarray(p, np.float32)) for p in params])
    draws = dist.sample((40000,)).numpy().astype(np.float64)
    mean, std = dist.mean.numpy(), np.sqrt(dist.variance.numpy())
    finite = np.isfinite(std)
    err = np.abs(draws.mean(0) - mean)[finite] / (std[finite] / math.sqrt(len(draws)))
    assert np.all(err < 6), err


TRANSFORMS = {
    "exp": lambda lib: lib.ExpTransform(),
    "affine": lambda lib: lib.AffineTransform(0.5, -2.0),
    "sigmoid": lambda lib: lib.SigmoidTransform(),
    "tanh": lambda lib: lib.TanhTransform(),
    "softplus": lambda lib: lib.SoftplusTransform(),
    "power": lambda lib: lib.PowerTransform(2.5),
    "compose": lambda lib: lib.ComposeTransform([lib.AffineTransform(0.1, 3.0),
                                                 lib.SigmoidTransform()]),
    "stick": lambda lib: lib.StickBreakingTransform(),
    "independent": lambda lib: lib.IndependentTransform(lib.ExpTransform(), 1),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transform_matches_torch(name):
    x = np.array([[0.3, -0.8, 1.2], [0.05, 0.6, -1.5]], np.float32)
    if name == "power":
        x = np.abs(x) + 0.1
    xo, xt = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    to, tt = TRANSFORMS[name](D), TRANSFORMS[name](TD)
    yo, yt = to(xo), tt(xt)
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    lo, lt = to.log_abs_det_jacobian(xo, yo), tt.log_abs_det_jacobian(xt, yt)
    np.testing.assert_allclose(lo.detach().numpy(), lt.detach().numpy(), rtol=1e-5, atol=1e-5)
    (lo.sum() + yo.sum()).backward()
    (lt.sum() + yt.sum()).backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    back = to.inv(fastnn.tensor(yt.detach().numpy()))
    np.testing.assert_allclose(back.numpy(), tt.inv(yt.detach()).numpy(), rtol=1e-4, atol=1e-5)
    assert repr(to.domain) == repr(tt.domain) and repr(to.codomain) == repr(tt.codomain)
    assert to.bijective == tt.bijective


def test_squashed_gaussian_policy_as_in_sac():
    """A tanh-squashed Normal: the log_prob of its own rsample uses the cached pre-tanh value
    (no atanh(1) = inf), and the loss's gradient reaches loc and scale as torch's does."""
    found = []
    for lib in (fastnn, torch):
        loc = lib.tensor([0.3, 9.0], requires_grad=True)
        scale = lib.tensor([0.5, 0.2], requires_grad=True)
        base = lib.distributions.Normal(loc, scale)
        dist = lib.distributions.TransformedDistribution(
            base, [lib.distributions.TanhTransform(cache_size=1)])
        action = dist.rsample()
        lp = dist.log_prob(action)
        assert np.all(np.isfinite(lp.detach().numpy()))
        z = lib.tensor([0.1, -0.4])
        y = dist.transforms[0](loc + scale * z)
        value = dist.log_prob(y).sum()
        value.backward()
        found.append((value.item(), loc.grad.numpy().copy(), scale.grad.numpy().copy()))
    assert found[0][0] == pytest.approx(found[1][0], rel=1e-4)
    np.testing.assert_allclose(found[0][1], found[1][1], rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(found[0][2], found[1][2], rtol=1e-3, atol=1e-4)


def test_mixture_same_family_matches_torch():
    logits, locs, scales = _pair([0.2, -0.5, 1.0]), _pair([-1.0, 0.0, 2.0]), \
        _pair([0.5, 1.0, 0.3])
    value = np.array([[-0.7], [1.9]], np.float32)
    out = []
    for lib, i in ((D, 0), (TD, 1)):
        mix = lib.Categorical(logits=logits[i])
        comp = lib.Normal(locs[i], scales[i])
        gmm = lib.MixtureSameFamily(mix, comp)
        mod = fastnn if i == 0 else torch
        lp = gmm.log_prob(mod.tensor(value))
        lp.sum().backward()
        out.append((lp.detach().numpy(), gmm.mean.detach().numpy(),
                    gmm.variance.detach().numpy(), tuple(gmm.sample((5,)).shape)))
    for a, b in zip(out[0][:3], out[1][:3]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert out[0][3] == out[1][3]
    for pair in (logits, locs, scales):
        np.testing.assert_allclose(pair[0].grad.numpy(), pair[1].grad.numpy(), rtol=1e-4,
                                   atol=1e-6)


def test_relaxed_one_hot_categorical_matches_torch():
    logits = _pair([0.2, -0.5, 1.0])
    value = np.array([0.2, 0.3, 0.5], np.float32)
    ours = D.RelaxedOneHotCategorical(0.7, logits=logits[0])
    theirs = TD.RelaxedOneHotCategorical(torch.tensor(0.7), logits=logits[1])
    a, b = ours.log_prob(fastnn.tensor(value)), theirs.log_prob(torch.tensor(value))
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5)
    sample = ours.rsample((4,))
    assert sample.shape == (4, 3) and np.allclose(sample.detach().numpy().sum(-1), 1, atol=1e-5)
    sample.pow(2).sum().backward()
    assert logits[0].grad is not None


def test_constraints_and_biject_to_match_torch():
    C, TC = D.constraints, TD.constraints
    for name in ["real", "positive", "nonnegative", "unit_interval", "simplex", "real_vector",
                 "boolean", "nonnegative_integer", "positive_definite", "lower_cholesky"]:
        assert repr(getattr(C, name)) == repr(getattr(TC, name))
        assert getattr(C, name).event_dim == getattr(TC, name).event_dim
    x = np.array([[0.5, 0.5], [0.2, 0.9], [-0.1, 1.1]], np.float32)
    for name in ["positive", "simplex", "unit_interval", "real_vector"]:
        np.testing.assert_array_equal(getattr(C, name).check(fastnn.tensor(x)).numpy(),
                                      getattr(TC, name).check(torch.tensor(x)).numpy())
    for constraint, theirs in [(C.positive, TC.positive), (C.interval(-1.0, 3.0),
                                                           TC.interval(-1.0, 3.0)),
                               (C.greater_than(2.0), TC.greater_than(2.0)),
                               (C.simplex, TC.simplex), (C.unit_interval, TC.unit_interval)]:
        u = np.array([0.3, -1.2], np.float32)
        np.testing.assert_allclose(D.biject_to(constraint)(fastnn.tensor(u)).numpy(),
                                   TD.biject_to(theirs)(torch.tensor(u)).numpy(), rtol=1e-5)


def test_custom_distribution_with_constraint_objects_validates_as_torch():
    class Custom(D.Distribution):
        arg_constraints = {"rate": D.constraints.positive}
        support = D.constraints.positive

        def __init__(self, rate, validate_args=None):
            self.rate = fastnn.as_tensor(rate)
            super().__init__(self.rate.shape, validate_args=validate_args)

    assert Custom(fastnn.tensor([1.0])).support is D.constraints.positive
    with pytest.raises(ValueError, match=r"constraint GreaterThan\(lower_bound=0.0\)"):
        Custom(fastnn.tensor([-1.0]))
