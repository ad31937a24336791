"""Categorical, OneHotCategorical, Bernoulli and Multinomial."""
import numpy as np

from fastnn.distributions import constraints
from fastnn.distributions.distribution import Distribution, as_tensor
from fastnn.nn import functional as F
from fastnn.ops.statistics import logsumexp
from fastnn.tensor import Tensor


def _simplex(p):
    return (p >= 0).all() and np.allclose(p.sum(-1), 1.0, atol=1e-6)


class Categorical(Distribution):
    """Over {0, ..., K-1}, from probs (normalised along the last dim) or logits."""
    support = property(lambda self: constraints.integer_interval(0,
                                                                 self._num_events - 1))

    arg_constraints = {"probs": ("Simplex()", _simplex),
                       "logits": ("IndependentConstraint(Real(), 1)",
                                  lambda v: ~np.isnan(v))}

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        self._given = ["probs" if probs is not None else "logits"]
        if probs is not None:
            probs = as_tensor(probs)
            if probs.ndim < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
            self.logits = None
        else:
            logits = as_tensor(logits)
            if logits.ndim < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logsumexp(logits, -1, keepdim=True)
            self.probs = None
        param = self.probs if self.probs is not None else self.logits
        self._num_events = param.shape[-1]
        super().__init__(tuple(param.shape[:-1]), (), validate_args)
        if self.probs is None:
            self.probs = F.softmax(self.logits, -1)
        else:
            self.logits = self.probs.clamp(min=np.finfo(np.float32).tiny).log()

    @property
    def param_shape(self):
        return self.probs.shape

    @property
    def mean(self):
        return Tensor._wrap(np.full(tuple(self.batch_shape), np.nan, np.float32))

    def sample(self, sample_shape=()):
        # torch's: multinomial with replacement over the rows of probs, one column a sample
        from fastnn.ops.sampling import multinomial
        n = int(np.prod(tuple(sample_shape), dtype=np.int64))
        probs_2d = self.probs.detach().reshape(-1, self._num_events)
        samples_2d = multinomial(probs_2d, n, True).T
        return samples_2d.reshape(tuple(sample_shape) + tuple(self.batch_shape))

    def log_prob(self, value):
        value = value if isinstance(value, Tensor) else Tensor(np.asarray(value))
        idx = value._data.astype(np.int64)
        if ((idx < 0) | (idx >= self._num_events)).any() or \
                not np.array_equal(idx, value._data):
            raise ValueError(f"Expected value argument (Tensor of shape {tuple(idx.shape)}) to "
                             f"be within the support (IntegerInterval(lower_bound=0, "
                             f"upper_bound={self._num_events - 1})) of the distribution "
                             f"{self!r}, but found invalid values:\n{value}")
        shape = np.broadcast_shapes(idx.shape, tuple(self.batch_shape))
        logits = self.logits.expand(*shape, self._num_events)
        index = Tensor._wrap(np.broadcast_to(idx, shape)[..., None].copy())
        return logits.gather(-1, index).squeeze(-1)

    def entropy(self):
        logits = self.logits.clamp(min=float(np.finfo(np.float32).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = Tensor._wrap(np.arange(self._num_events, dtype=np.int64).reshape(
            (-1,) + (1,) * len(self.batch_shape)))
        return values.expand(self._num_events, *self.batch_shape) if expand else values


class OneHotCategorical(Categorical):
    support = constraints.one_hot
    def __init__(self, probs=None, logits=None, validate_args=None):
        super().__init__(probs, logits, validate_args)
        self._event_shape = type(self._event_shape)((self._num_events,))

    def sample(self, sample_shape=()):
        return F.one_hot(super().sample(sample_shape), self._num_events).to(self.probs.dtype)

    def log_prob(self, value):
        return super().log_prob(value.argmax(-1))


class Bernoulli(Distribution):
    support = constraints.boolean
    arg_constraints = {"probs": ("Interval(lower_bound=0.0, upper_bound=1.0)",
                                 lambda v: (v >= 0) & (v <= 1)),
                       "logits": ("Real()", lambda v: ~np.isnan(v))}

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        self._given = ["probs" if probs is not None else "logits"]
        self.probs = None if probs is None else as_tensor(probs)
        self.logits = None if logits is None else as_tensor(logits)
        param = self.probs if self.probs is not None else self.logits
        super().__init__(tuple(param.shape), (), validate_args)
        if self.probs is None:
            self.probs = self.logits.sigmoid()
        else:
            eps = np.finfo(np.float32).eps
            clamped = self.probs.clamp(eps, 1 - eps)
            self.logits = clamped.log() - (1 - clamped).log()

    @property
    def mean(self):
        return self.probs

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        from fastnn.ops.sampling import bernoulli  # torch.bernoulli of the expanded probs
        return bernoulli(self.probs.detach().expand(*shape))

    def log_prob(self, value):
        value = as_tensor(value)
        logits = self.logits
        shape = np.broadcast_shapes(tuple(logits.shape), tuple(value.shape))
        return -F.binary_cross_entropy_with_logits(logits.expand(*shape),
                                                   value.expand(*shape), reduction="none")

    def entropy(self):
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")


class Multinomial(Distribution):
    """Counts of total_count draws over K categories (d2l's die-rolling example)."""

    arg_constraints = Categorical.arg_constraints

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits, validate_args=validate_args)
        self.probs, self.logits = self._categorical.probs, self._categorical.logits
        super().__init__(tuple(self._categorical.batch_shape),
                         (self._categorical._num_events,), False)

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        k = self._categorical._num_events
        draws = self._categorical.sample((self.total_count,) + tuple(sample_shape))._data
        counts = (draws[..., None] == np.arange(k)).sum(0).astype(self.probs._data.dtype)
        return Tensor._wrap(counts)

    def log_prob(self, value):
        from math import lgamma
        value = as_tensor(value)
        counts = value._data
        log_factorials = np.vectorize(lambda c: lgamma(c + 1.0))(counts).sum(-1)
        norm = lgamma(self.total_count + 1.0) - log_factorials
        logits = self.logits.clamp(min=float(np.finfo(np.float32).min))
        return (logits * value).sum(-1) + Tensor._wrap(np.asarray(norm, dtype=np.float32))


def _lgamma(values):
    from math import lgamma
    return np.vectorize(lgamma, otypes=[np.float64])(values)


class Poisson(Distribution):
    support = constraints.nonnegative_integer
    arg_constraints = {"rate": ("GreaterThanEq(lower_bound=0.0)", lambda v: v >= 0)}

    def __init__(self, rate, validate_args=None):
        self.rate = as_tensor(rate)
        super().__init__(tuple(self.rate.shape), (), validate_args)

    @property
    def mean(self):
        return self.rate

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        from fastnn.ops.sampling import poisson  # torch's sampler, so a seed gives its counts
        return poisson(self.rate.detach().expand(*shape))

    def log_prob(self, value):
        value = as_tensor(value)
        norm = Tensor._wrap(_lgamma(value._data + 1.0).astype(np.float32))
        return value * self.rate.clamp(min=float(np.finfo(np.float32).tiny)).log() - \
            self.rate - norm


class Binomial(Distribution):
    support = property(lambda self: constraints.integer_interval(0, self.total_count))
    arg_constraints = {"probs": ("Interval(lower_bound=0.0, upper_bound=1.0)",
                                 lambda v: (v >= 0) & (v <= 1))}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        self.probs = as_tensor(probs) if probs is not None else as_tensor(logits).sigmoid()
        self.total_count = as_tensor(total_count)
        super().__init__(tuple(np.broadcast_shapes(tuple(self.probs.shape),
                                                   tuple(self.total_count.shape))), (),
                         validate_args)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        from fastnn.ops.sampling import binomial  # torch's sampler, so a seed gives its draws
        probs = self.probs.detach()
        count = self.total_count.detach().to(probs.dtype)  # (torch: total_count.type_as(probs))
        return binomial(count.expand(*shape), probs.expand(*shape))

    def log_prob(self, value):
        value = as_tensor(value)
        n, k = self.total_count._data, value._data
        norm = _lgamma(n + 1.0) - _lgamma(k + 1.0) - _lgamma(n - k + 1.0)
        eps = float(np.finfo(np.float32).tiny)
        return value * self.probs.clamp(min=eps).log() + \
            (self.total_count - value) * (1 - self.probs).clamp(min=eps).log() + \
            Tensor._wrap(norm.astype(np.float32))
