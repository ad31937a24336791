"""Reordering, repeating, splitting and selecting along dims, with torch's names, semantics and
messages: flip, roll, repeat, tile, chunk, split, index_select, gather, sort, argsort, topk,
plus the non-differentiable helpers nonzero, unique, bincount. Every differentiable op here is
either a Function with its adjoint or a composition of differentiable ops (chunk and split are
slices, topk and sort gather their values), so gradients need no special cases."""
from fastnn import return_types

import numpy as np

from fastnn.autograd.function import Function
from fastnn.ops.complex_ops import refuse_order
from fastnn.tensor import Tensor

SortResult = return_types.sort
TopkResult = return_types.topk


def _dim(dim, ndim, name="dim"):
    size = builtin_max(ndim, 1)
    if not -size <= dim < size:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-size}, "
                         f"{size - 1}], but got {dim})")
    return dim % size


builtin_max = max


def _dims(dims, ndim):
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    return tuple(_dim(d, ndim) for d in dims)


class Flip(Function):
    complex_grad = True  # moves or sums values: the backward holds for complex ones
    tangent_rule = "linear"  # linear in its tensor: forward AD takes J v = op(v)
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.ascontiguousarray(np.flip(x, dims))

    @staticmethod
    def backward(ctx, g):
        return np.flip(g, ctx.dims), None


def flip(x, dims):
    return Flip.apply(x, _dims(dims, x.ndim))


class Roll(Function):
    complex_grad = True  # moves or sums values: the backward holds for complex ones
    tangent_rule = "linear"  # linear in its tensor: forward AD takes J v = op(v)
    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.meta = (shifts, dims)
        if dims is None:
            return np.roll(x.reshape(-1), shifts).reshape(x.shape)
        return np.roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, g):
        shifts, dims = ctx.meta
        back = tuple(-s for s in shifts) if isinstance(shifts, tuple) else -shifts
        if dims is None:
            return np.roll(g.reshape(-1), back).reshape(g.shape), None, None
        return np.roll(g, back, dims), None, None


def _int_if_scalar(value):
    """A 0-d integer tensor where torch takes an int (torch.split(x, torch.tensor(2)))."""
    if isinstance(value, Tensor) and value.ndim == 0:
        return value.__index__()
    return value


def roll(x, shifts, dims=None):
    shifts, dims = _int_if_scalar(shifts), _int_if_scalar(dims)
    if dims is None:
        if not isinstance(shifts, (int, np.integer)):
            (shifts,) = shifts
        return Roll.apply(x, int(shifts), None)
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    dims = _dims(dims, x.ndim)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:"
                           f"{len(dims)}")
    return Roll.apply(x, shifts, dims)


class Repeat(Function):
    """torch.Tensor.repeat: np.tile of x seen with leading size-1 dims; backward sums the
    copies (g reshaped to (r0, d0, r1, d1, ...) summed over the r axes)."""
    complex_grad = True  # moves or sums values: the backward holds for complex ones
    tangent_rule = "linear"  # linear in its tensor: forward AD takes J v = op(v)

    @staticmethod
    def forward(ctx, x, sizes):
        shape = (1,) * (len(sizes) - x.ndim) + x.shape
        ctx.meta = (x.shape, shape, sizes)
        return np.tile(x.reshape(shape), sizes)

    @staticmethod
    def backward(ctx, g):
        in_shape, shape, sizes = ctx.meta
        split = [v for pair in zip(sizes, shape) for v in pair]
        summed = g.reshape(split).sum(axis=tuple(range(0, 2 * len(sizes), 2)))
        return summed.reshape(in_shape), None


def _sizes(sizes):
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    return tuple(int(s) for s in sizes)


