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
