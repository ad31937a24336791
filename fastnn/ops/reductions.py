"""sum, mean, max, argmax over all elements or along dims (dim/axis, keepdim/keepdims)."""
import builtins
from fastnn import return_types

import numpy as np

from fastnn import backend
from fastnn.autograd.function import Function, presented, records_nothing
from fastnn.numpy_errors import restore, silence
from fastnn.sparse import ops as sparse_ops
from fastnn.sparse.coo import SparseCooTensor
from fastnn.tensor import Tensor
from fastnn.ops.complex_ops import refuse_order
from fastnn.ops.manipulation import _dim as _checked_dim

MaxResult = return_types.max
MinResult = return_types.min


def _axes(dim, axis, ndim):
    if dim is not None and axis is not None:
        raise TypeError("pass dim or axis, not both")
    d = axis if dim is None else dim
    if d is None:
        return None
    dims = (d,) if isinstance(d, int) else tuple(d)
    span = builtins.max(ndim, 1)  # a 0-d tensor accepts dim 0 and -1, as torch
    for x in dims:
        if not -span <= x < span:
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-span}, {span - 1}], but got {x})")
    return tuple(x % span for x in dims) if ndim else None


def _keep(keepdim, keepdims):
    return bool(keepdim if keepdims is None else keepdims)


def _expand_back(g, shape, axes, keepdim):
    """Broadcast a reduced gradient back to the input's shape."""
    if axes is not None and not keepdim:
        g = np.expand_dims(g, axes)
    return np.broadcast_to(g, shape)


# Full sums of float32 arrays from this size run on the backend's threaded kernel
# (kernels/reduce.c: 0.05 ms for a conv layer's 6.4 MB output at 2 threads, NumPy's pairwise
# sum 0.27-0.47 ms on one core; issue 12). Below it the call costs more than it saves.
_KERNEL_SUM_MIN = 1 << 14


def _kernel_sum(x, axes, keepdim):
    """The sum of all of x by backend.sum_all, shaped as np.sum's, or None where NumPy sums."""
    if axes is not None or x.dtype != np.float32 or x.size < _KERNEL_SUM_MIN \
            or not x.flags.c_contiguous:
        return None
    total = backend.sum_all(x)
    return np.full((1,) * x.ndim, total, np.float32) if keepdim else np.asarray(total)


def _summed(x, axes, keepdim):
    total = _kernel_sum(x, axes, keepdim)
    if total is not None:
        return total
    dtype = x.dtype if x.dtype.kind in "fVc" else np.int64  # bool/int sums are int64
    # the ufunc np.sum calls, without its Python dispatch (2.3 us against 1.0 on 100
    # elements: the per-call cost of issue 12)
    return np.asarray(np.add.reduce(x, axis=axes, dtype=dtype, keepdims=keepdim))


class Sum(Function):
    complex_grad = True

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.meta = (x.shape, axes, keepdim)
        return _summed(x, axes, keepdim)

    @staticmethod
    def backward(ctx, g):
        shape, axes, keepdim = ctx.meta
        return _expand_back(g, shape, axes, keepdim), None, None


class Mean(Function):
    complex_grad = True

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        if x.dtype.kind not in "fVc":
            from fastnn.dtypes import of_array
            raise RuntimeError("mean(): could not infer output dtype. Input dtype must be "
                               "either a floating point or complex dtype. Got: "
                               f"{of_array(x).title}")
        count = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
        ctx.meta = (x.shape, axes, keepdim, count)
        total = _kernel_sum(x, axes, keepdim)
        if total is not None:  # the sum over the count, rounded once to float32
            return (total.astype(np.float64) / count).astype(np.float32)
        # np.mean's own steps (a sum in the dtype, then one division rounded in it),
        # without its Python dispatch, as for Sum
        total = np.add.reduce(x, axis=axes, dtype=x.dtype, keepdims=keepdim)
        if isinstance(total, np.ndarray):
            return np.true_divide(total, count, out=total, casting="unsafe")
        return np.asarray(total.dtype.type(total / count))

    @staticmethod
    def backward(ctx, g):
        shape, axes, keepdim, count = ctx.meta
        return _expand_back(g / g.dtype.type(builtins.max(count, 1)), shape, axes, keepdim), None, None


class _Extreme(Function):
    """Full max/min: the gradient is shared evenly among tied extremes (as torch.max/amax)."""

    name = "max"

    @classmethod
    def reduce(cls, x):
        return x.max()

    @classmethod
    def forward(cls, ctx, x):
        if x.size == 0:
            raise RuntimeError(f"{cls.name}(): Expected reduction dim to be specified for "
                               "input.numel() == 0. Specify the reduction dim with the 'dim' "
                               "argument.")
        out = np.asarray(cls.reduce(x))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        mask = (x == out).astype(x.dtype)
        return g * mask / mask.sum()


class Max(_Extreme):
    backward_name = "MaxBackward1"

    pass


