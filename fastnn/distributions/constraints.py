"""torch.distributions.constraints: the sets a distribution's parameters and samples live in.
`check(value)` is a bool tensor over the batch (the event dimensions reduced); the reprs are
torch's, which its validation messages print. Custom distributions name them in
`arg_constraints` and `support`; transforms name them as domain and codomain, and
biject_to / transform_to map them to the transforms that reach them."""
import numpy as np

from fastnn.tensor import Tensor

__all__ = ["Constraint", "boolean", "cat", "corr_cholesky", "dependent", "dependent_property",
           "greater_than", "greater_than_eq", "half_open_interval", "independent",
           "integer_interval", "interval", "is_dependent", "less_than", "lower_cholesky",
           "lower_triangular", "nonnegative", "nonnegative_integer", "one_hot", "positive",
           "positive_definite", "positive_integer", "positive_semidefinite", "real",
           "real_vector", "simplex", "square", "stack", "symmetric", "unit_interval"]


def _array(value):
    return value._data if isinstance(value, Tensor) else np.asarray(value)


def _bounds(value):
    """A bound as stored for the check: a tensor's array, or the number itself."""
    return value._data if isinstance(value, Tensor) else value


class Constraint:
    """A region of a distribution's space; check(value) says, per batch element, if value is
    in it."""
    is_discrete = False
    event_dim = 0

    def check(self, value):
        return Tensor._wrap(np.asarray(self._check(_array(value))))

    def _check(self, x):
        raise NotImplementedError

    def __repr__(self):
        return type(self).__name__.lstrip("_") + "()"


class _Dependent(Constraint):
    """A support or parameter set that depends on other parameters (checked by the
    distribution itself)."""

    def __init__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        self._is_discrete, self._event_dim = is_discrete, event_dim

    @property
    def is_discrete(self):
        if self._is_discrete is NotImplemented:
            raise NotImplementedError(".is_discrete cannot be determined statically")
        return self._is_discrete

    @property
    def event_dim(self):
        if self._event_dim is NotImplemented:
            raise NotImplementedError(".event_dim cannot be determined statically")
        return self._event_dim

    def __call__(self, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        return _Dependent(is_discrete=is_discrete, event_dim=event_dim)

    def check(self, x):
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint):
    return isinstance(constraint, _Dependent)


class _DependentProperty(property, _Dependent):
    """@constraints.dependent_property: a support computed from the distribution's parameters
    (Uniform's Interval(low, high)); on the class it is a dependent constraint."""

    def __init__(self, fn=None, *, is_discrete=NotImplemented, event_dim=NotImplemented):
        property.__init__(self, fn)
        _Dependent.__init__(self, is_discrete=is_discrete, event_dim=event_dim)

    def __call__(self, fn):
        return _DependentProperty(fn, is_discrete=self._is_discrete, event_dim=self._event_dim)


class _IndependentConstraint(Constraint):
    """A base constraint over `reinterpreted_batch_ndims` more event dimensions: it holds
    where it holds for every element of the event."""

    def __init__(self, base_constraint, reinterpreted_batch_ndims):
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    is_discrete = property(lambda self: self.base_constraint.is_discrete)
    event_dim = property(lambda self: self.base_constraint.event_dim +
                         self.reinterpreted_batch_ndims)

    def _check(self, x):
        result = np.asarray(self.base_constraint._check(x))
        n = self.reinterpreted_batch_ndims
        if n:
            result = result.reshape(result.shape[:result.ndim - n] + (-1,)).all(-1)
        return result

    def __repr__(self):
        return (f"IndependentConstraint({self.base_constraint!r}, "
                f"{self.reinterpreted_batch_ndims})")


class _Boolean(Constraint):
    is_discrete = True

    def _check(self, x):
        return (x == 0) | (x == 1)


class _OneHot(Constraint):
    is_discrete = True
    event_dim = 1

    def _check(self, x):
        return ((x == 0) | (x == 1)).all(-1) & (x.sum(-1) == 1)


class _IntegerInterval(Constraint):
    is_discrete = True

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def _check(self, x):
        return (x % 1 == 0) & (_bounds(self.lower_bound) <= x) & (x <= _bounds(self.upper_bound))

    def __repr__(self):
        return (f"IntegerInterval(lower_bound={self.lower_bound}, "
                f"upper_bound={self.upper_bound})")


class _IntegerGreaterThan(Constraint):
    is_discrete = True

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def _check(self, x):
        return (x % 1 == 0) & (x >= _bounds(self.lower_bound))

    def __repr__(self):
        return f"IntegerGreaterThan(lower_bound={self.lower_bound})"


class _Real(Constraint):
    def _check(self, x):
        return x == x  # everything but NaN


class _GreaterThan(Constraint):
    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def _check(self, x):
        return _bounds(self.lower_bound) < x

    def __repr__(self):
        return f"GreaterThan(lower_bound={self.lower_bound})"


