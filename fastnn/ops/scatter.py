"""scatter and scatter_reduce, out of place and differentiable (the in-place scatter_ and
scatter_reduce_ are their results written back, recorded like any in-place op).

out[..., index[i][j], ...] = src[i][j] along dim (or a reduction of what lands there). The
gradients are torch's: self's gradient is the output's, zeroed where scatter overwrote it;
src's is the output's gradient gathered back through index. For amax/amin a position's gradient
is shared equally between the values that attain it; for prod it is the product of the others
(computed without dividing, so zeros are handled).
"""
import numpy as np

from fastnn.autograd.function import Function
from fastnn.ops.manipulation import _dim
from fastnn.tensor import Tensor

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _grid(index, dim):
    """The full coordinates of every index entry, with `index` along dim."""
    grid = list(np.indices(index.shape, sparse=True))
    grid[dim] = index
    return tuple(grid)


def _region(index):
    return tuple(slice(0, k) for k in index.shape)


class Scatter(Function):
    backward_name = "ScatterBackward0"

    @staticmethod
    def forward(ctx, x, dim, index, src):
        out = np.array(x, copy=True)
        values = src[_region(index)] if np.ndim(src) else np.broadcast_to(src, index.shape)
        out[_grid(index, dim)] = values
        ctx.meta = (dim, index, np.shape(src))
        return out

    @staticmethod
    def backward(ctx, g):
        dim, index, src_shape = ctx.meta
        grad_x = np.array(g, copy=True)
        grad_x[_grid(index, dim)] = 0
        grad_src = None
        if len(src_shape) and ctx.needs_input_grad[3]:
            grad_src = np.zeros(src_shape, g.dtype)
            grad_src[_region(index)] = g[_grid(index, dim)]
        return grad_x, None, None, grad_src


class ScatterReduce(Function):
    backward_name = "ScatterReduceBackward0"

    @staticmethod
    def forward(ctx, x, dim, index, src, reduce, include_self):
        grid = _grid(index, dim)
        values = src[_region(index)]
        out = np.array(x, copy=True)
        touched = np.zeros(x.shape, dtype=bool)
        touched[grid] = True
        if not include_self:  # the reduction's identity where something lands
            identity = {"sum": 0, "mean": 0, "prod": 1,
                        "amax": -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min,
                        "amin": np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).max}
            out[touched] = identity[reduce]
        if reduce in ("sum", "mean"):
            np.add.at(out, grid, values)
        elif reduce == "prod":
            np.multiply.at(out, grid, values)
        elif reduce == "amax":
            np.maximum.at(out, grid, values)
        else:
            np.minimum.at(out, grid, values)
        count = None
        if reduce == "mean":
            count = np.full(x.shape, 1 if include_self else 0, dtype=np.int64)
            np.add.at(count, grid, 1)
            count = np.maximum(count, 1)
            out = out / count if out.dtype.kind == "f" else out // count
            out = out.astype(x.dtype, copy=False)
        ctx.meta = (dim, index, reduce, include_self, touched, count, src.shape)
        ctx.save_for_backward(x, values, out)
        return out

    @staticmethod
    def backward(ctx, g):
        dim, index, reduce, include_self, touched, count, src_shape = ctx.meta
        x, values, out = ctx.saved_tensors
        grid = _grid(index, dim)
        if reduce == "sum":
            grad_x = g * (touched == 0) if not include_self else g
            grad_v = g[grid]
        elif reduce == "mean":
            grad_x = (g / count) * (1 if include_self else (touched == 0))
            grad_v = (g / count)[grid]
        elif reduce == "prod":
            grad_x, grad_v = _prod_grads(g, x, values, out, grid, touched, include_self)
        else:  # amax / amin: shared equally between the values equal to the result
            hits_x = (x == out) & (include_self | ~touched)
            hits_v = values == out[grid]
            ties = hits_x.astype(g.dtype)
            np.add.at(ties, grid, hits_v.astype(g.dtype))
            share = g / np.maximum(ties, 1)
            grad_x = share * hits_x
            grad_v = share[grid] * hits_v
        grad_src = None
        if ctx.needs_input_grad[3]:
            grad_src = np.zeros(src_shape, g.dtype)
            grad_src[_region(index)] = grad_v
        return np.asarray(grad_x, dtype=g.dtype), None, None, grad_src, None, None


