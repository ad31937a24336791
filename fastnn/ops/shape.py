"""reshape/view, flatten, transpose/permute, indexing, clone: data movement only; the
backward of each moves the gradient back the same way."""
import numpy as np

from fastnn.autograd.function import Function
from fastnn.tensor import Tensor


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


class Reshape(Function):
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


class Permute(Function):
    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, g):
        return np.transpose(g, np.argsort(ctx.dims)), None


class GetItem(Function):
    @staticmethod
    def forward(ctx, x, index):
        ctx.meta = (x.shape, x.dtype, index)
        return np.asarray(x[index])

    @staticmethod
    def backward(ctx, g):
        shape, dtype, index = ctx.meta
        grad = np.zeros(shape, dtype=dtype)
        np.add.at(grad, index, g)  # repeated integer indices each add their share
        return grad, None


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return np.array(x, copy=True, order="C")

    @staticmethod
    def backward(ctx, g):
        return g


def reshape(x, *shape):
    return Reshape.apply(x, _shape_arg(shape))


def flatten(x, start_dim=0, end_dim=-1):
    ndim = x.ndim
    if ndim == 0:
        return reshape(x, 1)
    start, end = start_dim % ndim, end_dim % ndim
    shape = x.shape[:start] + (-1,) + x.shape[end + 1:]
    if x.data.size == 0:
        shape = x.shape[:start] + (int(np.prod(x.shape[start:end + 1])),) + x.shape[end + 1:]
    return reshape(x, shape)


def permute(x, dims):
    return Permute.apply(x, tuple(d % max(x.ndim, 1) for d in dims))


def transpose(x, dim0, dim1):
    ndim = x.ndim
    dims = list(range(ndim))
    for d in (dim0, dim1):
        if not -ndim <= d < ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, "
                             f"{ndim - 1}], but got {d})")
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return Permute.apply(x, tuple(dims))


def _index(index):
    """Tensors inside an index become arrays (torch lets you index with tensors)."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def getitem(x, index):
    return GetItem.apply(x, _index(index))


class Concatenate(Function):
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
    d = dim % ndim
    for number, t in enumerate(tensors):
        for axis in range(ndim):
            if axis != d and t.shape[axis] != tensors[0].shape[axis]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{tensors[0].shape[axis]} but got size {t.shape[axis]} for tensor number "
                    f"{number} in the list.")
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
    d = dim % (len(shape) + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)


def squeeze(x, dim=None):
    if dim is None:
        return reshape(x, tuple(s for s in x.shape if s != 1))
    d = dim % builtins_max(x.ndim, 1)
    if x.ndim == 0 or x.shape[d] != 1:
        return x
    return reshape(x, x.shape[:d] + x.shape[d + 1:])


def unsqueeze(x, dim):
    d = dim % (x.ndim + 1)
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def builtins_max(a, b):
    return a if a > b else b
