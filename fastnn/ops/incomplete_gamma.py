"""The regularized incomplete gamma functions: igamma(a, x) = P(a, x) = gamma(a, x) / Gamma(a)
and igammac(a, x) = Q(a, x) = 1 - P(a, x) (torch.igamma / igammac, torch.special.gammainc /
gammaincc, and the Gamma and Chi2 distributions' cdf).

Evaluated in float64: the power series for x < a + 1 and Lentz's continued fraction for Q
otherwise (Numerical Recipes 3rd ed., 6.2; each converges fast on its side). torch's values at
the edges: nan for a negative or NaN argument and for a = x = 0, P = 1 when a = 0 < x or
x = inf, P = 0 when x = 0 < a. The gradient is the density in x, e^-x x^(a-1) / Gamma(a); in a
torch has none and says so."""
import math

import numpy as np

from fastnn.autograd.function import Function
from fastnn.ops.broadcast import floating_pair, unbroadcast

_MOST_TERMS = 1000
_TINY = 1e-300


def _lgamma(a):
    return np.vectorize(math.lgamma, otypes=[np.float64])(a) if a.size else np.zeros(a.shape)


def _log_prefactor(a, x):
    """log(e^-x x^a / Gamma(a)), the factor both expansions share."""
    return a * np.log(x) - x - _lgamma(a)


def _series(a, x):
    """P(a, x) = e^-x x^a / Gamma(a) * sum_n x^n / (a (a+1) ... (a+n))."""
    term = 1.0 / a
    total = term.copy()
    for n in range(1, _MOST_TERMS):
        term = term * x / (a + n)
        total = total + term
        if np.all(np.abs(term) < np.abs(total) * 1e-16):
            break
    return total * np.exp(_log_prefactor(a, x))


def _continued_fraction(a, x):
    """Q(a, x) by the modified Lentz algorithm on its continued fraction."""
    b = x + 1.0 - a
    c = np.full(a.shape, 1.0 / _TINY)
    d = 1.0 / b
    h = d.copy()
    for i in range(1, _MOST_TERMS):
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < _TINY, _TINY, d)
        c = b + an / c
        c = np.where(np.abs(c) < _TINY, _TINY, c)
        d = 1.0 / d
        delta = d * c
        h = h * delta
        if np.all(np.abs(delta - 1.0) < 1e-16):
            break
    return np.exp(_log_prefactor(a, x)) * h


def regularized_lower(a, x):
    """P(a, x) elementwise in float64, with torch's edge values."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    out = np.full(a.shape, np.nan)
    with np.errstate(all="ignore"):
        valid = (a >= 0) & (x >= 0) & ~((a == 0) & (x == 0))
        out[valid & (a == 0)] = 1.0
        out[valid & (x == 0) & (a > 0)] = 0.0
        out[valid & np.isposinf(x) & (a > 0)] = 1.0
        inner = valid & (a > 0) & (x > 0) & np.isfinite(x)
        low = inner & (x < a + 1)
        high = inner & ~low
        if low.any():
            out[low] = _series(a[low], x[low])
        if high.any():
            out[high] = 1.0 - _continued_fraction(a[high], x[high])
    return out


def regularized_upper(a, x):
    """Q(a, x) = 1 - P(a, x), from its own expansion where P is close to 1."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    out = 1.0 - regularized_lower(a, x)
    with np.errstate(all="ignore"):
        high = (a > 0) & np.isfinite(x) & (x >= a + 1)
        if high.any():
            out[high] = _continued_fraction(a[high], x[high])
    return out


class _Incomplete(Function):
    upper = False

    @classmethod
    def forward(cls, ctx, a, x):
        ctx.save_for_backward(a, x)
        values = regularized_upper(a, x) if cls.upper else regularized_lower(a, x)
        return values.astype(np.result_type(a, x), copy=False)

    @classmethod
    def backward(cls, ctx, g):
        a, x = ctx.saved_tensors
        if ctx.needs_input_grad[0]:
            raise NotImplementedError(f"the derivative for '{cls.op}: input' is not "
                                      "implemented.")
        with np.errstate(all="ignore"):
            density = np.exp(_log_prefactor(np.asarray(a, np.float64),
                                            np.asarray(x, np.float64))) / x
        grad = g * (-density if cls.upper else density)
        return None, unbroadcast(grad.astype(g.dtype, copy=False), x.shape)


class Igamma(_Incomplete):
    op = "igamma"


class Igammac(_Incomplete):
    upper = True
    op = "igammac"


def _operands(name, input, other):
    from fastnn import dtypes
    from fastnn.tensor import Tensor
    for v in (input, other):
        if isinstance(v, Tensor) and not v.dtype.is_floating_point:
            raise NotImplementedError(f'"{name}_cpu" not implemented for '
                                      f"'{dtypes.to_dtype(v._data.dtype).title}'")
    return floating_pair(input, other)


def igamma(input, other, *, out=None):
    result = Igamma.apply(*_operands("igamma", input, other))
    return result if out is None else out.copy_(result)


def igammac(input, other, *, out=None):
    result = Igammac.apply(*_operands("igammac", input, other))
    return result if out is None else out.copy_(result)