def _prod_grads(g, x, values, out, grid, touched, include_self):
    """d prod / d each factor = the product of the other factors, without dividing by the
    factor (which fails at zero): zeros are counted, and the product of the nonzero factors
    kept, per output position."""
    nonzero_product = np.where(include_self | ~touched, np.where(x == 0, 1, x), 1).astype(g.dtype)
    zeros = np.where(include_self | ~touched, (x == 0).astype(np.int64), 0)
    np.multiply.at(nonzero_product, grid, np.where(values == 0, 1, values))
    np.add.at(zeros, grid, (values == 0).astype(np.int64))

    def others(factor, product, zero_count):
        # product of the other factors: with no zero, product / factor; with one zero, the
        # product of the nonzeros for the zero factor and 0 for the rest; with more, 0
        safe = np.where(factor == 0, 1, factor)
        return np.where(zero_count == 0, product / safe,
                        np.where((zero_count == 1) & (factor == 0), product, 0))
    grad_x = g * others(x, nonzero_product, zeros)
    if not include_self:
        grad_x = np.where(touched, 0, g)
    grad_v = g[grid] * others(values, nonzero_product[grid], zeros[grid])
    return grad_x, grad_v


def _checked(input, dim, index, src, name):
    d = _dim(dim, max(input.ndim, 1))
    if not isinstance(index, Tensor) or index.dtype.name not in ("int32", "int64"):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    idx = index._data.astype(np.int64, copy=False)
    if idx.ndim != max(input.ndim, 1) and idx.ndim != 0:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if idx.ndim == 0:
        idx = idx.reshape((1,) * max(input.ndim, 1))
    shape = input.shape if input.ndim else (1,)
    src_shape = src.shape if isinstance(src, Tensor) else None
    for k in range(idx.ndim):
        if (k != d and idx.shape[k] > shape[k]) or (src_shape is not None and
                                                    len(src_shape) == idx.ndim and
                                                    idx.shape[k] > src_shape[k]):
            raise RuntimeError(f"Expected index {list(idx.shape)} to be no larger than self "
                               f"{list(shape)} apart from dimension {d} and to be no larger "
                               f"size than src {list(src_shape or ())}")
    size = shape[d]
    if idx.size and (idx.min() < -size or idx.max() >= size):
        bad = int(idx.max() if idx.max() >= size else idx.min())
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {size}")
    if isinstance(src, Tensor) and src.dtype != input.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
    return d, np.where(idx < 0, idx + size, idx)


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """torch.scatter(input, dim, index, src) / (input, dim, index, value), with the older
    reduce="add" / "multiply" spelling of scatter_reduce."""
    if value is None and src is not None and not isinstance(src, Tensor):
        src, value = None, src  # scatter(dim, index, 1.0): a number is a value
    if src is None and value is None:
        raise TypeError("scatter() missing 1 required positional argument: 'src' or 'value'")
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError("reduce argument must be either add or multiply.")
        from fastnn.creation import full
        if src is None:
            src = full(tuple(index.shape), value, dtype=input.dtype)
        return scatter_reduce(input, dim, index, src, "sum" if reduce == "add" else "prod")
    d, idx = _checked(input, dim, index, src, "scatter")
    if src is None:
        return Scatter.apply(input, d, idx, np.asarray(value, dtype=input._data.dtype))
    return Scatter.apply(input, d, idx, src)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # torch takes both spellings
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    d, idx = _checked(input, dim, index, src, "scatter_reduce")
    return ScatterReduce.apply(input, d, idx, src, reduce, include_self)
