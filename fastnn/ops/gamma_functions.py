"""The gamma family with gradients: lgamma (d/dx = digamma), digamma (d/dx = trigamma),
polygamma(n, x) (d/dx = polygamma(n + 1, x)) and mvlgamma, evaluated in float64.

digamma and polygamma shift x up by the recurrences psi(x) = psi(x + 1) - 1/x and
psi_n(x) = psi_n(x + 1) + (-1)^(n+1) n! / x^(n+1) until x >= 10, then sum the asymptotic
series in 1/x with Bernoulli numbers (Abramowitz & Stegun 6.3.18, 6.4.11); below 1/2 digamma
and trigamma use the reflection formulas (A&S 6.3.7, 6.4.7). At the poles (0, -1, -2, ...)
the values are torch's: digamma(0) = -inf, nan at the negative integers, inf for polygamma."""
import math

import numpy as np

from fastnn.autograd.function import Function
from fastnn.ops.broadcast import floating

# B_2k for k = 1..8: the asymptotic series' coefficients
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)
_SHIFT_TO = 10.0
_MOST_SHIFTS = 100_000  # x below -1e5 is not shifted up (its value is left nan)


def _digamma(x):
    x = np.asarray(x, np.float64)
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        pole = (x <= 0) & (x == np.floor(x))
        out[pole & (x == 0)] = -np.inf
        reflect = (x < 0.5) & ~pole
        z = np.where(reflect, 1.0 - x, x)
        z = np.where(pole | np.isnan(z), 1.0, z)
        acc = np.zeros_like(z)
        while True:
            low = z < _SHIFT_TO
            if not low.any():
                break
            acc -= np.where(low, 1.0 / z, 0.0)
            z = np.where(low, z + 1.0, z)
        inv2 = 1.0 / (z * z)
        series = np.zeros_like(z)
        power = inv2
        for k, b in enumerate(_BERNOULLI, start=1):
            series += b / (2 * k) * power
            power = power * inv2
        value = np.log(z) - 0.5 / z - series + acc
        value = np.where(reflect, value - np.pi / np.tan(np.pi * x), value)
        keep = ~pole & ~np.isnan(x)
        out[keep] = value[keep]
        out[np.isposinf(x)] = np.inf
    return out


def _polygamma(n, x):
    if n == 0:
        return _digamma(x)
    x = np.asarray(x, np.float64)
    sign = 1.0 if n % 2 else -1.0  # (-1)^(n+1)
    fact = math.factorial(n)
    out = np.full(x.shape, np.nan)
    with np.errstate(all="ignore"):
        pole = (x <= 0) & (x == np.floor(x))
        out[pole] = np.inf if n % 2 else -np.inf
        reflect = (n == 1) & (x < 0.5) & ~pole
        z = np.where(reflect, 1.0 - x, x)
        usable = ~pole & ~np.isnan(z) & (z > -_MOST_SHIFTS)
        z = np.where(usable, z, _SHIFT_TO)
        acc = np.zeros_like(z)
        while True:
            low = z < _SHIFT_TO
            if not low.any():
                break
            acc += np.where(low, sign * fact / z ** (n + 1), 0.0)
            z = np.where(low, z + 1.0, z)
        # (n-1)!/z^n + n!/(2 z^(n+1)) + sum_k B_2k (2k+n-1)! / ((2k)! z^(2k+n))
        series = math.factorial(n - 1) / z ** n + fact / (2 * z ** (n + 1))
        for k, b in enumerate(_BERNOULLI, start=1):
            series += b * math.factorial(2 * k + n - 1) / math.factorial(2 * k) / z ** (2 * k + n)
        value = sign * series + acc
        if n == 1:
            value = np.where(reflect, -value + (np.pi / np.sin(np.pi * x)) ** 2, value)
        keep = usable
        out[keep] = value[keep]
        out[np.isposinf(x)] = 0.0
    return out


def _lgamma_or_pole(v):
    """math.lgamma, with torch's inf at the poles (0, -1, -2, ...) where math raises."""
    try:
        return math.lgamma(v)
    except ValueError:
        return math.inf


def _cast(values, like):
    return values.astype(like.dtype, copy=False)


class LGamma(Function):
    tangent_rule = "diagonal"  # elementwise: forward AD takes J v = backward(v)
    backward_name = "LgammaBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        values = np.vectorize(_lgamma_or_pole, otypes=[np.float64])(x) if x.size else \
            np.zeros(x.shape)
        return _cast(values, x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return _cast(g * _digamma(x), g)


class Digamma(Function):
    tangent_rule = "diagonal"  # elementwise: forward AD takes J v = backward(v)
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _cast(_digamma(x), x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return _cast(g * _polygamma(1, x), g)


class Polygamma(Function):
    tangent_rule = "diagonal"  # elementwise: forward AD takes J v = backward(v)
    @staticmethod
    def forward(ctx, x, n):
        ctx.save_for_backward(x)
        ctx.n = n
        return _cast(_polygamma(n, x), x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return _cast(g * _polygamma(ctx.n + 1, x), g), None


def lgamma(input):
    return LGamma.apply(floating(input))


def digamma(input):
    return Digamma.apply(floating(input))


def polygamma(n, input):
    if int(n) != n or n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return Polygamma.apply(floating(input), int(n))


def mvlgamma(input, p):
    """The multivariate log-gamma: sum_i lgamma(x - i/2) + p(p-1)/4 log(pi)."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    x = floating(input)
    if (x._data <= (p - 1) / 2).any():
        raise RuntimeError(f"All elements must be greater than (p-1)/2 (={(p - 1) / 2})")
    total = lgamma(x)
    for i in range(1, p):
        total = total + lgamma(x - i / 2)
    return total + p * (p - 1) / 4 * math.log(math.pi)
