"""Order statistics and histograms: median (the lower of the two middle values, as torch),
nanmedian, kthvalue, quantile (linear, lower, higher, nearest, midpoint), histc, searchsorted,
bucketize; and nansum, nanmean, var_mean, std_mean. Values are differentiable: they are
gathered from the input at the positions an argsort chose."""
from fastnn import return_types

import numpy as np

from fastnn.ops.manipulation import _dim
from fastnn.tensor import Tensor



def _pick(input, order_index, dim, keepdim, name):
    """The input's values at order_index (int64, keepdim shape) along dim."""
    index = Tensor._wrap(order_index)
    values = input.gather(dim, index)
    if not keepdim:
        values, index = values.squeeze(dim), Tensor._wrap(order_index.squeeze(dim))
    return return_types.structseq(name, ["values", "indices"])(values, index)


def kthvalue(input, k, dim=-1, keepdim=False):
    d = _dim(dim, max(input.ndim, 1))
    data = input._data.reshape(1) if input.ndim == 0 else input._data
    n = data.shape[d]
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    order = np.argsort(data, axis=d, kind="stable")
    index = np.take(order, [k - 1], axis=d).astype(np.int64)
    if input.ndim == 0:
        return return_types.kthvalue(input.clone(),
                                                             Tensor._wrap(np.int64(0)))
    return _pick(input, index, d, keepdim, "kthvalue")


def median(input, dim=None, keepdim=False):
    """The lower middle value; a slice holding NaN has median NaN (its first NaN), as torch's."""
    if dim is None:
        flat = input.reshape(-1)
        if flat.shape[0] == 0:
            return Tensor._wrap(np.asarray(np.nan, input._data.dtype))
        nans = np.isnan(flat._data) if flat._data.dtype.kind == "f" else None
        if nans is not None and nans.any():
            return flat[int(np.argmax(nans))]
        return kthvalue(flat, (flat.shape[0] + 1) // 2, 0).values
    d = _dim(dim, max(input.ndim, 1))
    if input.ndim == 0:
        return return_types.median(*kthvalue(input, 1, d, keepdim))
    data = input._data
    n = data.shape[d]
    if n == 0:
        raise IndexError(f"median(): Expected reduction dim {d} to have non-zero size.")
    order = np.argsort(data, axis=d, kind="stable")
    index = np.take(order, [(n - 1) // 2], axis=d)
    if data.dtype.kind == "f":
        nans = np.isnan(data)
        index = np.where(nans.any(axis=d, keepdims=True),
                         np.argmax(nans, axis=d, keepdims=True), index)
    from fastnn.autograd.function import presented
    values, indices = _pick(input, index.astype(np.int64), d, keepdim, "median")
    return return_types.median(presented(values, "MedianBackward1"), indices)


def nanmedian(input, dim=None, keepdim=False):
    if dim is None:
        flat = input.reshape(-1)
        kept = flat[~np.isnan(flat._data)]
        if kept.shape[0] == 0:
            return Tensor._wrap(np.asarray(np.nan, input._data.dtype))
        return median(kept)
    # along dim: the lower median of each slice's non-NaN values (NaN for an all-NaN slice),
    # with its index; NumPy's sort puts NaN last, so it is the ((k - 1) // 2)-th of the k kept
    d = _dim(dim, max(input.ndim, 1))
    data = input._data if input.ndim else input._data.reshape(1)
    order = np.argsort(data, axis=d, kind="stable")
    kept = (~np.isnan(data)).sum(axis=d, keepdims=True)
    position = np.maximum(kept - 1, 0) // 2
    index = np.take_along_axis(order, position, axis=d)
    values = (input if input.ndim else input.reshape(1)).gather(d, Tensor._wrap(index))
    if not keepdim or not input.ndim:
        values, index = values.squeeze(d), index.squeeze(d)
    if not input.ndim:
        values, index = values.reshape(()), index.reshape(())
    from fastnn.autograd.function import presented
    return return_types.nanmedian(presented(values, "NanmedianBackward1"),
                                  Tensor._wrap(index.astype(np.int64)))


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    modes = ("linear", "lower", "higher", "nearest", "midpoint")
    if interpolation not in modes:
        raise RuntimeError(f"quantile() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest. Got {interpolation}")
    scalar_q = np.ndim(q._data if isinstance(q, Tensor) else q) == 0  # (a 0-d q tensor too)
    qs = np.atleast_1d(q._data if isinstance(q, Tensor) else np.asarray(q, np.float64))
    if ((qs < 0) | (qs > 1)).any():
        raise RuntimeError("quantile() q values must be in the range [0, 1]")
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _dim(dim, x.ndim)
    sorted_x = x.sort(d).values
    n = x.shape[d]
    out = []
    for value in qs:
        pos = value * (n - 1)
        lo, hi = int(np.floor(pos)), int(np.ceil(pos))
        take = lambda i: sorted_x.select(d, i)  # noqa: E731
        if interpolation == "lower":
            r = take(lo)
        elif interpolation == "higher":
            r = take(hi)
        elif interpolation == "nearest":
            r = take(int(np.round(pos)))  # round half to even, as torch
        elif interpolation == "midpoint":
            r = (take(lo) + take(hi)) * 0.5
        else:
            r = take(lo) + (take(hi) - take(lo)) * float(pos - lo)
        if keepdim:
            r = r.unsqueeze(d) if dim is not None else r.reshape([1] * input.ndim)
        out.append(r)
    if scalar_q:
        return out[0]
    from fastnn.ops.shape import stack
    return stack(out, 0)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    from fastnn.ops.elementwise import where
    if dtype is not None:  # cast first, as torch's
        input = input._cast(dtype)
    if input._data.dtype.kind in "iub":  # no NaN: an integer sum (int64, as torch's)
        return input.sum() if dim is None else input.sum(dim, keepdim=keepdim)
    cleaned = where(np.isnan(input._data), 0.0, input)
    return cleaned.sum() if dim is None else cleaned.sum(dim, keepdim=keepdim)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        input = input._cast(dtype)
    count = (~np.isnan(input._data)).sum(axis=dim, keepdims=keepdim)
    return nansum(input, dim, keepdim) / Tensor._wrap(np.asarray(count, input._data.dtype))


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=1):
    """torch's overloads: (input, dim, *, correction, keepdim), (input, dim, unbiased,
    keepdim) and (input, unbiased)."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if unbiased is not None:
        correction = int(unbiased)
    var = input.var(dim, correction=correction, keepdim=keepdim) if dim is not None \
        else input.var(correction=correction)
    mean = input.mean(dim, keepdim=keepdim) if dim is not None else input.mean()
    return var, mean


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=1):
    var, mean = var_mean(input, dim, correction=correction, keepdim=keepdim,
                         unbiased=unbiased)
    return var.sqrt(), mean


def histc(input, bins=100, min=0, max=0):
    data = input._data
    lo, hi = float(min), float(max)
    if lo == hi and data.size:
        lo, hi = float(data.min()), float(data.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    counts, _ = np.histogram(data, bins=bins, range=(lo, hi))
    return Tensor._wrap(counts.astype(data.dtype))


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    seq = sorted_sequence._data
    values = input._data if isinstance(input, Tensor) else np.asarray(input)
    side = side or ("right" if right else "left")
    if seq.ndim == 1:
        result = np.searchsorted(seq, values, side=side)
    else:
        result = np.stack([np.searchsorted(s, v, side=side) for s, v in
                           zip(seq.reshape(-1, seq.shape[-1]),
                               values.reshape(-1, values.shape[-1]))]).reshape(values.shape)
    return Tensor._wrap(np.asarray(result, np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)
