"""Exponential, Laplace and LogNormal (reparameterised samples), and Gamma, Beta and Dirichlet
(sampled by NumPy; their log_prob, mean, variance and entropy are differentiable in the
parameters, their samples are not: fastnn has no implicit-reparameterisation gradient, so their
rsample says so)."""
import math

import numpy as np

from fastnn.distributions.continuous import Normal, _broadcast
from fastnn.distributions import constraints
from fastnn.distributions.distribution import Distribution, _filled, as_tensor
from fastnn.ops.gamma_functions import digamma, lgamma
from fastnn.ops.sampling import _sample_dirichlet, _standard_gamma
from fastnn.ops.shape import stack

_POSITIVE = ("GreaterThan(lower_bound=0.0)", lambda v: v > 0)
_REAL = ("Real()", lambda v: ~np.isnan(v))


def _scalar_repr(dist, names):
    parts = []
    for name in names:
        value = getattr(dist, name)
        parts.append(f"{name}: {value.item() if value.ndim == 0 else value.shape}")
    return f"{type(dist).__name__}({', '.join(parts)})"


class Exponential(Distribution):
    support = constraints.nonnegative
    has_rsample = True
    arg_constraints = {"rate": _POSITIVE}

    def __init__(self, rate, validate_args=None):
        self.rate = as_tensor(rate)
        super().__init__(tuple(self.rate.shape), (), validate_args)

    mean = property(lambda self: 1 / self.rate)
    stddev = property(lambda self: 1 / self.rate)
    variance = property(lambda self: self.rate ** -2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        return _filled(shape, self.rate.dtype, "exponential") / self.rate  # torch's

    def log_prob(self, value):
        return self.rate.log() - self.rate * as_tensor(value)

    def cdf(self, value):
        return 1 - (-self.rate * as_tensor(value)).exp()

    def entropy(self):
        return 1.0 - self.rate.log()

    def __repr__(self):
        return _scalar_repr(self, ["rate"])


class Laplace(Distribution):
    support = constraints.real
    has_rsample = True
    arg_constraints = {"loc": _REAL, "scale": _POSITIVE}

    def __init__(self, loc, scale, validate_args=None):
        (self.loc, self.scale), shape = _broadcast(loc, scale)
        super().__init__(shape, (), validate_args)

    mean = property(lambda self: self.loc)
    stddev = property(lambda self: math.sqrt(2) * self.scale)
    variance = property(lambda self: 2 * self.scale ** 2)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = float(np.finfo(self.loc._data.dtype).eps)
        u = _filled(shape, self.loc.dtype, "uniform", eps - 1, 1)  # torch's
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        return -(2 * self.scale).log() - (as_tensor(value) - self.loc).abs() / self.scale

    def entropy(self):
        return 1 + (2 * self.scale).log()

    def __repr__(self):
        return _scalar_repr(self, ["loc", "scale"])


class LogNormal(Distribution):
    """exp of a Normal(loc, scale) variable."""
    support = constraints.positive
    has_rsample = True
    arg_constraints = {"loc": _REAL, "scale": _POSITIVE}

    def __init__(self, loc, scale, validate_args=None):
        self.base_dist = Normal(loc, scale, validate_args=validate_args)
        self.loc, self.scale = self.base_dist.loc, self.base_dist.scale
        super().__init__(tuple(self.base_dist.batch_shape), (), validate_args)

    mean = property(lambda self: (self.loc + self.scale ** 2 / 2).exp())
    variance = property(lambda self: ((self.scale ** 2).exp() - 1) *
                        (2 * self.loc + self.scale ** 2).exp())

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape).exp()

    def log_prob(self, value):
        value = as_tensor(value)
        return self.base_dist.log_prob(value.log()) - value.log()

    def entropy(self):
        return self.base_dist.entropy() + self.loc

    def __repr__(self):
        return "LogNormal()"


