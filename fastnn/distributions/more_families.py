"""torch.distributions' InverseGamma, Kumaraswamy and FisherSnedecor, built as torch builds them
(the first two push a base distribution through transforms; FisherSnedecor is a ratio of two
Gamma draws), so a seed gives torch's samples and log_prob, mean, variance and entropy follow
the same formulas."""
import math

import numpy as np

from fastnn.distributions import constraints
from fastnn.distributions.continuous import Uniform, _broadcast
from fastnn.distributions.distribution import Distribution, as_tensor
from fastnn.distributions.more_continuous import Gamma
from fastnn.distributions.transformed import TransformedDistribution, _EULER
from fastnn.distributions.transforms import AffineTransform, PowerTransform
from fastnn.ops.elementwise import where
from fastnn.ops.gamma_functions import digamma, lgamma


def _filled_where(condition, value, fill):
    return where(condition, value, value.new_full(tuple(value.shape), fill))


class InverseGamma(TransformedDistribution):
    """1 / X for X ~ Gamma(concentration, rate)."""
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive  # (rsample needs Gamma's, which fastnn does not have)

    def __init__(self, concentration, rate, validate_args=None):
        base = Gamma(concentration, rate, validate_args=validate_args)
        negative_one = -base.rate.new_ones(())
        super().__init__(base, PowerTransform(negative_one), validate_args=validate_args)

    concentration = property(lambda self: self.base_dist.concentration)
    rate = property(lambda self: self.base_dist.rate)

    @property
    def mean(self):
        return _filled_where(self.concentration > 1, self.rate / (self.concentration - 1),
                             math.inf)

    @property
    def mode(self):
        return self.rate / (self.concentration + 1)

    @property
    def variance(self):
        c = self.concentration
        value = self.rate.pow(2) / ((c - 1).pow(2) * (c - 2))
        return _filled_where(c > 2, value, math.inf)

    def entropy(self):
        c = self.concentration
        return c + self.rate.log() + lgamma(c) - (1 + c) * digamma(c)


def _kumaraswamy_moment(a, b, n):
    """E[X^n] of Kumaraswamy(a, b): b B(1 + n / a, b)."""
    scaled = 1 + n / a
    return b * (lgamma(scaled) + lgamma(b) - lgamma(scaled + b)).exp()


class Kumaraswamy(TransformedDistribution):
    """(1 - U^(1 / concentration0))^(1 / concentration1) for U ~ Uniform(0, 1)."""
    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        (self.concentration1, self.concentration0), shape = _broadcast(concentration1,
                                                                       concentration0)
        base = Uniform(self.concentration0.new_zeros(shape), self.concentration0.new_ones(shape),
                       validate_args=validate_args)
        transforms = [PowerTransform(exponent=self.concentration0.reciprocal()),
                      AffineTransform(loc=1.0, scale=-1.0),
                      PowerTransform(exponent=self.concentration1.reciprocal())]
        super().__init__(base, transforms, validate_args=validate_args)

    @property
    def mean(self):
        return _kumaraswamy_moment(self.concentration1, self.concentration0, 1)

    @property
    def mode(self):
        a, b = self.concentration1, self.concentration0
        # torch's expression, kept as torch computes it (its log1p(-b) is NaN for b > 1, so
        # torch's mode is NaN there too; the true mode is ((a - 1) / (a b - 1))^(1 / a))
        log_mode = b.reciprocal() * (-b).log1p() - (-b * a).log1p()
        log_mode = _filled_where((b >= 1) & (a >= 1), log_mode, math.nan)
        return log_mode.exp()

    @property
    def variance(self):
        a, b = self.concentration1, self.concentration0
        return _kumaraswamy_moment(a, b, 2) - self.mean.pow(2)

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        harmonic = digamma(b + 1) + _EULER
        return (1 - b.reciprocal()) + (1 - a.reciprocal()) * harmonic - a.log() - b.log()


class FisherSnedecor(Distribution):
    """(X1 / df1) / (X2 / df2) for X1 ~ Chi2(df1), X2 ~ Chi2(df2): drawn as Gamma(df1 / 2, df1)
    over Gamma(df2 / 2, df2), in that order, each at least the dtype's smallest normal."""
    arg_constraints = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = False  # (torch's is reparameterised through Gamma's rsample)

    def __init__(self, df1, df2, validate_args=None):
        (self.df1, self.df2), shape = _broadcast(df1, df2)
        self._gamma1 = Gamma(self.df1 * 0.5, self.df1)
        self._gamma2 = Gamma(self.df2 * 0.5, self.df2)
        super().__init__(shape, (), validate_args)

    @property
    def mean(self):
        return _filled_where(self.df2 > 2, self.df2 / (self.df2 - 2), math.nan)

    @property
    def mode(self):
        value = (self.df1 - 2) / self.df1 * self.df2 / (self.df2 + 2)
        return _filled_where(self.df1 > 2, value, math.nan)

    @property
    def variance(self):
        d1, d2 = self.df1, self.df2
        value = 2 * d2.pow(2) * (d1 + d2 - 2) / (d1 * (d2 - 2).pow(2) * (d2 - 4))
        return _filled_where(d2 > 4, value, math.nan)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        tiny = float(np.finfo(self.df1._data.dtype).tiny)
        x1 = self._gamma1.sample(sample_shape).view(*shape)
        x2 = self._gamma2.sample(sample_shape).view(*shape).clamp(min=tiny)
        return (x1 / x2).clamp(min=tiny)

    def log_prob(self, value):
        value = as_tensor(value)
        half1, half2 = self.df1 * 0.5, self.df2 * 0.5
        ratio = self.df1 / self.df2
        norm = lgamma(half1 + half2) - lgamma(half1) - lgamma(half2)
        return norm + half1 * ratio.log() + (half1 - 1) * value.log() - \
            (half1 + half2) * (ratio * value).log1p()
