"""reshape/view, flatten, transpose/permute, indexing, clone: data movement only; the
backward of each moves the gradient back the same way."""
import functools
import math

import numpy as np

from fastnn import dtypes
from fastnn.autograd.function import Function, _mark_view, records_nothing
from fastnn.ops.broadcast import unbroadcast
from fastnn.tensor import Tensor
from fastnn.ops.manipulation import _dim as _checked_dim


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


class Reshape(Function):
    backward_name = "ViewBackward0"
    is_view = True
    complex_grad = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {x.size}") \
                from None

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None

    @staticmethod
    def view_fn(shape):
        return lambda a: a.reshape(shape)


class Unsqueeze(Reshape):
    backward_name = "UnsqueezeBackward0"


class Squeeze(Reshape):
    backward_name = "SqueezeBackward0"  # squeeze(); squeeze(dim) and squeeze(dims) below


class SqueezeDim(Squeeze):
    backward_name = "SqueezeBackward1"


class SqueezeDims(Squeeze):
    backward_name = "SqueezeBackward2"


class Permute(Function):
    is_view = True
    complex_grad = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, g):
        return np.transpose(g, np.argsort(ctx.dims)), None

    @staticmethod
    def view_fn(dims):
        return lambda a: np.transpose(a, dims)


class Transpose(Permute):
    backward_name = "TransposeBackward0"


class T(Permute):
    backward_name = "TBackward0"


class Expand(Function):
    is_view = True
    complex_grad = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return unbroadcast(g, ctx.in_shape), None

    @staticmethod
    def view_fn(shape):
        return lambda a: np.broadcast_to(a, shape)


class GetItem(Function):
    """x[index] with advanced indexing (a copy, torch's IndexBackward0)."""

    backward_name = "IndexBackward0"
    is_view = True
    complex_grad = True

    @staticmethod
    def forward(ctx, x, index):
        ctx.meta = (x.shape, index)
        return np.asarray(x[index])

    @staticmethod
    def backward(ctx, g):
        shape, index = ctx.meta
        grad = np.zeros(shape, dtype=g.dtype)
        np.add.at(grad, index, g)  # repeated integer indices each add their share
        return grad, None

    @staticmethod
    def view_fn(index):
        return lambda a: a[index]


class Select(GetItem):
    """x[i] / x[1:3] / x[:, None]: basic indexing gives a view, as torch's."""

    backward_name = "SelectBackward0"

    @staticmethod
    def forward(ctx, x, index):
        if True in ctx.needs_input_grad:  # the name of a node, when there will be one
            ctx.backward_name = _basic_view_name(x.shape, index)
        ctx.meta = (x.shape, index)
        return np.asarray(x[index])

    @staticmethod
    def backward(ctx, g):
        shape, index = ctx.meta
        grad = np.zeros(shape, dtype=g.dtype)
        grad[index] = g
        return grad, None


class Slice(Select):
    backward_name = "SliceBackward0"


def _basic_view_name(shape, items):
    """torch's grad_fn name for x[items] (ints, slices, None, one Ellipsis). torch applies the
    items left to right and the view's grad_fn is its last step: a select (an int), an
    unsqueeze (None) or a slice. A slice over a whole dimension with step 1 is no step (torch
    skips it), and with no step at all the view is an alias: x[:, 0] is SelectBackward0,
    x[0, 1:3] SliceBackward0, x[0, :] SelectBackward0, x[:] AliasBackward0 (torch 2.13)."""
    name = "AliasBackward0"
    after = 0
    for k, i in enumerate(items):
        if i is Ellipsis:
            after = sum(1 for j in items[k + 1:] if j is not None)
    dim = 0
    for i in items:
        if i is Ellipsis:
            dim = len(shape) - after
        elif i is None:
            name = "UnsqueezeBackward0"
        elif i.__class__ is slice:
            if i.indices(shape[dim]) != (0, shape[dim], 1):
                name = "SliceBackward0"
            dim += 1
        else:
            name = "SelectBackward0"
            dim += 1
    return name


