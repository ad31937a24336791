"""Index-driven ops: scatter_add, index_add, index_put (accumulating or not), index_copy and
masked_scatter (out of place with gradients; the in-place forms are their results copied in),
index_fill, take_along_dim, tensor_split, rot90, and the index builders cartesian_prod,
combinations, triu_indices, tril_indices; with column_stack, dstack and atleast_1d/2d/3d."""
import itertools

import numpy as np

from fastnn import dtypes
from fastnn.autograd.function import Function
from fastnn.ops.manipulation import _dim, _index_array, _int_if_scalar
from fastnn.ops.shape import cat, stack
from fastnn.tensor import Tensor


class ScatterAdd(Function):
    backward_name = "ScatterAddBackward0"

    @staticmethod
    def forward(ctx, x, dim, index, src):
        out = np.array(x, copy=True)
        region = tuple(slice(0, k) for k in index.shape)
        grid = list(np.indices(index.shape, sparse=True))
        grid[dim] = index
        np.add.at(out, tuple(grid), src[region])
        ctx.meta = (dim, index, src.shape)
        return out

    @staticmethod
    def backward(ctx, g):
        dim, index, src_shape = ctx.meta
        grad_src = np.zeros(src_shape, g.dtype)
        region = tuple(slice(0, k) for k in index.shape)
        grad_src[region] = np.take_along_axis(g, index, axis=dim)
        return g, None, None, grad_src


def scatter_add(input, dim, index, src):
    d = _dim(dim, max(input.ndim, 1))
    idx = _index_array(index, "scatter_add")
    if idx.ndim != input.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as self "
                           "tensor")
    size = input.shape[d]
    if idx.size and (idx.min() < -size or idx.max() >= size):
        raise RuntimeError(f"index {int(idx.max() if idx.max() >= size else idx.min())} is "
                           f"out of bounds for dimension {d} with size {size}")
    return ScatterAdd.apply(input, d, np.where(idx < 0, idx + size, idx), src)


class IndexAdd(Function):
    backward_name = "IndexAddBackward0"

    @staticmethod
    def forward(ctx, x, dim, index, source, alpha):
        out = np.array(x, copy=True)
        moved = np.moveaxis(out, dim, 0)
        np.add.at(moved, index, np.moveaxis(source, dim, 0) * alpha)
        ctx.meta = (dim, index, alpha)
        return out

    @staticmethod
    def backward(ctx, g):
        dim, index, alpha = ctx.meta
        return g, None, None, np.take(g, index, axis=dim) * alpha, None


def index_add(input, dim, index, source, *, alpha=1):
    d = _dim(dim, max(input.ndim, 1))
    idx = _index_array(index, "index_add")
    size = input.shape[d]
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        raise IndexError("index out of range in self")
    if source.shape[d] != idx.shape[0]:
        raise RuntimeError(f"index_add_(): Number of indices ({idx.shape[0]}) should be equal "
                           f"to source.size(dim) ({source.shape[d]})")
    return IndexAdd.apply(input, d, idx, source, alpha)


def index_fill(input, dim, index, value):
    d = _dim(dim, max(input.ndim, 1))
    idx = _index_array(index, "index_fill")
    mask = np.zeros(input.shape[d], bool)
    mask[idx] = True
    shape = [1] * input.ndim
    shape[d] = input.shape[d]
    from fastnn.ops.logical import masked_fill
    return masked_fill(input, Tensor._wrap(np.broadcast_to(mask.reshape(shape), tuple(input.shape))),
                       value)


def take_along_dim(input, indices, dim=None):
    if dim is None:
        return input.reshape(-1).gather(0, indices.reshape(-1))
    d = _dim(dim, input.ndim)
    idx = _index_array(indices, "take_along_dim")
    shape = list(np.broadcast_shapes(
        tuple(s for i, s in enumerate(input.shape) if i != d),
        tuple(s for i, s in enumerate(idx.shape) if i != d)))
    shape_in, shape_idx = list(shape), list(shape)
    shape_in.insert(d, input.shape[d])
    shape_idx.insert(d, idx.shape[d])
    return input.expand(*shape_in).gather(d, Tensor._wrap(np.broadcast_to(idx, shape_idx)
                                                           .copy()))


def tensor_split(input, indices_or_sections, dim=0):
    indices_or_sections = _int_if_scalar(indices_or_sections)  # (torch takes a 0-d tensor)
    d = _dim(dim, input.ndim)
    n = input.shape[d]
    if isinstance(indices_or_sections, int):
        sections = indices_or_sections
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        base, extra = divmod(n, sections)
        bounds = np.cumsum([0] + [base + (1 if i < extra else 0) for i in range(sections)])
    else:
        points = [int(i) for i in (indices_or_sections.tolist() if isinstance(
            indices_or_sections, Tensor) else indices_or_sections)]
        bounds = [0] + [min(max(p, 0), n) for p in points] + [n]
    return tuple(input[(slice(None),) * d + (slice(int(a), max(int(a), int(b))),)]
                 for a, b in zip(bounds[:-1], bounds[1:]))


def rot90(input, k=1, dims=(0, 1)):
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    d0, d1 = _dim(dims[0], input.ndim), _dim(dims[1], input.ndim)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    k %= 4
    if k == 1:
        return input.flip(d1).transpose(d0, d1)
    if k == 2:
        return input.flip([d0, d1])
    if k == 3:
        return input.flip(d0).transpose(d0, d1)
    return input.clone()


