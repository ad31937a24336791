"""TransformedDistribution (a base distribution pushed through transforms: samples are
t(x), densities pick up -log |det J| of each step), the families torch builds on it (HalfNormal,
HalfCauchy, Gumbel, Weibull, Pareto, RelaxedBernoulli, RelaxedOneHotCategorical), and
biject_to / transform_to (the transform from unconstrained space onto a constraint)."""
import math

import numpy as np

from fastnn.distributions import constraints
from fastnn.distributions.continuous import Normal, _broadcast
from fastnn.distributions.distribution import Distribution, _filled, _rand, as_tensor
from fastnn.distributions.more_continuous import _scalar_repr
from fastnn.distributions.multivariate import Independent
from fastnn.distributions.transforms import (AbsTransform, AffineTransform, ComposeTransform,
                                             ExpTransform, PowerTransform, SigmoidTransform,
                                             StickBreakingTransform, Transform, _sum_rightmost,
                                             identity_transform)
from fastnn.ops.gamma_functions import lgamma
from fastnn.tensor import Tensor

_EULER = 0.57721566490153286060


class TransformedDistribution(Distribution):
    """torch.distributions.TransformedDistribution(base_distribution, transforms)."""
    arg_constraints = {}

    def __init__(self, base_distribution, transforms, validate_args=None):
        if isinstance(transforms, Transform):
            self.transforms = [transforms]
        elif isinstance(transforms, list):
            if not all(isinstance(t, Transform) for t in transforms):
                raise ValueError("transforms must be a Transform or a list of Transforms")
            self.transforms = transforms
        else:
            raise ValueError(f"transforms must be a Transform or list, but was {transforms}")
        base_shape = tuple(base_distribution.batch_shape) + tuple(base_distribution.event_shape)
        base_event_dim = len(base_distribution.event_shape)
        transform = ComposeTransform(self.transforms)
        if len(base_shape) < transform.domain.event_dim:
            raise ValueError(f"base_distribution needs to have shape with size at least "
                             f"{transform.domain.event_dim}, but got {base_shape}.")
        forward_shape = tuple(transform.forward_shape(base_shape))
        expanded_base_shape = tuple(transform.inverse_shape(forward_shape))
        if base_shape != expanded_base_shape:
            raise NotImplementedError("fastnn's TransformedDistribution needs transforms that "
                                      "keep the base distribution's shape")
        reinterpreted = transform.domain.event_dim - base_event_dim
        if reinterpreted > 0:
            base_distribution = Independent(base_distribution, reinterpreted)
        self.base_dist = base_distribution
        change = transform.codomain.event_dim - transform.domain.event_dim
        event_dim = max(transform.codomain.event_dim, base_event_dim + change)
        cut = len(forward_shape) - event_dim
        super().__init__(forward_shape[:cut], forward_shape[cut:], validate_args)

    @property
    def has_rsample(self):
        return self.base_dist.has_rsample

    @property
    def support(self):
        if not self.transforms:
            return self.base_dist.support
        support = self.transforms[-1].codomain
        if len(self.event_shape) > support.event_dim:
            support = constraints.independent(support, len(self.event_shape) -
                                              support.event_dim)
        return support

    def sample(self, sample_shape=()):
        from fastnn.autograd.grad_mode import no_grad
        with no_grad():
            x = self.base_dist.sample(sample_shape)
            for transform in self.transforms:
                x = transform(x)
            return x

    def rsample(self, sample_shape=()):
        x = self.base_dist.rsample(sample_shape)
        for transform in self.transforms:
            x = transform(x)
        return x

    def log_prob(self, value):
        value = as_tensor(value)
        event_dim = len(self.event_shape)
        log_prob = 0.0
        y = value
        for transform in reversed(self.transforms):
            x = transform.inv(y)
            event_dim += transform.domain.event_dim - transform.codomain.event_dim
            log_prob = log_prob - _sum_rightmost(transform.log_abs_det_jacobian(x, y),
                                                 event_dim - transform.domain.event_dim)
            y = x
        return log_prob + _sum_rightmost(self.base_dist.log_prob(y),
                                         event_dim - len(self.base_dist.event_shape))

    def _monotonize_cdf(self, value):
        sign = 1
        for transform in self.transforms:
            sign = sign * transform.sign
        if isinstance(sign, int) and sign == 1:
            return value
        return sign * (value - 0.5) + 0.5

    def cdf(self, value):
        value = as_tensor(value)
        for transform in self.transforms[::-1]:
            value = transform.inv(value)
        return self._monotonize_cdf(self.base_dist.cdf(value))

    def __repr__(self):
        return f"{type(self).__name__}()"