class Clone(Function):
    complex_grad = True

    @staticmethod
    def forward(ctx, x, memory_format=None):
        from fastnn import memory_formats
        return memory_formats.laid_out(x, memory_format or memory_formats.preserve_format)

    @staticmethod
    def backward(ctx, g):
        return g, None


def reshape(x, *shape):
    return Reshape.apply(x, _resolve(x, _shape_arg(shape)))


def view(x, *shape):
    """reshape that must not copy: torch's error where the strides do not allow a view."""
    shape = _resolve(x, _shape_arg(shape))
    probe = x._data.view()
    try:
        probe.shape = shape
    except AttributeError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.") from None
    except ValueError:
        pass  # the size error is reshape's
    return Reshape.apply(x, shape)


def _resolve(x, shape):
    """Shape with -1 worked out, and torch's errors for bad sizes."""
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    size = x._data.size
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
        if known == 0 and size == 0:
            raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} "
                               "because the unspecified dimension size -1 can be any value "
                               "and is ambiguous")
        if known == 0 or size % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {size}")
        shape = tuple(size // known if s == -1 else s for s in shape)
    for s in shape:
        if s < 0:
            raise RuntimeError(f"invalid shape dimension {s}")
    return shape


def flatten(x, start_dim=0, end_dim=-1):
    ndim = x.ndim
    if ndim == 0:
        return reshape(x, 1)
    start, end = _checked_dim(start_dim, ndim), _checked_dim(end_dim, ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    dims = x.shape
    if end == start:  # nothing to merge (a (N, 784) batch through nn.Flatten)
        return x
    shape = dims[:start] + (math.prod(dims[start:end + 1]),) + dims[end + 1:]
    if shape == dims:
        return x
    return reshape(x, shape)


def permute(x, dims):
    ndim = x.ndim
    if len(dims) != ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {ndim} is not equal to len(dims) = {len(dims)}")
    order = tuple(_checked_dim(d, ndim) for d in dims)
    if len(set(order)) != len(order):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(x, order)


def transpose(x, dim0, dim1):
    ndim = x.ndim
    dims = list(range(ndim))
    span = max(ndim, 1)
    for d in (dim0, dim1):
        if not -span <= d < span:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-span}, "
                             f"{span - 1}], but got {d})")
    if ndim == 0:
        return x
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return Transpose.apply(x, tuple(dims))


