"""Scans along a dimension: cumprod (with a gradient that is exact when the input has zeros),
cummax and cummin (values differentiable through the indices they pick), and diff."""
import numpy as np

from fastnn import dtypes, return_types
from fastnn.autograd.function import Function
from fastnn.ops.manipulation import _dim
from fastnn.tensor import Tensor


class CumProd(Function):
    backward_name = "CumprodBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.save_for_backward(x)
        ctx.dim = dim
        # integers and bools multiply in int64, as torch's (and NumPy's uint8 would wrap)
        return np.cumprod(x, axis=dim, dtype=None if x.dtype.kind in "fVc" else np.int64)

    @staticmethod
    def backward(ctx, g):
        # d out_j / d x_i = prod_{k<=j, k!=i} x_k for j >= i, so
        # grad_i = (prod_{k<i} x_k) * R_i with R_i = g_i + x_{i+1} R_{i+1}: no division, exact
        # with zeros, one pass backwards along the dimension.
        (x,) = ctx.saved_tensors
        xm, gm = np.moveaxis(x, ctx.dim, -1), np.moveaxis(g, ctx.dim, -1)
        n = xm.shape[-1]
        before = np.ones_like(xm)
        if n > 1:
            before[..., 1:] = np.cumprod(xm[..., :-1], axis=-1)
        r = np.empty_like(gm)
        acc = np.zeros(gm.shape[:-1], gm.dtype)
        for i in range(n - 1, -1, -1):
            acc = gm[..., i] + (xm[..., i + 1] * acc if i + 1 < n else 0)
            r[..., i] = acc
        return np.moveaxis(before * r, -1, ctx.dim), None


def cumprod(input, dim, *, dtype=None):
    x = input if dtype is None else input.to(dtype)
    return CumProd.apply(x, _dim(dim, builtin_ndim(x)))


def builtin_ndim(x):
    return max(x.ndim, 1)


def _cumulative_extreme(input, dim, accumulate, name):
    d = _dim(dim, builtin_ndim(input))
    data = input._data if input.ndim else input._data.reshape(1)
    moved = np.moveaxis(data, d, -1)
    running = accumulate.accumulate(moved, axis=-1)
    positions = np.arange(moved.shape[-1])
    # the index of the latest element equal to the running extreme (torch's choice on ties)
    # (a NaN is the extreme from where it appears on, as torch's: NaN propagates)
    hit = np.where((moved == running) | (np.isnan(moved) if moved.dtype.kind == "f" else False),
                   positions, -1)
    indices = np.maximum.accumulate(hit, axis=-1)
    indices = np.moveaxis(indices, -1, d).astype(np.int64)
    if not input.ndim:
        indices = indices.reshape(())
        return _result(name)(input.clone(), Tensor._wrap(indices))
    values = input.gather(d, Tensor._wrap(indices))
    return _result(name)(values, Tensor._wrap(indices))


def _result(name):
    return return_types.structseq(name, ["values", "indices"])


def cummax(input, dim):
    return _cumulative_extreme(input, dim, np.maximum, "cummax")


def cummin(input, dim):
    return _cumulative_extreme(input, dim, np.minimum, "cummin")


def diff(input, n=1, dim=-1, prepend=None, append=None):
    from fastnn.ops.shape import cat
    d = _dim(dim, input.ndim)
    x = input
    if prepend is not None or append is not None:
        parts = ([prepend] if prepend is not None else []) + [x] + \
            ([append] if append is not None else [])
        x = cat(parts, d)
    for _ in range(n):
        length = x.shape[d]
        upper = x[(slice(None),) * d + (slice(1, length),)]
        lower = x[(slice(None),) * d + (slice(0, length - 1),)]
        x = upper ^ lower if x.dtype is dtypes.bool_ else upper - lower  # (bools: xor, torch's)
    return x