class Min(_Extreme):
    backward_name = "MinBackward1"

    name = "min"

    @classmethod
    def reduce(cls, x):
        return x.min()


class CumSum(Function):
    complex_grad = True  # moves or sums values: the backward holds for complex ones
    backward_name = "CumsumBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        return np.cumsum(x, axis=dim, dtype=x.dtype if x.dtype.kind in "fVc" else np.int64)

    @staticmethod
    def backward(ctx, g):
        # each input feeds every later partial sum: the gradient is a reversed cumsum
        d = ctx.dim
        return np.flip(np.cumsum(np.flip(g, d), axis=d), d), None


class Norm(Function):
    """p-norm of all elements (p=2: vector L2 / matrix Frobenius; p=1: sum of |x|)."""
    backward_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        ctx.save_for_backward(x)
        ctx.meta = (p, axes, keepdim)
        x64 = x.astype(np.float64)
        if p == 0:  # the count of nonzero entries (torch's "0-norm")
            out = (x64 != 0).sum(axis=axes, keepdims=keepdim).astype(np.float64)
        elif p == 1:
            out = np.abs(x64).sum(axis=axes, keepdims=keepdim)
        elif p == 2:
            out = np.sqrt((x64 * x64).sum(axis=axes, keepdims=keepdim))
        elif p == float("inf"):
            out = np.abs(x64).max(axis=axes, keepdims=keepdim)
        else:
            out = (np.abs(x64) ** p).sum(axis=axes, keepdims=keepdim) ** (1.0 / p)
        ctx.out = np.asarray(out, dtype=x.dtype)
        return ctx.out

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        p, axes, keepdim = ctx.meta
        out = ctx.out
        if axes is not None and not keepdim:
            g, out = np.expand_dims(g, axes), np.expand_dims(out, axes)
        if p == 0:  # a count: no slope anywhere
            grad = np.zeros(x.shape, np.result_type(g, x))
        elif p == 1:
            grad = g * np.sign(x)
        elif p == 2:  # (the backward pass runs with NumPy's warnings off)
            grad = np.where(out == 0, 0, g * x / out)  # torch's subgradient 0 at 0
        elif p == float("inf"):
            mask = (np.abs(x) == out).astype(x.dtype)
            grad = g * np.sign(x) * mask / mask.sum(axis=axes, keepdims=True)
        else:
            grad = np.where(out == 0, 0, g * np.sign(x) * np.abs(x) ** (p - 1) / out ** (p - 1))
        return grad.astype(x.dtype), None, None, None


class MaxAlongDim(Function):
    """max(dim): the gradient goes to the index returned, as torch."""
    backward_name = "MaxBackward0"
    tangent_rule = "reduction"  # forward AD: J v = sum over the axis of backward(1) * v

    @staticmethod
    def reduction_axes(ctx):
        return ctx.meta[1], ctx.meta[2]

    pick = staticmethod(np.argmax)  # (the first extreme, or the first NaN: torch's)

    @classmethod
    def forward(cls, ctx, x, dim, keepdim):
        indices = cls.pick(x, axis=dim)
        values = np.take_along_axis(x, np.expand_dims(indices, dim), axis=dim)
        ctx.meta = (x.shape, dim, keepdim)
        ctx.indices = indices
        return values if keepdim else np.squeeze(values, dim)

    @staticmethod
    def backward(ctx, g):
        shape, dim, keepdim = ctx.meta
        grad = np.zeros(shape, dtype=g.dtype)
        g = g if keepdim else np.expand_dims(g, dim)
        np.put_along_axis(grad, np.expand_dims(ctx.indices, dim), g, axis=dim)
        return grad, None, None


class MinAlongDim(MaxAlongDim):
    """min(dim) directly: as -max(-x) it wrapped around on unsigned integers and refused
    bool (min of uint8 [1, 0] was 1)."""
    backward_name = "MinBackward0"
    pick = staticmethod(np.argmin)


def sum(x, dim=None, keepdim=False, axis=None, keepdims=None, *, dtype=None):
    """dtype: the input is cast to it first, as torch's (int8 summed as float64...)."""
    if dim is None and axis is None and dtype is None and records_nothing(x):
        # x.sum() of a tensor no gradient flows through: Sum's forward without Function.apply
        # (3.5 us against torch's 1.5 on 100 elements, issue 12)
        token = silence()
        try:
            return Tensor._wrap(_summed(x._data, None, _keep(keepdim, keepdims)))
        finally:
            restore(token)
    if dtype is not None:
        x = x._cast(dtype)
    if x.__class__ is SparseCooTensor:
        return sparse_ops.sum(x, dim if axis is None else axis, keepdim or bool(keepdims))
    out = Sum.apply(x, _axes(dim, axis, x.ndim), _keep(keepdim, keepdims))
    if dtype is not None and x._data.dtype.kind in "iub":  # (an integer sum stays in dtype)
        out = out._cast(dtype)
    return out if dim is None and axis is None else presented(out, "SumBackward1")  # sum.dim_IntList