def expand(x, *sizes):
    if not sizes:
        raise TypeError('expand() missing 1 required positional arguments: "size"')
    sizes = _shape_arg(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(f"expand({x.type().replace('fastnn.', 'torch.')}{{{list(x.shape)}}}, size={list(sizes)}): the "
                           f"number of sizes provided ({len(sizes)}) must be greater or equal "
                           f"to the number of dimensions in the tensor ({x.ndim})")
    lead = len(sizes) - x.ndim
    shape = []
    for i, s in enumerate(sizes):
        s = int(s)
        if s == -1:
            if i < lead:
                raise RuntimeError("The expanded size of the tensor (-1) isn't allowed in a "
                                   "leading, non-existing dimension 0")
            s = x.shape[i - lead]
        elif i >= lead and x.shape[i - lead] not in (1, s):
            raise expand_error(sizes, x.shape, i)
        shape.append(s)
    return Expand.apply(x, tuple(shape))


def _check_step(item):
    """torch's refusals of a slice NumPy would take: a zero step (Python's words), and a
    negative one (torch has no reversed views; NumPy would silently reverse)."""
    step = item.step
    if step is not None:
        if step == 0:
            raise ValueError("slice step cannot be zero")
        if step < 0:
            raise ValueError("step must be greater than zero")


def expand_error(sizes, shape, i):
    """torch's error for a tensor of `shape` expanded to `sizes`, clashing at dimension i."""
    lead = len(sizes) - len(shape)
    return RuntimeError(f"The expanded size of the tensor ({sizes[i]}) must match the existing "
                        f"size ({shape[i - lead]}) at non-singleton dimension {i}.  "
                        f"Target sizes: {list(sizes)}.  Tensor sizes: {list(shape)}")


def broadcast_into_error(target, shape):
    """torch's error for writing a value of `shape` into a region of shape `target`
    (x[i] = value): the first dimension from the right that neither matches nor is 1."""
    target, shape = tuple(target), tuple(shape)
    lead = len(target) - len(shape)
    for i in range(len(target) - 1, max(lead, 0) - 1, -1):
        if shape[i - lead] not in (1, target[i]):
            return expand_error(target, shape, i)
    return RuntimeError(f"shape mismatch: value tensor of shape {list(shape)} cannot be "
                        f"broadcast to indexing result of shape {list(target)}")


def _index(index):
    """Tensors inside an index become arrays (torch lets you index with tensors)."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, slice):
        _check_step(index)
    if isinstance(index, tuple):
        for i in index:
            if i.__class__ is slice:
                _check_step(i)
        return tuple(_index(i) if isinstance(i, (Tensor, list)) else i for i in index)
    if isinstance(index, list):
        return np.asarray([i._data if isinstance(i, Tensor) else i for i in index]) \
            if not any(isinstance(i, (list, tuple, slice)) for i in index) else \
            tuple(_index(i) for i in index)
    return index


def _basic(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis
               for i in items) and not any(isinstance(i, bool) for i in items)


def _check_basic_bounds(x, items):
    """torch's IndexError for an integer past its dimension; the integers after an Ellipsis
    count from the last dimension."""
    ellipsis = next((k for k, j in enumerate(items) if j is Ellipsis), len(items))
    before = [j for j in items[:ellipsis] if j is not None]
    after = [j for j in items[ellipsis + 1:] if j is not None]
    used = [j for j in before + after if j is not None and not isinstance(j, (bool, np.bool_))]
    if len(used) > x.ndim:  # torch's messages, not NumPy's
        raise IndexError(f"too many indices for tensor of dimension {x.ndim}")
    axes = list(enumerate(before)) + [(x.ndim - len(after) + k, j) for k, j in enumerate(after)]
    for axis, i in axes:
        if isinstance(i, (int, np.integer)) and 0 <= axis < x.ndim:
            n = x.shape[axis]
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for dimension {axis} with "
                                 f"size {n}")


def _select_or_slice(shape, index):
    """Select or Slice for a tuple of Python ints and slices (bounds checked with torch's
    words), None for any other index. d2l's element-by-element product indexes B[i, :] and
    C[:, j] 65536 times; the general path's checks were 5 of its 7 us."""
    view = Slice
    for axis, i in enumerate(index):
        kind = i.__class__
        if kind is int:
            n = shape[axis]
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for dimension {axis} with size {n}")
            view = Select
        elif kind is slice:
            if i.step is not None:
                _check_step(i)
        else:
            return None
    return view


def _basic_view(view, x, index):
    """view.apply(x, index) for a basic-indexing view (Select or Slice, index ending in
    Ellipsis). Where that would record nothing (records_nothing) the same view, marked as
    apply marks it, without apply's bookkeeping: x[5] took 2.5 us against torch's 0.9
    (issue 12, per-call overhead)."""
    if not records_nothing(x):
        return view.apply(x, index)
    data = x._data
    out = np.asarray(data[index])  # (as Select.forward)
    t = Tensor._wrap(out)
    # apply's test, out.base and np.may_share_memory(out, data): a basic index is always a view
    # into data's buffer, which an element of it overlaps (the call was a fifth of x[5]'s time)
    if out.base is not None and out.size:
        _mark_view(t, x, view.view_fn(index))
    return t


def getitem(x, index):
    kind = index.__class__
    if kind is int or kind is slice:  # x[i], x[a:b]: the common cases, checked directly
        if x._data.ndim == 0:
            raise IndexError("slice() cannot be applied to a 0-dim tensor." if kind is slice
                             else "invalid index of a 0-dim tensor. Use `tensor.item()` in "
                             "Python or `tensor.item<T>()` in C++ to convert a 0-dim tensor to "
                             "a number")
        if kind is slice:
            if index.step is not None:
                _check_step(index)
            return _basic_view(Slice, x, (index, Ellipsis))
        size = x._data.shape[0]
        if not -size <= index < size:
            raise IndexError(f"index {index} is out of bounds for dimension 0 with size {size}")
        return _basic_view(Select, x, (index, Ellipsis))
    if kind is tuple and len(index) <= x._data.ndim:  # x[i, :], x[:, j], x[i, j]
        view = _select_or_slice(x._data.shape, index)
        if view is not None:
            return _basic_view(view, x, index + (Ellipsis,))
    if x._data.ndim == 0 and isinstance(index, np.integer):
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                         "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
    index = _index(index)
    if _basic(index):
        items = index if isinstance(index, tuple) else (index,)
        _check_basic_bounds(x, items)
        if Ellipsis not in items:  # x[0] on NumPy gives a scalar copy; with ... a 0-d view
            items = items + (Ellipsis,)
        kind = Select if any(isinstance(i, (int, np.integer)) for i in items) else Slice
        return kind.apply(x, items)
    _check_index_arrays(index)
    try:
        return GetItem.apply(x, index)
    except IndexError as exc:
        if "too many indices" in str(exc):  # NumPy's words for it
            raise IndexError(f"too many indices for tensor of dimension {x.ndim}") from None
        if "out of bounds for axis" in str(exc):  # torch says dimension
            raise IndexError(str(exc).replace("for axis", "for dimension")) from None
        raise


def _check_index_arrays(index):
    """torch's error for an index tensor of floats (NumPy's is about arrays)."""
    for item in index if isinstance(index, tuple) else (index,):
        if isinstance(item, np.ndarray) and item.dtype.kind not in "iub":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")


class Concatenate(Function):
    backward_name = "CatBackward0"
    complex_grad = True

    @staticmethod
    def forward(ctx, dim, *arrays):
        ctx.dim = dim
        ctx.sizes = [a.shape[dim] for a in arrays]
        return np.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g):
        splits = np.cumsum(ctx.sizes)[:-1]
        return (None,) + tuple(np.split(g, splits, axis=ctx.dim))


