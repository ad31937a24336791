"""softmax / log_softmax along a dim, computed stably (shift by the max), and dropout."""
import warnings

import numpy as np

from fastnn import random
from fastnn.autograd.function import Function
from fastnn.ops.manipulation import _dim as _checked_dim


class Softmax(Function):
    """The passes run in place on one new array: an attention softmax over pytorch/examples'
    GAT scores (8 x 1800 x 1800) took 77 ms with a new array a pass and a final copy, page
    faults included, against 67 ms for torch's fused kernel at 1 thread."""

    @staticmethod
    def forward(ctx, x, dim):
        out = np.subtract(x, x.max(axis=dim, keepdims=True))
        np.exp(out, out=out)
        np.divide(out, out.sum(axis=dim, keepdims=True), out=out)
        out = out if out.dtype == x.dtype else out.astype(x.dtype)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        # J^T g = s * (g - <g, s>), in place on one new array
        grad = np.multiply(g, out)
        total = grad.sum(axis=ctx.dim, keepdims=True)
        np.subtract(g, total, out=grad)
        np.multiply(grad, out, out=grad)
        return grad, None


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, dim):  # (in place where it can, as Softmax)
        shifted = np.subtract(x, x.max(axis=dim, keepdims=True))
        wide = shifted.astype(np.float64)
        lse = np.log(np.exp(wide, out=wide).sum(axis=dim, keepdims=True))
        del wide
        # the difference taken in float64 and rounded once into the input's dtype
        out = np.subtract(shifted, lse, out=shifted) if shifted.dtype.kind == "f" else \
            (shifted - lse).astype(x.dtype)
        out = out if out.dtype == x.dtype else out.astype(x.dtype)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        grad = np.exp(out)
        np.multiply(grad, g.sum(axis=ctx.dim, keepdims=True), out=grad)
        return np.subtract(g, grad, out=grad), None


class Dropout(Function):
    """Inverted dropout: zero each element with probability p, scale the rest by 1/(1-p), so
    eval mode is the identity."""
    backward_name = "NativeDropoutBackward0"


    @staticmethod
    def forward(ctx, x, p):
        # torch's mask: bernoulli_(1 - p), a uniform double below the keep probability
        keep = random.rng().bernoulli_values(x.shape, 1.0 - p)
        scale = np.float32(1.0 / (1.0 - p))
        ctx.mask = keep * scale  # float32 mask with the scale folded in
        return x * ctx.mask

    @staticmethod
    def backward(ctx, g):
        return g * ctx.mask, None


def _dim(dim, ndim, name=None, stacklevel=3):
    if dim is None:  # torch's legacy implicit dim: 0 for 0-D, 1-D and 3-D inputs, else 1
        if name is not None:  # (torch's _get_softmax_dim)
            warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the "
                          "call to include dim=X as an argument.", UserWarning,
                          stacklevel=stacklevel)
        dim = 0 if ndim in (0, 1, 3) else 1
    return _checked_dim(dim, ndim)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """dtype: the input is cast to it first, as torch's (a float64 softmax of float32 logits)."""
    x = input if dtype is None else input.to(dtype)
    axis = _dim(dim, x.ndim, "softmax", _stacklevel)
    _floating_only(x, "softmax", axis)
    return Softmax.apply(x, axis)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    x = input if dtype is None else input.to(dtype)
    axis = _dim(dim, x.ndim, "log_softmax", _stacklevel)
    _floating_only(x, "log_softmax", axis)
    return LogSoftmax.apply(x, axis)


_NO_DIM = object()


def torch_softmax(input, dim=_NO_DIM, dtype=None):
    """torch.softmax: dim is required (only nn.functional.softmax infers one)."""
    if dim is _NO_DIM:
        raise TypeError('softmax() missing 1 required positional arguments: "dim"')
    return softmax(input, dim, dtype=dtype)


def torch_log_softmax(input, dim=_NO_DIM, dtype=None):
    if dim is _NO_DIM:
        raise TypeError('log_softmax() missing 1 required positional arguments: "dim"')
    return log_softmax(input, dim, dtype=dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-input), torch's signature (dtype casts the input first)."""
    x = input if dtype is None else input.to(dtype)
    axis = _dim(dim, x.ndim, "softmin", _stacklevel)
    _floating_only(x, "softmax", axis)
    return Softmax.apply(-x, axis)


def _floating_only(x, name, axis):
    """torch's kernels are floating-point only (integer logits need dtype=)."""
    if x._data.dtype.kind not in "fV":
        from fastnn import dtypes
        kernel = "lastdim_kernel_impl" if axis in (-1, x.ndim - 1) or x.ndim == 0 else \
            "kernel_impl"
        raise NotImplementedError(f'"{name}_{kernel}" not implemented for '
                                  f"'{dtypes.of_array(x._data).title}'")


def dropout(x, p=0.5, training=True):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        from fastnn.ops.arithmetic import mul
        return mul(x, 0.0)
    return Dropout.apply(x, float(p))