class _NoReparameterisation:
    has_rsample = False

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__}.rsample: fastnn samples it without a "
                                  "reparameterisation gradient; use sample()")


class Gamma(_NoReparameterisation, Distribution):
    support = constraints.nonnegative
    arg_constraints = {"concentration": _POSITIVE, "rate": _POSITIVE}

    def __init__(self, concentration, rate, validate_args=None):
        (self.concentration, self.rate), shape = _broadcast(concentration, rate)
        super().__init__(shape, (), validate_args)

    mean = property(lambda self: self.concentration / self.rate)
    variance = property(lambda self: self.concentration / self.rate ** 2)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        # torch's rsample: its standard gamma sampler, divided by the rate, at least tiny
        value = _standard_gamma(self.concentration.detach().expand(*shape)) / \
            self.rate.detach().expand(*shape)
        return value.clamp_(min=float(np.finfo(value._data.dtype).tiny))

    def log_prob(self, value):
        value = as_tensor(value)
        a, b = self.concentration, self.rate
        return a * b.log() + (a - 1) * value.log() - b * value - lgamma(a)

    def cdf(self, value):
        from fastnn.ops.incomplete_gamma import igamma
        return igamma(self.concentration, self.rate * as_tensor(value))

    def entropy(self):
        a = self.concentration
        return a - self.rate.log() + lgamma(a) + (1 - a) * digamma(a)

    def __repr__(self):
        return _scalar_repr(self, ["concentration", "rate"])


class Beta(_NoReparameterisation, Distribution):
    support = constraints.unit_interval
    arg_constraints = {"concentration1": _POSITIVE, "concentration0": _POSITIVE}

    def __init__(self, concentration1, concentration0, validate_args=None):
        (self.concentration1, self.concentration0), shape = _broadcast(concentration1,
                                                                       concentration0)
        super().__init__(shape, (), validate_args)

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total ** 2 * (total + 1))

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        # torch's: a Dirichlet over (concentration1, concentration0), its first component
        pair = stack([self.concentration1.detach(), self.concentration0.detach()], -1)
        return _sample_dirichlet(pair.expand(*shape, 2)).select(-1, 0)

    def _log_normaliser(self):
        a, b = self.concentration1, self.concentration0
        return lgamma(a) + lgamma(b) - lgamma(a + b)

    def log_prob(self, value):
        value = as_tensor(value)
        a, b = self.concentration1, self.concentration0
        return (a - 1) * value.log() + (b - 1) * (1 - value).log() - self._log_normaliser()

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        return (self._log_normaliser() - (a - 1) * digamma(a) - (b - 1) * digamma(b)
                + (a + b - 2) * digamma(a + b))

    def __repr__(self):
        return "Beta()"


class Dirichlet(_NoReparameterisation, Distribution):
    support = constraints.simplex
    arg_constraints = {"concentration": ("IndependentConstraint(GreaterThan(lower_bound=0.0), "
                                         "1)", lambda v: v > 0)}

    def __init__(self, concentration, validate_args=None):
        self.concentration = as_tensor(concentration)
        if self.concentration.ndim < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        super().__init__(tuple(self.concentration.shape[:-1]),
                         tuple(self.concentration.shape[-1:]), validate_args)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def variance(self):
        total = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (total - self.concentration) / (total ** 2 * (total + 1))

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        return _sample_dirichlet(self.concentration.detach().expand(*shape))

    def log_prob(self, value):
        value = as_tensor(value)
        a = self.concentration
        return (((a - 1) * value.log()).sum(-1) + lgamma(a.sum(-1)) - lgamma(a).sum(-1))

    def entropy(self):
        a = self.concentration
        k = a.shape[-1]
        total = a.sum(-1)
        return (lgamma(a).sum(-1) - lgamma(total) - (k - total) * digamma(total)
                - ((a - 1) * digamma(a)).sum(-1))

    def __repr__(self):
        return f"Dirichlet(concentration: {self.concentration.shape})"
