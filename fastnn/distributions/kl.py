"""torch.distributions.kl: kl_divergence(p, q) in closed form for pairs of distributions, and
register_kl to add a pair. Lookup follows the classes' MRO, so a subclass inherits its
parent's formula (OneHotCategorical uses Categorical's). Every formula is built from
differentiable ops, so a VAE's KL term trains."""
import math

import numpy as np

from fastnn.distributions.continuous import Normal, Uniform
from fastnn.distributions.discrete import Bernoulli, Categorical, Poisson
from fastnn.distributions.more_continuous import Beta, Dirichlet, Exponential, Gamma, Laplace
from fastnn.distributions.multivariate import Independent, MultivariateNormal
from fastnn.nn import functional as F
from fastnn.ops.gamma_functions import digamma, lgamma
from fastnn.tensor import Tensor

_KL = {}


def register_kl(type_p, type_q):
    """Decorator: fn(p, q) is KL(p || q) for p of type_p and q of type_q."""
    def decorator(fn):
        _KL[(type_p, type_q)] = fn
        return fn
    return decorator


def _lookup(type_p, type_q):
    for cp in type_p.__mro__:
        for cq in type_q.__mro__:
            if (cp, cq) in _KL:
                return _KL[(cp, cq)]
    return None


def kl_divergence(p, q):
    fn = _lookup(type(p), type(q))
    if fn is None:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type "
                                  f"{type(p).__name__} and q type {type(q).__name__}")
    return fn(p, q)


def _where_constant(mask, value, tensor):
    """tensor with `value` where mask is set (no gradient there, as torch's masked writes)."""
    mask = np.broadcast_to(mask, tuple(tensor.shape))
    return tensor.masked_fill(Tensor._wrap(np.array(mask)), value)


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    var_ratio = (p.scale / q.scale) ** 2
    t1 = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    t = _where_constant(q.probs._data == 0, math.inf, t)
    t = _where_constant(p.probs._data == 0, 0.0, t)
    return t.sum(-1)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    t1 = p.probs * (F.softplus(-q.logits) - F.softplus(-p.logits))
    t1 = _where_constant(q.probs._data == 0, math.inf, t1)
    t1 = _where_constant(p.probs._data == 0, 0.0, t1)
    t2 = (1 - p.probs) * (F.softplus(q.logits) - F.softplus(p.logits))
    t2 = _where_constant(q.probs._data == 1, math.inf, t2)
    t2 = _where_constant(p.probs._data == 1, 0.0, t2)
    return t1 + t2


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = ((q.high - q.low) / (p.high - p.low)).log()
    outside = (q.low._data > p.low._data) | (q.high._data < p.high._data)
    return _where_constant(outside, math.inf, result)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p, q):
    ratio = q.rate / p.rate
    return ratio - 1 - ratio.log()


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p, q):
    scale_ratio = p.scale / q.scale
    distance = (p.loc - q.loc).abs()
    return -scale_ratio.log() + distance / q.scale + scale_ratio * (-distance / p.scale).exp() - 1


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p, q):
    return p.rate * (p.rate.log() - q.rate.log()) - (p.rate - q.rate)


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    a1, b1, a2, b2 = p.concentration, p.rate, q.concentration, q.rate
    return ((a1 - a2) * digamma(a1) - lgamma(a1) + lgamma(a2)
            + a2 * (b1.log() - b2.log()) + a1 * (b2 - b1) / b1)


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    a1, b1, a2, b2 = p.concentration1, p.concentration0, q.concentration1, q.concentration0
    return (q._log_normaliser() - p._log_normaliser() + (a1 - a2) * digamma(a1)
            + (b1 - b2) * digamma(b1) + (a2 - a1 + b2 - b1) * digamma(a1 + b1))


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    a1, a2 = p.concentration, q.concentration
    total1 = a1.sum(-1)
    return (lgamma(total1) - lgamma(a2.sum(-1)) - (lgamma(a1) - lgamma(a2)).sum(-1)
            + ((a1 - a2) * (digamma(a1) - digamma(total1).unsqueeze(-1))).sum(-1))


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p, q):
    from fastnn import linalg
    if tuple(p.event_shape) != tuple(q.event_shape):
        raise ValueError("KL-divergence between two Multivariate Normals with different event "
                         "shapes cannot be computed")
    k = p.event_shape[0]
    shape = np.broadcast_shapes(tuple(p._tril.shape), tuple(q._tril.shape))
    lq, lp = q._tril.expand(*shape), p._tril.expand(*shape)
    trace = (linalg.solve_triangular(lq, lp, upper=False) ** 2).sum((-2, -1))
    diff = (q.loc - p.loc)
    diff = diff.expand(*(shape[:-1]))
    maha = (linalg.solve_triangular(lq, diff.unsqueeze(-1), upper=False) ** 2).sum((-2, -1))
    return q._half_log_det() - p._half_log_det() + 0.5 * (trace + maha - k)


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("KL between Independents with different event dims is not "
                                  "implemented")
    return p._sum_rightmost(kl_divergence(p.base_dist, q.base_dist))
