"""torch's elementwise math beyond exp/log/sqrt: trigonometric and hyperbolic functions, log2,
log10, log1p, expm1, exp2, rsqrt, reciprocal and erf. Each is a Function whose backward is
the derivative written in terms of the input x and the output y. Integer inputs give floats,
as torch's. Positional encodings (sin/cos) are the common use in the programs we port."""
import math

import numpy as np

from fastnn.autograd.function import Function
from fastnn.ops.broadcast import floating
from fastnn.ops.nonlinearities import erf as _erf
from fastnn.ops.rounded_math import rounded


class _Unary(Function):
    """y = f(x) with dy/dx = derivative(x, y); subclasses set both as static methods."""
    tangent_rule = "diagonal"  # elementwise: forward AD takes J v = backward(v)

    @staticmethod
    def f(x):
        raise NotImplementedError

    @staticmethod
    def derivative(x, y):
        raise NotImplementedError

    # computed in double and rounded once for float32 (fastnn/ops/rounded_math.py); off for
    # the arithmetic ones, which torch rounds step by step in float
    in_double = True

    @classmethod
    def forward(cls, ctx, x):
        # nan/inf outside the domain without a warning, as torch (Function.apply silences NumPy)
        y = (rounded(cls.f, x) if cls.in_double else cls.f(x)).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, y)
        ctx.op = cls
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return (g * ctx.op.derivative(x, y)).astype(g.dtype, copy=False)


class Sin(_Unary):
    f, derivative = staticmethod(np.sin), staticmethod(lambda x, y: np.cos(x))


class Cos(_Unary):
    f, derivative = staticmethod(np.cos), staticmethod(lambda x, y: -np.sin(x))


class Tan(_Unary):
    f, derivative = staticmethod(np.tan), staticmethod(lambda x, y: 1 + y * y)


class Asin(_Unary):
    f, derivative = staticmethod(np.arcsin), staticmethod(lambda x, y: 1 / np.sqrt(1 - x * x))


class Acos(_Unary):
    f, derivative = staticmethod(np.arccos), staticmethod(lambda x, y: -1 / np.sqrt(1 - x * x))


class Atan(_Unary):
    f, derivative = staticmethod(np.arctan), staticmethod(lambda x, y: 1 / (1 + x * x))


class Sinh(_Unary):
    f, derivative = staticmethod(np.sinh), staticmethod(lambda x, y: np.cosh(x))


class Cosh(_Unary):
    f, derivative = staticmethod(np.cosh), staticmethod(lambda x, y: np.sinh(x))


class Log2(_Unary):
    f, derivative = staticmethod(np.log2), staticmethod(lambda x, y: 1 / (x * math.log(2)))


class Log10(_Unary):
    f, derivative = staticmethod(np.log10), staticmethod(lambda x, y: 1 / (x * math.log(10)))


class Log1p(_Unary):
    f, derivative = staticmethod(np.log1p), staticmethod(lambda x, y: 1 / (1 + x))


class Expm1(_Unary):
    f, derivative = staticmethod(np.expm1), staticmethod(lambda x, y: y + 1)


class Exp2(_Unary):
    f, derivative = staticmethod(np.exp2), staticmethod(lambda x, y: y * math.log(2))


class Rsqrt(_Unary):
    in_double = False
    f, derivative = staticmethod(lambda x: 1 / np.sqrt(x)), staticmethod(lambda x, y: -0.5 * y ** 3)


class Reciprocal(_Unary):
    in_double = False
    f, derivative = staticmethod(lambda x: 1 / x), staticmethod(lambda x, y: -y * y)


def sin(input):
    return Sin.apply(floating(input))


def cos(input):
    return Cos.apply(floating(input))


def tan(input):
    return Tan.apply(floating(input))


def asin(input):
    return Asin.apply(floating(input))


def acos(input):
    return Acos.apply(floating(input))


def atan(input):
    return Atan.apply(floating(input))