class _Folded(TransformedDistribution):
    """|X| for X from a distribution symmetric about 0 with this scale: twice its density
    on [0, inf), its cdf doubled about 1/2, its entropy less log 2."""
    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, base, validate_args=None):
        super().__init__(base, AbsTransform(), validate_args=validate_args)

    mode = property(lambda self: self.scale.new_zeros(tuple(self.scale.shape)))

    def log_prob(self, value):
        value = as_tensor(value)
        lp = self.base_dist.log_prob(value) + math.log(2)
        return lp.masked_fill(value < 0, -math.inf)

    def cdf(self, value):
        return 2 * self.base_dist.cdf(value) - 1

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)


class HalfNormal(_Folded):
    """|X| for X ~ Normal(0, scale)."""

    def __init__(self, scale, validate_args=None):
        self.scale = as_tensor(scale)
        super().__init__(Normal(0.0 * self.scale, self.scale, validate_args=False),
                         validate_args=validate_args)

    mean = property(lambda self: self.scale * math.sqrt(2 / math.pi))
    variance = property(lambda self: self.scale.pow(2) * (1 - 2 / math.pi))


class Cauchy(Distribution):
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        (self.loc, self.scale), shape = _broadcast(loc, scale)
        super().__init__(shape, (), validate_args)

    mean = property(lambda self: self.loc.new_full(tuple(self.batch_shape), math.nan))
    mode = property(lambda self: self.loc)
    variance = property(lambda self: self.loc.new_full(tuple(self.batch_shape), math.inf))

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = _filled(shape, self.loc.dtype, "cauchy")  # torch's cauchy_ draws
        return self.loc + eps * self.scale

    def log_prob(self, value):
        z = (as_tensor(value) - self.loc) / self.scale
        return -math.log(math.pi) - self.scale.log() - (z * z).log1p()

    def cdf(self, value):
        return ((as_tensor(value) - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value):
        return (math.pi * (as_tensor(value) - 0.5)).tan() * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()

    def __repr__(self):
        return _scalar_repr(self, ["loc", "scale"])


class HalfCauchy(_Folded):
    """|X| for X ~ Cauchy(0, scale)."""

    def __init__(self, scale, validate_args=None):
        self.scale = as_tensor(scale)
        super().__init__(Cauchy(0.0 * self.scale, self.scale, validate_args=False),
                         validate_args=validate_args)

    mean = property(lambda self: self.scale.new_full(tuple(self.batch_shape), math.inf))
    variance = property(lambda self: self.scale.new_full(tuple(self.batch_shape), math.inf))



def _unit_uniform(shape, dtype):
    """Gumbel's Uniform(tiny, 1 - eps) draws (finite logs at both ends): torch.rand scaled."""
    finfo = np.finfo(dtype)
    low, high = dtype.type(finfo.tiny), dtype.type(1 - finfo.eps)
    return _rand(shape, dtype).numpy() * (high - low) + low


def _clamped_rand(shape, dtype):
    """torch's clamp_probs(torch.rand(shape)): within [eps, 1 - eps]."""
    eps = float(np.finfo(dtype).eps)
    return _rand(shape, dtype).clamp(min=eps, max=1 - eps)


class Gumbel(Distribution):
    """Gumbel(loc, scale): loc - scale log(-log U)."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        (self.loc, self.scale), shape = _broadcast(loc, scale)
        super().__init__(shape, (), validate_args)

    mean = property(lambda self: self.loc + self.scale * _EULER)
    mode = property(lambda self: self.loc)
    stddev = property(lambda self: (math.pi / math.sqrt(6)) * self.scale)
    variance = property(lambda self: self.stddev.pow(2))

    def rsample(self, sample_shape=()):
        u = Tensor._wrap(_unit_uniform(self._extended_shape(sample_shape),
                                       self.loc._data.dtype))
        return self.loc - self.scale * (-u.log()).log()

    def log_prob(self, value):
        z = (self.loc - as_tensor(value)) / self.scale
        return z - z.exp() - self.scale.log()

    def cdf(self, value):
        return (-(-(as_tensor(value) - self.loc) / self.scale).exp()).exp()

    def entropy(self):
        return self.scale.log() + (1 + _EULER)

    def __repr__(self):
        return _scalar_repr(self, ["loc", "scale"])


class Weibull(TransformedDistribution):
    """scale * E^(1/concentration) for E ~ Exponential(1)."""
    arg_constraints = {"scale": constraints.positive,
                       "concentration": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, scale, concentration, validate_args=None):
        from fastnn.distributions.more_continuous import Exponential
        (self.scale, self.concentration), shape = _broadcast(scale, concentration)
        self.concentration_reciprocal = self.concentration.reciprocal()
        base = Exponential(self.scale.new_ones(shape), validate_args=validate_args)
        super().__init__(base, [PowerTransform(exponent=self.concentration_reciprocal),
                                AffineTransform(loc=0, scale=self.scale)],
                         validate_args=validate_args)

    @property
    def mean(self):
        return self.scale * lgamma(1 + self.concentration_reciprocal).exp()

    @property
    def mode(self):
        c = self.concentration
        return self.scale * ((c - 1) / c) ** c.reciprocal()

    @property
    def variance(self):
        r = self.concentration_reciprocal
        return self.scale.pow(2) * (lgamma(1 + 2 * r).exp() - lgamma(1 + r).exp().pow(2))

    def entropy(self):
        return (_EULER * (1 - self.concentration_reciprocal) +
                (self.scale * self.concentration_reciprocal).log() + 1)

    def __repr__(self):
        return _scalar_repr(self, ["scale", "concentration"])


class Pareto(TransformedDistribution):
    """scale * exp(E) for E ~ Exponential(alpha)."""
    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}
    has_rsample = True

    def __init__(self, scale, alpha, validate_args=None):
        from fastnn.distributions.more_continuous import Exponential
        (self.scale, self.alpha), shape = _broadcast(scale, alpha)
        base = Exponential(self.alpha, validate_args=validate_args)
        super().__init__(base, [ExpTransform(), AffineTransform(loc=0, scale=self.scale)],
                         validate_args=validate_args)

    @property
    def support(self):
        return constraints.greater_than_eq(self.scale)

    @property
    def mean(self):
        a = self.alpha.clamp(min=1)
        return a * self.scale / (a - 1)

    mode = property(lambda self: self.scale)

    @property
    def variance(self):
        a = self.alpha.clamp(min=2)
        return self.scale.pow(2) * a / ((a - 1).pow(2) * (a - 2))

    def log_prob(self, value):
        value = as_tensor(value)
        lp = super().log_prob(value)
        return lp.masked_fill(value < self.scale, -math.inf)

    def entropy(self):
        return (self.scale / self.alpha).log() + (1 + self.alpha.reciprocal())

    def __repr__(self):
        return _scalar_repr(self, ["scale", "alpha"])


def _probs_logits(probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")
    if probs is not None:
        probs = as_tensor(probs)
        eps = np.finfo(probs._data.dtype).eps
        clamped = probs.clamp(min=eps, max=1 - eps)
        return probs, clamped.log() - (-clamped).log1p(), "probs"
    logits = as_tensor(logits)
    return logits.sigmoid(), logits, "logits"


class LogitRelaxedBernoulli(Distribution):
    """The logit of a RelaxedBernoulli sample (Maddison et al. 2017, the Concrete
    distribution)."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self.temperature = as_tensor(temperature)
        self.probs, self.logits, given = _probs_logits(probs, logits)
        self._given = [given]
        super().__init__(tuple(self.logits.shape), (), validate_args)

    def rsample(self, sample_shape=()):
        u = _clamped_rand(self._extended_shape(sample_shape), self.logits._data.dtype)
        return (self.logits + u.log() - (-u).log1p()) / self.temperature

    def log_prob(self, value):
        diff = self.logits - as_tensor(value) * self.temperature
        from fastnn.nn import functional as F
        return self.temperature.log() + diff - 2 * F.softplus(diff)


class _Relaxed(TransformedDistribution):
    """A relaxed distribution: its base (`_base`: the logit or log of a sample) pushed
    through `_transform`; its parameters are the base's."""
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = self._base(temperature, probs, logits, validate_args=validate_args)
        super().__init__(base, self._transform(), validate_args=validate_args)

    temperature = property(lambda self: self.base_dist.temperature)
    logits = property(lambda self: self.base_dist.logits)
    probs = property(lambda self: self.base_dist.probs)


class RelaxedBernoulli(_Relaxed):
    """torch.distributions.RelaxedBernoulli(temperature, probs=None, logits=None)."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    _base, _transform = LogitRelaxedBernoulli, SigmoidTransform


class ExpRelaxedCategorical(Distribution):
    """The log of a RelaxedOneHotCategorical sample (Gumbel-softmax in log space; Jang et al.
    2017, Maddison et al. 2017)."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        from fastnn.distributions.discrete import Categorical
        self._categorical = Categorical(probs, logits)
        self.temperature = as_tensor(temperature)
        param = self._categorical.logits
        super().__init__(tuple(param.shape[:-1]), tuple(param.shape[-1:]), validate_args)

    logits = property(lambda self: self._categorical.logits)
    probs = property(lambda self: self._categorical.probs)

    def rsample(self, sample_shape=()):
        u = _clamped_rand(self._extended_shape(sample_shape), self.logits._data.dtype)
        gumbels = -(-u.log()).log()
        scores = (self.logits + gumbels) / self.temperature
        return scores - scores.logsumexp(-1, keepdim=True)

    def log_prob(self, value):
        k = self.event_shape[0]
        log_scale = (lgamma(self.temperature.new_full(tuple(self.temperature.shape), float(k)))
                     - self.temperature.log() * -(k - 1))
        score = self.logits - as_tensor(value) * self.temperature
        score = (score - score.logsumexp(-1, keepdim=True)).sum(-1)
        return score + log_scale


class RelaxedOneHotCategorical(_Relaxed):
    """torch.distributions.RelaxedOneHotCategorical(temperature, probs=None, logits=None)."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    _base, _transform = ExpRelaxedCategorical, ExpTransform


def biject_to(constraint):
    """The bijective transform from unconstrained reals onto `constraint` (for optimising a
    constrained parameter in unconstrained space)."""
    return _transform_to(constraint, bijective=True)


def transform_to(constraint):
    """A transform from unconstrained reals onto `constraint` (not necessarily bijective)."""
    return _transform_to(constraint, bijective=False)


def _transform_to(constraint, bijective):
    c = constraint
    if isinstance(c, constraints._IndependentConstraint):
        from fastnn.distributions.transforms import IndependentTransform
        return IndependentTransform(_transform_to(c.base_constraint, bijective),
                                    c.reinterpreted_batch_ndims)
    if type(c) is constraints._Real:
        return identity_transform
    if type(c) in (constraints._GreaterThan, constraints._GreaterThanEq):
        if c.lower_bound == 0 and not isinstance(c.lower_bound, Tensor):
            return ExpTransform()
        return ComposeTransform([ExpTransform(), AffineTransform(c.lower_bound, 1)])
    if type(c) is constraints._LessThan:
        return ComposeTransform([ExpTransform(), AffineTransform(c.upper_bound, -1)])
    if type(c) in (constraints._Interval, constraints._HalfOpenInterval):
        lower, upper = c.lower_bound, c.upper_bound
        if not isinstance(lower, Tensor) and not isinstance(upper, Tensor) and \
                lower == 0 and upper == 1:
            return SigmoidTransform()
        return ComposeTransform([SigmoidTransform(), AffineTransform(lower, upper - lower)])
    if type(c) is constraints._Simplex:
        if bijective:
            return StickBreakingTransform()
        from fastnn.distributions.transforms import SoftmaxTransform
        return SoftmaxTransform()
    raise NotImplementedError(f"Cannot transform {type(c).__name__} constraints")


__all__ = ["Cauchy", "ExpRelaxedCategorical", "Gumbel", "HalfCauchy", "HalfNormal",
           "LogitRelaxedBernoulli", "Pareto", "RelaxedBernoulli", "RelaxedOneHotCategorical",
           "TransformedDistribution", "Weibull", "biject_to", "transform_to"]
