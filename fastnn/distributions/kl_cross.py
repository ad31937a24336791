"""KL divergences between distributions of different families, as torch.distributions.kl has
them: closed forms where p's support lies inside q's (each KL = E_p[log p] - E_p[log q], with
the moments of p written out), and infinity where it does not (a Normal against a Gamma, whose
support misses the negative half line), as torch returns for those pairs."""
import math

import numpy as np

from fastnn.distributions.continuous import Normal, Uniform
from fastnn.distributions.discrete import Bernoulli, Binomial, Poisson
from fastnn.distributions.kl import _where_constant, register_kl
from fastnn.distributions.more_continuous import Beta, Exponential, Gamma, Laplace
from fastnn.ops.gamma_functions import digamma, lgamma

_EULER = 0.5772156649015329  # Euler-Mascheroni: E[log X] = -gamma - log(rate), X ~ Exp(rate)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _infinite(p, q):
    """KL(p || q) where p puts mass outside q's support: +inf over p's batch."""
    from fastnn.creation import full
    return full(tuple(p.batch_shape), math.inf, dtype=_dtype(p))


def _dtype(p):
    for name in ("loc", "rate", "concentration", "low", "probs", "concentration1"):
        value = getattr(p, name, None)
        if value is not None and hasattr(value, "dtype"):
            return value.dtype
    return None


for _p, _qs in ((Exponential, (Beta, Uniform)), (Gamma, (Beta, Uniform)),
                (Laplace, (Beta, Exponential, Gamma, Uniform)),
                (Normal, (Beta, Exponential, Gamma, Uniform)), (Poisson, (Bernoulli, Binomial))):
    for _q in _qs:
        register_kl(_p, _q)(_infinite)


def _normal_log_density_mean(q, second_moment_about_loc):
    """E_p[log q] for q Normal, from E_p[(x - q.loc)^2]."""
    return -q.scale.log() - _HALF_LOG_2PI - second_moment_about_loc / (2 * q.scale ** 2)


@register_kl(Uniform, Normal)
def _kl_uniform_normal(p, q):
    width = p.high - p.low
    centre = (p.high + p.low) / 2
    return -width.log() - _normal_log_density_mean(q, width ** 2 / 12 + (centre - q.loc) ** 2)


@register_kl(Exponential, Normal)
def _kl_exponential_normal(p, q):
    inverse = 1 / p.rate  # E[x], and E[x^2] = 2 / rate^2
    second = 2 * inverse ** 2 - 2 * q.loc * inverse + q.loc ** 2
    return p.rate.log() - 1 - _normal_log_density_mean(q, second)


@register_kl(Laplace, Normal)
def _kl_laplace_normal(p, q):
    second = 2 * p.scale ** 2 + (p.loc - q.loc) ** 2
    return -(2 * p.scale).log() - 1 - _normal_log_density_mean(q, second)


def _gamma_log_density_mean(q, mean_log_x, mean_x):
    """E_p[log q] for q Gamma(concentration, rate), from E_p[log x] and E_p[x]."""
    a, b = q.concentration, q.rate
    return a * b.log() - lgamma(a) + (a - 1) * mean_log_x - b * mean_x


@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p, q):
    mean_log_x = -_EULER - p.rate.log()
    return p.rate.log() - 1 - _gamma_log_density_mean(q, mean_log_x, 1 / p.rate)


@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p, q):
    a, b = p.concentration, p.rate
    entropy = a - b.log() + lgamma(a) + (1 - a) * digamma(a)
    return -entropy - q.rate.log() + q.rate * a / b


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p, q):
    result = -(p.high - p.low).log() - q.rate.log() + q.rate * (p.high + p.low) / 2
    return _where_constant(p.low._data < 0, math.inf, result)


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p, q):
    low, high = p.low, p.high  # (a low of zero is allowed; below zero the KL is infinite)
    mean_log_x = _mean_x_log_x(low, high)
    result = -(high - low).log() - _gamma_log_density_mean(q, mean_log_x, (high + low) / 2)
    return _where_constant(low._data < 0, math.inf, result)


@register_kl(Gamma, Normal)
def _kl_gamma_normal(p, q):
    mean = p.concentration / p.rate
    second = p.concentration * (p.concentration + 1) / p.rate ** 2
    return -p.entropy() - _normal_log_density_mean(q, second - 2 * q.loc * mean + q.loc ** 2)


def _beta_moments(p):
    """E[x] and E[x^2] of a Beta."""
    a, b = p.concentration1, p.concentration0
    mean = a / (a + b)
    return mean, a * b / ((a + b) ** 2 * (a + b + 1)) + mean ** 2


@register_kl(Beta, Normal)
def _kl_beta_normal(p, q):
    mean, second = _beta_moments(p)
    return -p.entropy() - _normal_log_density_mean(q, second - 2 * q.loc * mean + q.loc ** 2)


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p, q):
    result = -p.entropy() + (q.high - q.low).log()
    outside = (q.low._data > 0) | (q.high._data < 1)
    return _where_constant(outside, math.inf, result)


@register_kl(Beta, Exponential)
def _kl_beta_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * _beta_moments(p)[0]


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p, q):
    a, b = p.concentration1, p.concentration0
    mean_log_x = digamma(a) - digamma(a + b)
    return -p.entropy() - _gamma_log_density_mean(q, mean_log_x, _beta_moments(p)[0])


def _mean_x_log_x(low, high):
    """(high log high - low log low) / (high - low) - 1: E[log x] for x ~ U(low, high) on
    [0, inf), with 0 log 0 = 0."""
    def x_log_x(v):
        safe = v.clamp(min=np.finfo(np.float64).tiny)
        return _where_constant(v._data <= 0, 0.0, v * safe.log())
    return (x_log_x(high) - x_log_x(low)) / (high - low) - 1


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p, q):
    width = p.high - p.low
    mean_log_x = _mean_x_log_x(p.low, p.high)
    mean_log_1mx = _mean_x_log_x(1 - p.high, 1 - p.low)  # (1 - x is uniform too)
    result = (-width.log() - (q.concentration1 - 1) * mean_log_x
              - (q.concentration0 - 1) * mean_log_1mx + q._log_normaliser())
    outside = (p.low._data < 0) | (p.high._data > 1)
    return _where_constant(outside, math.inf, result)


@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p, q):
    # E_p[log q(x)] = x log(rate) - rate - log(x!), and log(x!) = 0 for x in {0, 1}
    return -p.entropy() - p.probs * q.rate.log() + q.rate


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p, q):
    from fastnn.special import erf
    # E|x - m| for x ~ N(mu, s): s sqrt(2/pi) exp(-d^2 / 2s^2) + d erf(d / (s sqrt 2)), d = mu - m
    d = p.loc - q.loc
    mean_abs = (p.scale * math.sqrt(2 / math.pi) * (-(d ** 2) / (2 * p.scale ** 2)).exp()
                + d * erf(d / (p.scale * math.sqrt(2))))
    return -p.entropy() + (2 * q.scale).log() + mean_abs / q.scale