def sinh(input):
    return Sinh.apply(floating(input))


def cosh(input):
    return Cosh.apply(floating(input))


def log2(input):
    return Log2.apply(floating(input))


def log10(input):
    return Log10.apply(floating(input))


def log1p(input):
    return Log1p.apply(floating(input))


def expm1(input):
    return Expm1.apply(floating(input))


def exp2(input):
    return Exp2.apply(floating(input))


def rsqrt(input):
    return Rsqrt.apply(floating(input))


def reciprocal(input):
    return Reciprocal.apply(floating(input))


def erf(input):
    return _erf(input)


arcsin, arccos, arctan = asin, acos, atan


class Asinh(_Unary):
    f, derivative = staticmethod(np.arcsinh), staticmethod(lambda x, y: 1 / np.sqrt(x * x + 1))


class Acosh(_Unary):
    f, derivative = staticmethod(np.arccosh), staticmethod(lambda x, y: 1 / np.sqrt(x * x - 1))


class Atanh(_Unary):
    f, derivative = staticmethod(np.arctanh), staticmethod(lambda x, y: 1 / (1 - x * x))


_erfc = np.frompyfunc(math.erfc, 1, 1)


class Erfc(_Unary):
    # math.erfc per element: 1 - erf(x) would round to 0 for x > ~4 in float32, where erfc is
    # still 1.5e-8 and more (torch's erfc keeps those digits)
    f = staticmethod(lambda x: np.asarray(_erfc(x), dtype=x.dtype))  # (0-d: a Python float)
    derivative = staticmethod(lambda x, y: -2 / math.sqrt(math.pi) * np.exp(-x * x))


def asinh(input):
    return Asinh.apply(floating(input))


def acosh(input):
    return Acosh.apply(floating(input))


def atanh(input):
    return Atanh.apply(floating(input))


def erfc(input):
    return Erfc.apply(floating(input))


def arcsinh(input):
    return asinh(input)


def arccosh(input):
    return acosh(input)


def arctanh(input):
    return atanh(input)


def _erfinv_array(y):
    """erf^-1 in float64: M. Giles, "Approximating the erfinv function" (GPU Computing Gems,
    2010), single-precision polynomials, then one Newton step on math.erf for full precision."""
    y = np.asarray(y, np.float64)
    with np.errstate(all="ignore"):
        w = -np.log((1.0 - y) * (1.0 + y))
        central = w < 5.0
        wc, wt = w - 2.5, np.sqrt(w) - 3.0
        pc = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941):
            pc = c + pc * wc
        pt = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                  -0.0076224613, 0.00943887047, 1.00167406, 2.83297682):
            pt = c + pt * wt
        x = np.array(np.where(central, pc, pt) * y, dtype=np.float64)  # (an array at 0-d too)
        finite = np.isfinite(x)
        erf = np.frompyfunc(math.erf, 1, 1)
        xf = x[finite]
        x[finite] = xf - (np.asarray(erf(xf), dtype=np.float64) - y[finite]) / (
            2.0 / math.sqrt(math.pi) * np.exp(-xf * xf))
        x = np.where(np.abs(y) == 1.0, np.sign(y) * np.inf, x)
        return np.where(np.abs(y) > 1.0, np.nan, x)


class Erfinv(_Unary):
    f = staticmethod(_erfinv_array)
    derivative = staticmethod(lambda x, y: math.sqrt(math.pi) / 2 * np.exp(y * y))


def erfinv(input):
    return Erfinv.apply(floating(input))


def sinc(input):
    """sin(pi x) / (pi x), 1 at 0 (the normalised sinc); the division runs on x with its
    zeros replaced, so the unused branch puts no NaN into the gradient."""
    from fastnn.ops import elementwise
    from fastnn.tensor import Tensor
    input = floating(input)
    zero = Tensor._wrap(input._data == 0)
    safe = elementwise.where(zero, 1.0, input) * np.pi
    return elementwise.where(zero, 1.0, sin(safe) / safe)