def cartesian_prod(*tensors):
    if len(tensors) == 1:
        return tensors[0]
    from fastnn.ops.more_elementwise import meshgrid
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    rows = list(pick(range(input.shape[0]), r))
    if not rows:
        return Tensor._wrap(np.zeros((0, r) if r else (0,), input._data.dtype))
    index = np.asarray(rows, np.int64)
    return input[index.reshape(-1)].reshape(len(rows), r)


def _triangle_indices(row, col, offset, upper):
    r, c = (np.triu_indices if upper else np.tril_indices)(row, offset, col)
    return Tensor._wrap(np.stack([r, c]).astype(np.int64))


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _triangle_indices(row, col, offset, True)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _triangle_indices(row, col, offset, False)


def atleast_1d(*tensors):
    out = [t.reshape(1) if t.ndim == 0 else t for t in _flatten_args(tensors)]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_2d(*tensors):
    out = [t.reshape(1, -1) if t.ndim < 2 else t for t in _flatten_args(tensors)]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_3d(*tensors):
    def lift(t):
        if t.ndim == 0:
            return t.reshape(1, 1, 1)
        if t.ndim == 1:
            return t.reshape(1, -1, 1)
        if t.ndim == 2:
            return t.unsqueeze(-1)
        return t
    out = [lift(t) for t in _flatten_args(tensors)]
    return out[0] if len(out) == 1 else tuple(out)


def _flatten_args(tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return list(tensors[0])
    return list(tensors)


def column_stack(tensors):
    columns = [t.reshape(-1, 1) if t.ndim < 2 else t for t in tensors]
    return cat(columns, 1)


def dstack(tensors):
    return cat(list(atleast_3d(*tensors)) if len(tensors) > 1 else [atleast_3d(*tensors)], 2)


def broadcast_tensors(*tensors):
    """Views of the tensors expanded to their common broadcast shape (torch's error when the
    shapes do not broadcast)."""
    from fastnn.ops.broadcast import check_broadcast
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    shape = ()
    for t in tensors:
        shape = check_broadcast(shape, tuple(t.shape))
    return tuple(t.expand(*shape) for t in tensors)


def unravel_index(indices, shape):
    """The coordinates of flat indices in a tensor of `shape` (one int64 tensor per
    dimension), each index taken modulo the size as torch's arithmetic does."""
    array = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if array.dtype.kind not in "iu":
        name = indices.dtype if isinstance(indices, Tensor) else array.dtype
        raise TypeError(f"expected 'indices' to be integer dtype, but got "
                        f"{str(name).replace('fastnn.', 'torch.')}")
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError("'shape' cannot have negative values, but got "
                         f"{tuple(shape)}")
    total = int(np.prod(shape, dtype=np.int64))
    flat = np.mod(array.astype(np.int64), total) if total else array.astype(np.int64)
    return tuple(Tensor._wrap(np.ascontiguousarray(c)) for c in np.unravel_index(flat, shape))


class IndexPutAccumulate(Function):
    backward_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, x, indices, values):
        out = np.array(x, copy=True)
        np.add.at(out, indices, np.broadcast_to(values, out[indices].shape))
        ctx.meta = (indices, np.shape(values))
        return out

    @staticmethod
    def backward(ctx, g):
        from fastnn.ops.broadcast import unbroadcast
        indices, shape = ctx.meta
        return g, None, unbroadcast(g[indices], shape)


def _index_tuple(indices):
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): argument 'indices' must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    return tuple(i._data if isinstance(i, Tensor) else np.asarray(i) for i in indices)


def index_put(input, indices, values, accumulate=False):
    """input with input[indices] = values (accumulate: += values, duplicates summed)."""
    if not isinstance(values, Tensor):
        values = Tensor(values).to(input.dtype)
    if values.dtype != input.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{input.dtype.title} for the destination and {values.dtype.title} "
                           f"for the source.")
    if accumulate:
        return IndexPutAccumulate.apply(input, _index_tuple(indices), values)
    out = input.clone()
    out[tuple(indices)] = values
    return out


def index_copy(input, dim, index, source):
    """input with the slices at `index` along dim replaced by source's."""
    from fastnn.ops.manipulation import _dim
    d = _dim(dim, max(input.ndim, 1))
    if index.ndim > 1:
        raise IndexError("index_copy_(): Index should have dimension 1 or 0 (got "
                         f"{index.ndim})")
    if source.ndim and index.numel() != source.shape[d]:
        raise IndexError(f"index_copy_(): Number of indices ({index.numel()}) should be equal "
                         f"to source.size(dim) ({source.shape[d]})")
    out = input.clone()
    out[(slice(None),) * d + (index.reshape(-1),)] = source
    return out


def masked_scatter(input, mask, source):
    """input with the positions where mask is True filled, in order, by source's elements."""
    if mask.dtype != dtypes.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with "
                           f"dtype {mask.dtype.name}")
    from fastnn.ops.compositions import broadcast_to
    full = broadcast_to(mask, tuple(input.shape))
    count = int(full._data.sum())
    if count > source.numel():
        raise RuntimeError("Number of elements of source < number of ones in mask")
    out = input.clone()
    out[full] = source.reshape(-1)[:count]
    return out
