"""MultivariateNormal (parameterised by its covariance, precision or lower Cholesky factor;
reparameterised samples loc + L eps) and Independent (a distribution's rightmost batch
dimensions reinterpreted as event dimensions, as a diagonal Gaussian over a vector)."""
import math

import numpy as np

from fastnn.distributions import constraints
from fastnn.distributions.distribution import Distribution, _standard_normal, as_tensor


class MultivariateNormal(Distribution):
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        from fastnn import linalg
        given = [m is not None for m in (covariance_matrix, precision_matrix, scale_tril)]
        if sum(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        loc = as_tensor(loc)
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        matrix = as_tensor(next(m for m in (covariance_matrix, precision_matrix, scale_tril)
                                if m is not None))
        if matrix.ndim < 2:
            name = ("covariance_matrix", "precision_matrix", "scale_tril")[given.index(True)]
            raise ValueError(f"{name} matrix must be at least two-dimensional, with optional "
                             "leading batch dimensions")
        self._given = ["loc", ("covariance_matrix", "precision_matrix",
                               "scale_tril")[given.index(True)]]
        if scale_tril is not None:
            self._tril = matrix
        elif covariance_matrix is not None:
            self._tril = linalg.cholesky(matrix)
        else:  # the Cholesky factor of the inverse of the precision
            self._tril = linalg.cholesky(linalg.inv(matrix))
        self._matrices = {self._given[1]: matrix}
        batch = np.broadcast_shapes(tuple(loc.shape[:-1]), tuple(self._tril.shape[:-2]))
        k = loc.shape[-1]
        self.loc = loc.expand(*(batch + (k,)))
        super().__init__(batch, (k,), validate_args)

    # Like torch's lazy properties, the matrices not given are made on first use and from then
    # on shown by repr (torch lists the parameters present on the object).
    @property
    def scale_tril(self):
        return self._matrices.setdefault("scale_tril", self._tril)

    @property
    def covariance_matrix(self):
        return self._matrices.setdefault("covariance_matrix", self._tril @ self._tril.mT)

    @property
    def precision_matrix(self):
        from fastnn import linalg
        if "precision_matrix" not in self._matrices:
            self._matrices["precision_matrix"] = linalg.inv(self._tril @ self._tril.mT)
        return self._matrices["precision_matrix"]

    @property
    def mean(self):
        return self.loc

    @property
    def variance(self):
        return (self._tril ** 2).sum(-1).expand(*self._extended_shape())

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = _standard_normal(shape, self.loc.dtype)  # torch's normal_ draws
        return self.loc + (self._tril @ eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self):
        return self._tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value):
        from fastnn import linalg
        diff = as_tensor(value) - self.loc
        shape = np.broadcast_shapes(tuple(diff.shape[:-1]), tuple(self._tril.shape[:-2]))
        tril = self._tril.expand(*(shape + tuple(self._tril.shape[-2:])))
        solved = linalg.solve_triangular(tril, diff.expand(*(shape + (diff.shape[-1],)))
                                         .unsqueeze(-1), upper=False).squeeze(-1)
        k = self._event_shape[0]
        return -0.5 * (k * math.log(2 * math.pi) + (solved ** 2).sum(-1)) - self._half_log_det()

    def entropy(self):
        k = self._event_shape[0]
        return 0.5 * k * (1.0 + math.log(2 * math.pi)) + self._half_log_det()

    def __repr__(self):
        shown = [f"{name}: {self._matrices[name].shape}" for name in
                 ("covariance_matrix", "precision_matrix", "scale_tril") if name in self._matrices]
        return f"MultivariateNormal(loc: {self.loc.shape}, {', '.join(shown)})"


class Independent(Distribution):
    def __init__(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        n = reinterpreted_batch_ndims
        batch = tuple(base_distribution.batch_shape)
        if n > len(batch):
            raise ValueError(f"Expected reinterpreted_batch_ndims <= len(base_distribution."
                             f"batch_shape), actual {n} vs {len(batch)}")
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = n
        cut = len(batch) - n
        super().__init__(batch[:cut], batch[cut:] + tuple(base_distribution.event_shape),
                         validate_args=False)

    @property
    def has_rsample(self):
        return self.base_dist.has_rsample

    @property
    def support(self):
        base = self.base_dist.support
        if base is None or self.reinterpreted_batch_ndims == 0:
            return base
        return constraints.independent(base, self.reinterpreted_batch_ndims)

    mean = property(lambda self: self.base_dist.mean)
    variance = property(lambda self: self.base_dist.variance)
    stddev = property(lambda self: self.base_dist.stddev)

    def _sum_rightmost(self, value):
        n = self.reinterpreted_batch_ndims
        return value.sum(tuple(range(-n, 0))) if n else value

    def sample(self, sample_shape=()):
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value):
        return self._sum_rightmost(self.base_dist.log_prob(value))

    def entropy(self):
        return self._sum_rightmost(self.base_dist.entropy())

    def __repr__(self):
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"