def cat(tensors, dim=0):
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    ndim = tensors[0].ndim
    for t in tensors:
        if t.ndim != ndim:
            raise RuntimeError("Tensors must have same number of dimensions: got "
                               f"{ndim} and {t.ndim}")
    d = _checked_dim(dim, ndim)
    for number, t in enumerate(tensors):
        for axis in range(ndim):
            if axis != d and t.shape[axis] != tensors[0].shape[axis]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{tensors[0].shape[axis]} but got size {t.shape[axis]} for tensor number "
                    f"{number} in the list.")
    # torch promotes the list (float32 with int64 is float32; NumPy's concatenate: float64)
    target = functools.reduce(dtypes.promote_types, [dtypes.of_array(t._data) for t in tensors])
    tensors = [t if t._data.dtype == target.numpy else t._cast(target) for t in tensors]
    return Concatenate.apply(d, *tensors)


def stack(tensors, dim=0):
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(shape)} at entry 0 and {list(t.shape)} at entry {i}")
    d = _checked_dim(dim, len(shape) + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)


def squeeze(x, dim=None):
    if dim is None:
        return Squeeze.apply(x, tuple(s for s in x.shape if s != 1))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    span = builtins_max(x.ndim, 1)
    for d in dims:
        if not -span <= d < span:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-span}, "
                             f"{span - 1}], but got {d})")
    drop = {d % span for d in dims if x.ndim and x.shape[d % span] == 1}
    op = SqueezeDim if isinstance(dim, int) else SqueezeDims
    return op.apply(x, tuple(s for i, s in enumerate(x.shape) if i not in drop))


def unsqueeze(x, dim):
    span = x.ndim + 1
    if not -span <= dim < span:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-span}, "
                         f"{span - 1}], but got {dim})")
    d = dim % span
    return Unsqueeze.apply(x, x.shape[:d] + (1,) + x.shape[d:])


def builtins_max(a, b):
    return a if a > b else b
