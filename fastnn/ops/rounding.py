"""floor, ceil, round, trunc (gradient zero almost everywhere, as torch's), and the elementwise
tests isnan, isinf, isfinite, isclose, allclose (no gradient)."""
import numpy as np

from fastnn.autograd.function import Function
from fastnn.tensor import Tensor


class _Piecewise(Function):
    """A step function: its gradient is zero wherever it is defined (torch returns zeros)."""
    tangent_rule = "diagonal"  # elementwise: forward AD takes J v = backward(v)
    numpy_fn = None

    @classmethod
    def forward(cls, ctx, x, *args):
        ctx.shape = x.shape
        return np.asarray(cls.numpy_fn(x, *args)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return np.zeros(ctx.shape, dtype=g.dtype), None


class Floor(_Piecewise):
    backward_name = "FloorBackward0"
    numpy_fn = staticmethod(np.floor)


class Ceil(_Piecewise):
    backward_name = "CeilBackward0"
    numpy_fn = staticmethod(np.ceil)


class Trunc(_Piecewise):
    backward_name = "TruncBackward0"
    numpy_fn = staticmethod(np.trunc)


class Round(_Piecewise):
    backward_name = "RoundBackward0"
    numpy_fn = staticmethod(np.round)  # halves to even, as torch.round


def _step(function, x, *args):
    """Integer tensors come back as they are (torch's floor/ceil/round/trunc of an int)."""
    if x._data.dtype.kind == "b":  # torch has no bool kernels for these
        raise NotImplementedError(f'"{function.__name__.lower()}_vml_cpu" not implemented for '
                                  "'Bool'")
    if x._data.dtype.kind in "iu":
        return x.clone()
    return function.apply(x, *args)


def floor(x):
    return _step(Floor, x)


def ceil(x):
    return _step(Ceil, x)


def trunc(x):
    return _step(Trunc, x)


def round(x, decimals=0):
    return _step(Round, x, int(decimals))


def _array(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def isnan(x):
    return Tensor._wrap(np.isnan(_array(x)))


def isinf(x):
    return Tensor._wrap(np.isinf(_array(x)))


def isfinite(x):
    return Tensor._wrap(np.isfinite(_array(x)))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    a, b = _array(input), _array(other)
    if a.dtype != b.dtype:
        raise RuntimeError(f"{a.dtype} did not match {b.dtype}")
    return Tensor._wrap(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())
