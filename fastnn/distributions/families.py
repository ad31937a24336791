"""More of torch.distributions' families: StudentT, Chi2, Geometric, NegativeBinomial,
MixtureSameFamily (a mixture density network's output) and OneHotCategoricalStraightThrough,
with torch's formulas for log_prob, moments and entropy (differentiable in the parameters)."""
import math

import numpy as np

from fastnn.distributions import constraints
from fastnn.distributions.continuous import _broadcast
from fastnn.distributions.discrete import Categorical, OneHotCategorical
from fastnn.distributions.distribution import (Distribution, _filled, _standard_normal,
                                               as_tensor)
from fastnn.distributions.more_continuous import Gamma, _scalar_repr
from fastnn.distributions.transformed import _probs_logits
from fastnn.ops.gamma_functions import digamma, lgamma
from fastnn.tensor import Tensor


class StudentT(Distribution):
    """Student's t with df degrees of freedom, location loc and scale scale. rsample is
    X sqrt(df / V) with X ~ N(0, 1), V ~ Chi2(df): reparameterised in loc and scale (V is drawn
    without a gradient in df, as fastnn's Gamma)."""
    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        (self.df, self.loc, self.scale), shape = _broadcast(df, loc, scale)
        super().__init__(shape, (), validate_args)

    @property
    def mean(self):
        m = self.loc.clone()
        return m.masked_fill(self.df <= 1, math.nan)

    mode = property(lambda self: self.loc)

    @property
    def variance(self):
        df = self.df
        v = self.scale.pow(2) * df / (df - 2)
        v = v.masked_fill((df <= 2) & (df > 1), math.inf)
        return v.masked_fill(df <= 1, math.nan)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        # torch's order: the normals, then Chi2(df) (a Gamma) draws
        x = _standard_normal(shape, self.df.dtype)
        z = Chi2(self.df.detach()).sample(sample_shape)
        return self.loc + self.scale * (x * (z / self.df).rsqrt())

    def log_prob(self, value):
        df = self.df
        y = (as_tensor(value) - self.loc) / self.scale
        z = (self.scale.log() + 0.5 * df.log() + 0.5 * math.log(math.pi) +
             lgamma(0.5 * df) - lgamma(0.5 * (df + 1.0)))
        return -0.5 * (df + 1.0) * (y.pow(2) / df).log1p() - z

    def entropy(self):
        df = self.df
        lbeta = lgamma(0.5 * df) + math.lgamma(0.5) - lgamma(0.5 * (df + 1))
        return (self.scale.log() + 0.5 * (df + 1) * (digamma(0.5 * (df + 1)) -
                                                       digamma(0.5 * df)) +
                0.5 * df.log() + lbeta)

    def __repr__(self):
        return _scalar_repr(self, ["df", "loc", "scale"])


class Chi2(Gamma):
    """Chi2(df) = Gamma(df / 2, 1 / 2)."""
    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        df = as_tensor(df)
        super().__init__(0.5 * df, df.new_full(tuple(df.shape), 0.5),
                         validate_args=validate_args)

    @property
    def df(self):
        return self.concentration * 2

    def __repr__(self):
        return _scalar_repr(self, ["df"])


