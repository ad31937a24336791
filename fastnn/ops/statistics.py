"""prod, var, std and logsumexp with torch's signatures (dim, keepdim, unbiased / correction).
var/std and logsumexp are compositions of differentiable ops; prod has its own adjoint."""
import numpy as np

from fastnn.autograd.function import Function
from fastnn.ops import reductions
from fastnn.ops.reductions import _axes


class Prod(Function):
    backward_name = "ProdBackward0"
    tangent_rule = "reduction"  # forward AD: J v = sum over the axes of backward(1) * v

    @staticmethod
    def reduction_axes(ctx):
        return ctx.meta

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        ctx.save_for_backward(x)
        ctx.meta = (axis, keepdim)
        dtype = x.dtype if x.dtype.kind in "fVc" else np.int64  # (bfloat16 is kind "V")
        return np.asarray(np.prod(x, axis=axis, keepdims=keepdim, dtype=dtype))

    @staticmethod
    def backward(ctx, g):
        """d prod / d x_i = product of the others: exclusive products from both sides, which
        stays exact when some x_i are zero (prod / x_i would divide by zero)."""
        (x,) = ctx.saved_tensors
        axis, keepdim = ctx.meta
        flat = x.reshape(-1) if axis is None else np.moveaxis(x, axis, -1)
        ones = np.ones(flat.shape[:-1] + (1,), dtype=x.dtype)
        left = np.concatenate([ones, np.cumprod(flat, axis=-1)[..., :-1]], axis=-1)
        right = np.flip(np.concatenate(
            [ones, np.cumprod(np.flip(flat, -1), axis=-1)[..., :-1]], axis=-1), -1)
        others = left * right
        if axis is None:
            return (np.asarray(g).reshape(()) * others).reshape(x.shape), None, None
        g = g if keepdim else np.expand_dims(g, axis)
        return np.moveaxis(others, -1, axis) * g, None, None


def prod(x, dim=None, keepdim=False, dtype=None):
    x = x if dtype is None else x.to(dtype)
    axis = None if dim is None else _axes(dim, None, x.ndim)
    if axis is not None:
        (axis,) = axis if len(axis) == 1 else (axis[0],)
    return Prod.apply(x, axis, bool(keepdim) if dim is not None else False)


def _correction(unbiased, correction):
    if correction is not None:
        return float(correction)
    return 1.0 if unbiased is None or unbiased else 0.0


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance with Bessel's correction by default (correction=1), as torch.var."""
    if isinstance(dim, bool):  # torch's legacy var(x, unbiased)
        dim, unbiased = None, dim
    if not x.is_floating_point():
        raise RuntimeError("std and var only support floating point and complex dtypes")
    if x._data.dtype.itemsize == 2:  # float16 / bfloat16: float32 sums, one rounding (torch)
        return var(x.float(), dim, unbiased, keepdim, correction=correction).to(x.dtype)
    axes = _axes(dim, None, x.ndim)
    count = x.numel() if axes is None else int(np.prod([x.shape[a] for a in axes]))
    centred = x - reductions.mean(x, dim=axes, keepdim=True)
    total = reductions.sum(centred * centred, dim=axes, keepdim=keepdim)
    return total / max(count - _correction(unbiased, correction), 0.0)


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if x.is_floating_point() and x._data.dtype.itemsize == 2:  # one rounding, as var's
        return std(x.float(), dim, unbiased, keepdim, correction=correction).to(x.dtype)
    return var(x, dim, unbiased, keepdim, correction=correction).sqrt()


def logsumexp(x, dim, keepdim=False):
    """log(sum(exp(x))) along dim, shifted by the (detached) max so exp cannot overflow; an
    all -inf slice gives -inf, as torch's."""
    if not x.is_floating_point():  # integers and bools: in the default float dtype (torch's)
        from fastnn import dtypes
        x = x.to(dtypes.get_default_dtype())
    axes = _axes(dim, None, x.ndim)
    shift = np.max(x._data, axis=axes, keepdims=True) if x.numel() else np.zeros(
        [1] * x.ndim, x._data.dtype)
    shift = np.where(np.isfinite(shift), shift, 0).astype(x._data.dtype)
    from fastnn.tensor import Tensor
    s = Tensor._wrap(shift)
    out = reductions.sum((x - s).exp(), dim=axes, keepdim=True).log() + s
    return out if keepdim else out.squeeze(axes) if axes is not None else out.reshape(())