class _GreaterThanEq(_GreaterThan):
    def _check(self, x):
        return _bounds(self.lower_bound) <= x

    def __repr__(self):
        return f"GreaterThanEq(lower_bound={self.lower_bound})"


class _LessThan(Constraint):
    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def _check(self, x):
        return x < _bounds(self.upper_bound)

    def __repr__(self):
        return f"LessThan(upper_bound={self.upper_bound})"


class _Interval(Constraint):
    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def _check(self, x):
        return (_bounds(self.lower_bound) <= x) & (x <= _bounds(self.upper_bound))

    def __repr__(self):
        return f"Interval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _HalfOpenInterval(_Interval):
    def _check(self, x):
        return (_bounds(self.lower_bound) <= x) & (x < _bounds(self.upper_bound))

    def __repr__(self):
        return (f"HalfOpenInterval(lower_bound={self.lower_bound}, "
                f"upper_bound={self.upper_bound})")


class _Simplex(Constraint):
    """Nonnegative vectors summing to 1 (to within 1e-6, as torch)."""
    event_dim = 1

    def _check(self, x):
        return (x >= 0).all(-1) & (np.abs(x.sum(-1) - 1) < 1e-6)


class _LowerTriangular(Constraint):
    event_dim = 2

    def _check(self, x):
        return (np.tril(x) == x).reshape(x.shape[:-2] + (-1,)).min(-1)


class _LowerCholesky(Constraint):
    event_dim = 2

    def _check(self, x):
        lower = (np.tril(x) == x).reshape(x.shape[:-2] + (-1,)).min(-1)
        return lower & (np.diagonal(x, axis1=-2, axis2=-1) > 0).min(-1)


class _CorrCholesky(Constraint):
    event_dim = 2

    def _check(self, x):
        tol = np.finfo(x.dtype).eps * x.shape[-1] * 10
        unit_rows = np.abs(np.linalg.norm(x, axis=-1) - 1) <= tol
        return _LowerCholesky()._check(x) & unit_rows.all(-1)


class _Square(Constraint):
    event_dim = 2

    def _check(self, x):
        return np.full(x.shape[:-2], x.shape[-2] == x.shape[-1], dtype=bool)


class _Symmetric(_Square):
    def _check(self, x):
        square = super()._check(x)
        if not square.all():
            return square
        return np.isclose(x, np.swapaxes(x, -1, -2), atol=1e-6).all(-2).all(-1)


class _PositiveSemidefinite(_Symmetric):
    def _check(self, x):
        sym = super()._check(x)
        if not sym.all():
            return sym
        return (np.linalg.eigvalsh(x) >= 0).all(-1)


class _PositiveDefinite(_Symmetric):
    def _check(self, x):
        sym = super()._check(x)
        if not sym.all():
            return sym
        return (np.linalg.eigvalsh(x) > 0).all(-1)


class _Cat(Constraint):
    """Constraints applied to pieces of `dim` of the given lengths (torch.cat of their regions)."""

    def __init__(self, cseq, dim=0, lengths=None):
        self.cseq, self.dim = list(cseq), dim
        self.lengths = list(lengths) if lengths is not None else [1] * len(self.cseq)

    is_discrete = property(lambda self: any(c.is_discrete for c in self.cseq))
    event_dim = property(lambda self: max(c.event_dim for c in self.cseq))

    def _check(self, x):
        parts, start = [], 0
        for c, n in zip(self.cseq, self.lengths):
            parts.append(np.asarray(c._check(np.take(x, range(start, start + n), self.dim))))
            start += n
        return np.concatenate(parts, self.dim)


class _Stack(Constraint):
    """Constraints applied to the slices of `dim` (torch.stack of their regions)."""

    def __init__(self, cseq, dim=0):
        self.cseq, self.dim = list(cseq), dim

    is_discrete = property(lambda self: any(c.is_discrete for c in self.cseq))
    event_dim = property(lambda self: max(c.event_dim for c in self.cseq))

    def _check(self, x):
        return np.stack([np.asarray(c._check(np.take(x, i, self.dim)))
                         for i, c in enumerate(self.cseq)], self.dim)


dependent = _Dependent()
dependent_property = _DependentProperty
independent = _IndependentConstraint
boolean = _Boolean()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
integer_interval = _IntegerInterval
real = _Real()
real_vector = independent(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
unit_interval = _Interval(0.0, 1.0)
interval = _Interval
half_open_interval = _HalfOpenInterval
simplex = _Simplex()
lower_triangular = _LowerTriangular()
lower_cholesky = _LowerCholesky()
corr_cholesky = _CorrCholesky()
square = _Square()
symmetric = _Symmetric()
positive_semidefinite = _PositiveSemidefinite()
positive_definite = _PositiveDefinite()
cat = _Cat
stack = _Stack