def mean(x, dim=None, keepdim=False, axis=None, keepdims=None, *, dtype=None):
    if dtype is not None:  # (cast first: torch.mean of an integer tensor with dtype=float64)
        x = x._cast(dtype)
        if x._data.dtype.kind not in "fVc":
            raise RuntimeError(f"mean(): could not infer output dtype. Optional dtype must be "
                               f"either a floating point or complex dtype. Got: {x.dtype.title}")
    out = Mean.apply(x, _axes(dim, axis, x.ndim), _keep(keepdim, keepdims))
    return out if dim is None and axis is None else presented(out, "MeanBackward1")


def _along_dim(op, x, dim, keepdim, result):
    """(values, indices) of max/min along dim: op is MaxAlongDim or MinAlongDim."""
    (d,) = _axes(dim, None, x.ndim) or (0,)
    values = op.apply(x, d, keepdim)
    indices = op.pick(x._data, axis=d)
    if keepdim:
        indices = np.expand_dims(indices, d)
    return result(values, Tensor._wrap(indices.astype(np.int64)))


def _ordered(x, name, dim=None):
    if dim is None:
        refuse_order(x._data, f"{name}_all")
    refuse_order(x._data, message=f"{name}(): does not support complex input")


def max(x, dim=None, keepdim=False):
    """max(x) -> scalar; max(x, dim) -> (values, indices); max(x, other_tensor) -> maximum."""
    if isinstance(dim, Tensor):
        from fastnn.ops.elementwise import maximum
        return maximum(x, dim)
    _ordered(x, "max", dim)
    return Max.apply(x) if dim is None else _along_dim(MaxAlongDim, x, dim, keepdim, MaxResult)


def min(x, dim=None, keepdim=False):
    """min(x) -> scalar; min(x, dim) -> (values, indices); min(x, other_tensor) -> minimum."""
    if isinstance(dim, Tensor):
        from fastnn.ops.elementwise import minimum
        return minimum(x, dim)
    _ordered(x, "min", dim)
    return Min.apply(x) if dim is None else _along_dim(MinAlongDim, x, dim, keepdim, MinResult)


def cumsum(x, dim=None, axis=None, *, dtype=None):
    d = axis if dim is None else dim
    if d is None:
        raise TypeError("cumsum() missing required argument 'dim'")
    if dtype is not None:  # torch casts the input first
        x = x.to(dtype)
    return CumSum.apply(x, _checked_dim(d, x.ndim))


def norm(x, p="fro", dim=None, keepdim=False):
    """Vector 2-norm by default, Frobenius for matrices (the same number), or p=1, inf, any p."""
    if p in ("fro", None):
        p = 2
    if p == "nuc":
        raise NotImplementedError("the nuclear norm is not supported")
    if x._data.dtype.kind == "c":  # the norm of the moduli, a real tensor (no autograd)
        x = Tensor._wrap(np.abs(x._data))
    if x._data.dtype.kind not in "fV":
        from fastnn import dtypes
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {dtypes.of_array(x._data).title}")
    axes = _axes(dim, None, x.ndim)
    return Norm.apply(x, float(p), axes, bool(keepdim))


def _no_bool(data, name):
    if data.dtype == np.bool_:
        raise RuntimeError(f"{name}(): does not support bool input")
    if data.dtype.kind == "c":  # complex numbers have no order
        raise RuntimeError(f"{name}(): does not support complex input")


def argmin(x, dim=None, keepdim=False):
    data = x._data if isinstance(x, Tensor) else np.asarray(x)
    _no_bool(data, "argmin")
    if dim is None:
        return Tensor._wrap(np.asarray(np.argmin(data), dtype=np.int64))
    return Tensor._wrap(np.argmin(data, axis=dim, keepdims=keepdim).astype(np.int64))


def _logical_reduction(np_fn, x, dim, keepdim):
    """torch.all / torch.any: bool results (uint8 for uint8 input, as torch's), no gradient."""
    data = x._data if isinstance(x, Tensor) else np.asarray(x)
    out = np.asarray(np_fn(data, axis=dim, keepdims=keepdim))
    return Tensor._wrap(out.astype(np.uint8 if data.dtype == np.uint8 else np.bool_))


def all(x, dim=None, keepdim=False):
    return _logical_reduction(np.all, x, dim, keepdim)


def any(x, dim=None, keepdim=False):
    return _logical_reduction(np.any, x, dim, keepdim)


def argmax(x, dim=None, keepdim=False):
    data = x._data if isinstance(x, Tensor) else np.asarray(x)
    _no_bool(data, "argmax")
    if dim is None:
        return Tensor._wrap(np.asarray(np.argmax(data), dtype=np.int64))
    out = np.argmax(data, axis=dim, keepdims=keepdim)
    return Tensor._wrap(out.astype(np.int64))