class Geometric(Distribution):
    """The number of failures before the first success, each trial succeeding with probs."""
    arg_constraints = {"probs": constraints.interval(0.0, 1.0), "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        self.probs, self.logits, given = _probs_logits(probs, logits)
        self._given = [given]
        if given == "probs" and (validate_args is None or validate_args) and \
                not np.all(self.probs._data > 0):
            raise ValueError(f"Expected parameter probs (Tensor of shape "
                             f"{tuple(self.probs.shape)}) of distribution Geometric(probs: "
                             f"{self.probs.shape}) to satisfy the constraint "
                             f"Interval(lower_bound=0.0, upper_bound=1.0), but found invalid "
                             f"values:\n{self.probs}")
        super().__init__(tuple(self.probs.shape), (), validate_args)

    mean = property(lambda self: 1.0 / self.probs - 1.0)
    mode = property(lambda self: self.probs.new_zeros(tuple(self.probs.shape)))
    variance = property(lambda self: (1.0 / self.probs - 1.0) / self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        probs = self.probs.detach()
        tiny = float(np.finfo(probs._data.dtype).tiny)
        u = _filled(shape, probs.dtype, "uniform", tiny, 1)  # torch's
        return (u.log() / (-probs).log1p()).floor()

    def log_prob(self, value):
        value = as_tensor(value)
        probs = self.probs.expand(*np.broadcast_shapes(tuple(value.shape),
                                                       tuple(self.probs.shape)))
        certain = (probs._data == 1) & (np.broadcast_to(value._data, probs.shape) == 0)
        safe = probs.masked_fill(Tensor._wrap(certain), 0.0)
        return value * (-safe).log1p() + self.probs.log()

    def entropy(self):
        from fastnn.nn import functional as F
        return F.binary_cross_entropy_with_logits(self.logits, self.probs,
                                                  reduction="none") / self.probs

    def __repr__(self):
        return _scalar_repr(self, self._given)


class NegativeBinomial(Distribution):
    """The number of successes before total_count failures, each trial succeeding with
    probs."""
    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0),
                       "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        probs, logits, given = _probs_logits(probs, logits)
        (self.total_count, self.logits), shape = _broadcast(total_count, logits)
        self.probs = self.logits.sigmoid() if given == "logits" else probs.expand(*shape)
        self.total_count = self.total_count.type_as(self.logits)
        self._given = ["total_count", given]
        super().__init__(shape, (), validate_args)

    mean = property(lambda self: self.total_count * self.logits.exp())

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    variance = property(lambda self: self.mean / (-self.logits).sigmoid())

    def sample(self, sample_shape=()):
        # torch's: a Gamma(total_count, exp(-logits)) rate, then a Poisson count of it
        from fastnn.ops.sampling import poisson
        rate = Gamma(self.total_count.detach(), (-self.logits.detach()).exp(),
                     validate_args=False).sample(sample_shape)
        return poisson(rate)

    def log_prob(self, value):
        from fastnn.nn import functional as F
        value = as_tensor(value)
        n = self.total_count
        unnormalized = n * F.logsigmoid(-self.logits) + value * F.logsigmoid(self.logits)
        normalization = -lgamma(n + value) + lgamma(1.0 + value) + lgamma(n)
        normalization = normalization.masked_fill(n + value == 0.0, 0.0)
        return unnormalized - normalization

    def __repr__(self):
        return _scalar_repr(self, self._given)


class MixtureSameFamily(Distribution):
    """A mixture of one family: mixture_distribution (a Categorical over the last batch
    dimension of component_distribution) picks the component. log_prob is the logsumexp over
    components of the mixing log-weight plus the component's log density."""
    arg_constraints = {}
    has_rsample = False

    def __init__(self, mixture_distribution, component_distribution, validate_args=None):
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError(" The Mixture distribution needs to be an  instance of "
                             "torch.distributions.Categorical")
        if not isinstance(component_distribution, Distribution):
            raise ValueError("The Component distribution need to be an instance of "
                             "torch.distributions.Distribution")
        mdbs = tuple(mixture_distribution.batch_shape)
        cdbs = tuple(component_distribution.batch_shape)[:-1]
        for size1, size2 in zip(reversed(mdbs), reversed(cdbs)):
            if size1 != 1 and size2 != 1 and size1 != size2:
                raise ValueError(f"`mixture_distribution.batch_shape` ({mdbs}) is not "
                                 f"compatible with `component_distribution.batch_shape`"
                                 f"({cdbs})")
        km = mixture_distribution.logits.shape[-1]
        kc = component_distribution.batch_shape[-1]
        if km is not None and kc is not None and km != kc:
            raise ValueError(f"`mixture_distribution component` ({km}) does not equal "
                             f"`component_distribution.batch_shape[-1]` ({kc})")
        self._num_component = km
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(cdbs, tuple(component_distribution.event_shape), validate_args)

    mixture_distribution = property(lambda self: self._mixture_distribution)
    component_distribution = property(lambda self: self._component_distribution)

    @property
    def support(self):
        return self._component_distribution.support

    def _pad(self, x):
        return x.unsqueeze(-1 - self._event_ndims)

    def _pad_mixture_dimensions(self, x):
        dist_batch_ndims = len(self.batch_shape)
        cat_batch_ndims = len(self.mixture_distribution.batch_shape)
        pad_ndims = 0 if cat_batch_ndims == 1 else dist_batch_ndims - cat_batch_ndims
        xs = tuple(x.shape)
        x = x.reshape(xs[:-1] + (1,) * pad_ndims + xs[-1:] + (1,) * self._event_ndims)
        return x

    @property
    def mean(self):
        probs = self._pad_mixture_dimensions(self.mixture_distribution.probs)
        return (probs * self.component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self):
        probs = self._pad_mixture_dimensions(self.mixture_distribution.probs)
        dim = -1 - self._event_ndims
        mean_cond_var = (probs * self.component_distribution.variance).sum(dim)
        var_cond_mean = (probs * (self.component_distribution.mean -
                                  self._pad(self.mean)).pow(2.0)).sum(dim)
        return mean_cond_var + var_cond_mean

    def log_prob(self, value):
        from fastnn.nn import functional as F
        x = self._pad(as_tensor(value))
        log_prob_x = self.component_distribution.log_prob(x)  # [S, B, k]
        log_mix_prob = F.log_softmax(self.mixture_distribution.logits, -1)  # [B, k]
        return (log_prob_x + log_mix_prob).logsumexp(-1)  # [S, B]

    def cdf(self, x):
        x = self._pad(as_tensor(x))
        cdf_x = self.component_distribution.cdf(x)
        return (cdf_x * self.mixture_distribution.probs).sum(-1)

    def sample(self, sample_shape=()):
        from fastnn.autograd.grad_mode import no_grad
        import fastnn
        with no_grad():
            sample_len = len(sample_shape)
            batch_len = len(self.batch_shape)
            gather_dim = sample_len + batch_len
            es = tuple(self.event_shape)
            mix_sample = self.mixture_distribution.sample(sample_shape)
            mix_shape = tuple(mix_sample.shape)
            comp_samples = self.component_distribution.sample(sample_shape)
            index = mix_sample.reshape(mix_shape + (1,) * (len(es) + 1))
            index = index.expand(*(mix_shape + (1,) + es))
            samples = fastnn.gather(comp_samples, gather_dim, index)
            return samples.squeeze(gather_dim)

    def __repr__(self):
        return (f"MixtureSameFamily(\n  {self.mixture_distribution!r},\n  "
                f"{self.component_distribution!r})")


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """OneHotCategorical whose rsample is the one-hot sample in the forward pass and carries
    the probabilities' gradient in the backward pass (the straight-through estimator,
    Bengio et al. 2013)."""
    has_rsample = True

    def rsample(self, sample_shape=()):
        samples = self.sample(sample_shape)
        probs = self.probs
        return samples + (probs - probs.detach())
