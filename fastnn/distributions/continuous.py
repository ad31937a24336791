"""Normal and Uniform, with reparameterised samples (rsample)."""
import math

import numpy as np

from fastnn.distributions import constraints
from fastnn.distributions.distribution import (Distribution, _rand, _standard_normal,
                                               as_tensor)
from fastnn.tensor import Tensor


def _broadcast(*values):
    tensors = [as_tensor(v) for v in values]
    shape = np.broadcast_shapes(*(tuple(t.shape) for t in tensors))
    return [t.expand(*shape) if tuple(t.shape) != shape else t for t in tensors], shape


class Normal(Distribution):
    support = constraints.real
    has_rsample = True
    arg_constraints = {"loc": ("Real()", lambda v: ~np.isnan(v)),
                       "scale": ("GreaterThan(lower_bound=0.0)", lambda v: v > 0)}

    def __init__(self, loc, scale, validate_args=None):
        self._scalar = not isinstance(loc, Tensor) and not isinstance(scale, Tensor)
        (self.loc, self.scale), shape = _broadcast(loc, scale)
        super().__init__(shape, (), validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale * self.scale

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = _standard_normal(shape, self.loc.dtype)  # torch's normal_ draws
        return self.loc + eps * self.scale

    def log_prob(self, value):
        value = as_tensor(value)
        var = self.scale * self.scale
        return -((value - self.loc) ** 2) / (2 * var) - self.scale.log() - \
            math.log(math.sqrt(2 * math.pi))

    def cdf(self, value):
        from fastnn.ops.unary_math import erf
        return 0.5 * (1 + erf((as_tensor(value) - self.loc) / (self.scale * math.sqrt(2))))

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    def __repr__(self):
        if self._scalar:
            return f"Normal(loc: {self.loc.item()}, scale: {self.scale.item()})"
        return f"Normal(loc: {self.loc.shape}, scale: {self.scale.shape})"


class Uniform(Distribution):
    support = property(lambda self: constraints.interval(self.low, self.high))
    has_rsample = True
    arg_constraints = {"low": ("Real()", lambda v: ~np.isnan(v)),
                       "high": ("Real()", lambda v: ~np.isnan(v))}

    def __init__(self, low, high, validate_args=None):
        (self.low, self.high), shape = _broadcast(low, high)
        if (validate_args is None or validate_args) and not np.all(
                self.low._data < self.high._data):
            raise ValueError(f"Expected parameter low (Tensor of shape {shape}) of distribution "
                             f"Uniform to satisfy the constraint LessThan(high), but found "
                             f"invalid values:\n{self.low}")
        super().__init__(shape, (), validate_args)

    @property
    def mean(self):
        return (self.low + self.high) / 2

    @property
    def variance(self):
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        u = _rand(shape, self.low.dtype)  # torch.rand
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        value = as_tensor(value)
        inside = (value._data >= self.low._data) & (value._data < self.high._data)
        density = -(self.high - self.low).log()
        return density + Tensor._wrap(np.where(inside, 0.0, -np.inf).astype(np.float32))

    def entropy(self):
        return (self.high - self.low).log()