def repeat(x, *sizes):
    sizes = _sizes(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    return Repeat.apply(x, sizes)


def tile(x, dims):
    dims = _sizes((dims,) if isinstance(dims, (tuple, list)) else (dims,))
    return Repeat.apply(x, (1,) * (x.ndim - len(dims)) + dims)


def _along(dim, ndim, index):
    return (slice(None),) * dim + (index,)


def split(x, split_size_or_sections, dim=0):
    split_size_or_sections = _int_if_scalar(split_size_or_sections)
    d = _dim(dim, x.ndim)
    n = x.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got "
                               f"split_size={size}")
        if size == 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        bounds = list(range(0, n, size)) + [n] if n else [0, 0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={sizes}")
        bounds = list(np.cumsum([0] + sizes))
    return tuple(x[_along(d, x.ndim, slice(int(a), int(b)))] for a, b in zip(bounds[:-1],
                                                                                bounds[1:]))


def chunk(x, chunks, dim=0):
    chunks = _int_if_scalar(chunks)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = x.shape[_dim(dim, x.ndim)]
    return split(x, builtin_max(-(-n // chunks), 1) if n else 0, dim) if n else (x,)


def _index_array(index, name):
    array = index._data if isinstance(index, Tensor) else np.asarray(index)
    if array.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    return array.astype(np.int64, copy=False)


def index_select(x, dim, index):
    d = _dim(dim, x.ndim)
    idx = _index_array(index, "index_select")
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    n = x.shape[d] if x.ndim else 1
    bad = idx[(idx < 0) | (idx >= n)]  # torch refuses negative indices here too
    if bad.size:
        raise RuntimeError(f"INDICES element is out of DATA bounds, id={int(bad[0])} "
                           f"axis_dim={n}")
    return x[_along(d, x.ndim, Tensor._wrap(idx.reshape(-1)))]


class Gather(Function):
    complex_grad = True  # moves or sums values: the backward holds for complex ones
    backward_name = "GatherBackward0"

    @staticmethod
    def forward(ctx, x, dim, index):
        grids = list(np.indices(index.shape, sparse=True))
        grids[dim] = index
        grids = tuple(grids)
        ctx.meta = (x.shape, grids)
        return x[grids]

    @staticmethod
    def backward(ctx, g):
        shape, grids = ctx.meta
        grad = np.zeros(shape, dtype=g.dtype)
        np.add.at(grad, grids, g)
        return grad, None, None


def gather(x, dim, index, sparse_grad=False):
    d = _dim(dim, x.ndim)
    idx = _index_array(index, "gather")
    if idx.ndim != builtin_max(x.ndim, 1) and not (idx.ndim <= 1 and x.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input "
                           "tensor")
    for axis in range(idx.ndim):
        if axis != d and idx.shape[axis] > x.shape[axis]:
            raise RuntimeError(f"Size does not match at dimension {axis} expected index "
                               f"{list(idx.shape)} to be no larger than self "
                               f"{list(x.shape)} apart from dimension {d}")
    n = x.shape[d] if x.ndim else 1
    bad = (idx < -n) | (idx >= n) if idx.size else np.zeros(0, bool)
    if bad.any():
        raise RuntimeError(f"index {int(idx[bad][0])} is out of bounds for dimension {d} with "
                           f"size {n}")
    return Gather.apply(x, d, np.where(idx < 0, idx + n, idx))


def _sort_indices(data, dim, descending):
    """A stable order along dim (ties keep their order); NaN sorts as the largest value, as in
    torch."""
    keys = data.astype(np.int8) if data.dtype == np.bool_ else data
    if keys.dtype.kind == "f":
        keys = np.where(np.isnan(keys), np.inf, keys.astype(np.float64))
    elif descending:
        keys = keys.astype(np.int64)
    return np.argsort(-keys if descending else keys, axis=dim, kind="stable")


def sort(x, dim=-1, descending=False, stable=False):
    refuse_order(x._data, message=" Sort does not support complex dtypes on CPU")  # (torch's)
    d = _dim(dim, x.ndim)
    if x.ndim == 0:
        return SortResult(x * 1, Tensor._wrap(np.zeros((), np.int64)))
    order = _sort_indices(x._data, d, descending)
    return SortResult(Gather.apply(x, d, order), Tensor._wrap(order.astype(np.int64)))


def argsort(x, dim=-1, descending=False, stable=False):
    return sort(x, dim, descending, stable).indices


def topk(x, k, dim=-1, largest=True, sorted=True):
    if x._data.dtype == np.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    refuse_order(x._data, message=" topk does not support complex dtypes on CPU")
    d = _dim(dim, x.ndim)
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    order = _sort_indices(x._data, d, descending=largest)
    order = np.take(order, np.arange(k), axis=d) if x.ndim else order
    return TopkResult(Gather.apply(x, d, order), Tensor._wrap(order.astype(np.int64)))


def nonzero(x, as_tuple=False):
    data = x._data if isinstance(x, Tensor) else np.asarray(x)
    if data.ndim == 0:  # torch: a 0-d tensor is nonzero as a one-element vector, (1, 0) rows
        hit = np.zeros(int(bool(data)), np.int64)
        return (Tensor._wrap(hit),) if as_tuple else Tensor._wrap(np.zeros((hit.size, 0),
                                                                           np.int64))
    found = np.nonzero(data)
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in found)
    return Tensor._wrap(np.stack(found, axis=1).astype(np.int64) if found else
                        np.zeros((0, 0), np.int64))


def unique(x, sorted=True, return_inverse=False, return_counts=False, dim=None):
    data = x._data
    values, inverse, counts = np.unique(data, return_inverse=True, return_counts=True, axis=dim)
    out = [Tensor._wrap(values)]
    if return_inverse:
        out.append(Tensor._wrap(inverse.reshape(data.shape if dim is None else -1)
                                .astype(np.int64)))
    if return_counts:
        out.append(Tensor._wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(x, weights=None, minlength=0):
    data = x._data
    if data.ndim != 1 or data.dtype.kind not in "iu":
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if data.size and data.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    w = None if weights is None else (weights._data if isinstance(weights, Tensor) else
                                      np.asarray(weights))
    counts = np.bincount(data, weights=w, minlength=minlength)
    if w is None:
        return Tensor._wrap(counts.astype(np.int64))
    return Tensor._wrap(counts.astype(w.dtype if w.dtype.kind == "f" else np.float64))


def repeat_interleave(x, repeats, dim=None, *, output_size=None):
    """Each element (or slice along dim) repeated repeats times in place, as torch's; the
    gradient sums the copies (it is an index_select)."""
    if dim is None:
        x, dim = x.reshape(-1), 0
    d = _dim(dim, x.ndim)
    counts = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    if counts.size > 1 and counts.shape != (x.shape[d],):
        raise RuntimeError("repeats must have the same size as input along dim")
    if (counts < 0).any():
        raise RuntimeError("repeats can not be negative")
    index = np.repeat(np.arange(x.shape[d]), counts.reshape(-1) if counts.size > 1
                      else int(counts))
    return x[_along(d, x.ndim, Tensor._wrap(index.astype(np.int64)))]
