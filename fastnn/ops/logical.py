"""Comparisons (eq ne lt le gt ge: bool results, outside the graph), bitwise and/or/xor/not
on bool and integer tensors, and masked_fill, with torch's type promotion."""
import numpy as np

from fastnn import dtypes, scalar_range
from fastnn.autograd.function import Function
from fastnn.ops.broadcast import operand, promote, unbroadcast
from fastnn.ops.complex_ops import refuse_order
from fastnn.tensor import Tensor

_COMPARE = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
            "gt": np.greater, "ge": np.greater_equal}
_BITWISE = {"and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor,
            "left_shift": np.left_shift, "right_shift": np.right_shift}


def _raw(value):
    return value._data if isinstance(value, Tensor) else value


def compare(op, a, b):
    if b is None and op in ("eq", "ne"):
        return op == "ne"  # tensor == None is False, as torch's
    a, b = promote(operand(a), operand(b))
    if op not in ("eq", "ne"):
        refuse_order(_raw(a), f"{op}_cpu")
    return Tensor._wrap(np.asarray(_COMPARE[op](_raw(a), _raw(b))))


# torch's kernel names, for its "not implemented for" errors
_KERNELS = {"and": "bitwise_and", "or": "bitwise_or", "xor": "bitwise_xor",
            "left_shift": "lshift", "right_shift": "rshift"}


def bitwise(op, a, b):
    a, b = promote(operand(a), operand(b))
    result = dtypes.result_type(a, b)
    if result.numpy.kind in "fVc" or (op.endswith("shift") and result.numpy.kind == "b"):
        raise NotImplementedError(f'"{_KERNELS[op]}_cpu" not implemented for '
                                  f"'{result.title}'")
    x, y = _raw(a), _raw(b)  # (numbers stay Python numbers: uint8 & 2 stays uint8)
    if op.endswith("shift"):  # a bool shifts as 0/1 in the result's integer dtype
        x, y = (np.asarray(v, result.numpy) if np.asarray(v).dtype == np.bool_ else v
                for v in (x, y))
    return Tensor._wrap(np.asarray(_BITWISE[op](x, y)))


def invert(a):
    if a._data.dtype.kind in "fVc":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return Tensor._wrap(np.invert(a._data))


class MaskedFill(Function):
    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.mask = mask
        ctx.shape = np.shape(value)
        out = np.array(np.broadcast_to(x, np.broadcast_shapes(x.shape, mask.shape)), copy=True)
        np.copyto(out, np.asarray(value, dtype=out.dtype), where=mask)
        return out

    @staticmethod
    def backward(ctx, g):
        need_x, _, need_v = ctx.needs_input_grad
        gx = np.where(ctx.mask, 0, g).astype(g.dtype) if need_x else None
        gv = unbroadcast(np.where(ctx.mask, g, 0).astype(g.dtype).sum(), ctx.shape) \
            if need_v else None
        return gx, None, gv


def masked_fill(x, mask, value):
    mask = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if mask.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with "
                           f"dtype {dtypes.of_array(mask)!r}")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    value = scalar_range.written(value, x._data.dtype)
    return MaskedFill.apply(x, mask, value)
