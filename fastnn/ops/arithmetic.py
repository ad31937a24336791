"""+ - * / // % neg pow with broadcasting and torch's type promotion; gradients are summed
back over broadcast dimensions."""
import numbers
import warnings

import numpy as np

from fastnn import dtypes
from fastnn.autograd.function import Function, records_nothing
from fastnn.numpy_errors import restore, silence
from fastnn.ops.broadcast import (cast_to, floating, operand, promote, trailing_shape,
                                  unbroadcast)
from fastnn.sparse import ops as sparse_ops
from fastnn.sparse.coo import SparseCooTensor
from fastnn.tensor import Tensor


class Add(Function):
    complex_grad = True

    @staticmethod
    def forward(ctx, a, b):
        if True in ctx.needs_input_grad:  # (only a backward reads them)
            ctx.shapes = (np.shape(a), np.shape(b))
        return np.asarray(np.add(a, b))

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g, ctx.shapes[0]) if need_a else None,
                unbroadcast(g, ctx.shapes[1]) if need_b else None)


class Sub(Function):
    complex_grad = True

    @staticmethod
    def forward(ctx, a, b):
        if True in ctx.needs_input_grad:  # (only a backward reads them)
            ctx.shapes = (np.shape(a), np.shape(b))
        return np.asarray(np.subtract(a, b))

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g, ctx.shapes[0]) if need_a else None,
                unbroadcast(-g, ctx.shapes[1]) if need_b else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        # torch's MulBackward0 saves `other` first, then `self` (the order saved-tensor hooks
        # see them in)
        ctx.save_for_backward(b if need_a else None, a if need_b else None)
        if True in ctx.needs_input_grad:  # (only a backward reads them)
            ctx.shapes = (np.shape(a), np.shape(b))
        return np.asarray(np.multiply(a, b))

    complex_grad = True

    @staticmethod
    def backward(ctx, g):
        b, a = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if g.dtype.kind == "c":  # d(a b) = b da: the gradient is g times conj(b)
            b, a = np.conj(b) if need_a else None, np.conj(a) if need_b else None
        return (unbroadcast(np.asarray(g * b, dtype=g.dtype), ctx.shapes[0]) if need_a else None,
                unbroadcast(np.asarray(g * a, dtype=g.dtype), ctx.shapes[1]) if need_b else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if True in ctx.needs_input_grad:  # (only a backward reads them)
            ctx.shapes = (np.shape(a), np.shape(b))
        # x/0 is inf or nan without a warning, as torch: Function.apply silences NumPy
        return np.asarray(np.true_divide(a, b))

    complex_grad = True

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if g.dtype.kind == "c":  # the conjugates of the holomorphic derivatives
            a, b = np.conj(a), np.conj(b)
        return (unbroadcast(np.asarray(g / b, dtype=g.dtype), ctx.shapes[0])
                if need_a else None,
                unbroadcast(np.asarray(-g * a / (b * b), dtype=g.dtype), ctx.shapes[1])
                if need_b else None)


class Neg(Function):
    tangent_rule = "diagonal"  # elementwise: forward AD takes J v = backward(v)
    complex_grad = True
    @staticmethod
    def forward(ctx, a):
        return np.negative(a)

    @staticmethod
    def backward(ctx, g):
        return -g


class Pow(Function):
    """x ** p for a number p (PowBackward0)."""

    @staticmethod
    def forward(ctx, a, exponent):
        ctx.save_for_backward(a)
        ctx.exponent = exponent
        if a.dtype.kind == "V":  # bfloat16 ** 2.5 stays bfloat16 (ml_dtypes would widen)
            return np.asarray(np.power(a.astype(np.float32), exponent)).astype(a.dtype)
        return np.asarray(np.power(a, exponent))

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 0:
            return np.zeros_like(g), None
        return np.asarray(g * (p * np.power(a, p - 1)), dtype=g.dtype), None


class PowTensor(Function):
    """a ** b with b a tensor (PowBackward1; the gradient in b is a^b log a)."""
    tangent_rule = "elementwise"  # elementwise with broadcasting: forward AD sums dy/da_i * v_i

    backward_name = "PowBackward1"

    @staticmethod
    def forward(ctx, a, b):
        out = _integer_power(a, b) if np.asarray(a).dtype.kind in "iu" and \
            np.asarray(b).dtype.kind in "iu" else np.asarray(np.power(a, b))
        ctx.save_for_backward(a, b, out)
        if True in ctx.needs_input_grad:  # (only a backward reads them)
            ctx.shapes = (np.shape(a), np.shape(b))
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        if need_a:
            ga = unbroadcast(np.asarray(g * b * np.power(a, b - 1), dtype=g.dtype),
                             ctx.shapes[0])
        if need_b:
            gb = unbroadcast(np.asarray(g * out * np.where(a > 0, np.log(np.where(a > 0, a, 1)),
                                                           0), dtype=g.dtype), ctx.shapes[1])
        return ga, gb


def _integer_power(a, b):
    """Integer a ** b elementwise as torch computes it: a negative exponent gives 1 for a
    base of 1, +-1 for -1 and 0 otherwise (NumPy refuses negative integer powers)."""
    a, b = np.broadcast_arrays(np.asarray(a), np.asarray(b))
    negative = b < 0
    out = np.power(a, np.where(negative, 0, b))
    if negative.any():
        odd = (b % 2) != 0
        small = np.where(a == 1, 1, np.where(a == -1, np.where(odd, -1, 1), 0))
        out = np.where(negative, small, out).astype(out.dtype)  # (np.where's int64 otherwise)
    return np.asarray(out)


class Remainder(Function):
    tangent_rule = "elementwise"  # elementwise with broadcasting: forward AD sums dy/da_i * v_i
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if True in ctx.needs_input_grad:  # (only a backward reads them)
            ctx.shapes = (np.shape(a), np.shape(b))
        out = np.asarray(np.mod(a, b))
        if out.dtype.kind in "fV":
            # torch's remainder: fmod, then + b where the signs differ, so a zero keeps the
            # dividend's sign (-1 % 1 is -0.0, 1 % -1 is 0.0); NumPy's takes the divisor's
            m = np.asarray(np.fmod(a, b))
            out = np.where((m != 0) & ((m < 0) != (np.asarray(b) < 0)), m + b, m)
            out = np.asarray(out, dtype=m.dtype)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g, ctx.shapes[0]) if need_a else None,
                unbroadcast(np.asarray(-g * np.floor_divide(a, b), dtype=g.dtype), ctx.shapes[1])
                if need_b else None)


def legacy_alpha(name, other, alpha):
    """torch's deprecated overload name(Number alpha, Tensor other) (older optimizers write
    p.data.add_(-lr, d_p)): returns (other, alpha) in the current order, with torch's warning."""
    if isinstance(alpha, Tensor) and isinstance(other, numbers.Number) and \
            not isinstance(other, bool):
        warnings.warn(f"This overload of {name} is deprecated:\n\t{name}(Number alpha, Tensor "
                      f"other)\nConsider using one of the following signatures instead:\n\t"
                      f"{name}(Tensor other, *, Number alpha = 1)", UserWarning, stacklevel=3)
        return alpha, other
    return other, alpha


def legacy_value(name, tensor1, tensor2, value):
    """The deprecated name(Number value, Tensor tensor1, Tensor tensor2) of addcmul/addcdiv."""
    if isinstance(tensor1, numbers.Number) and isinstance(value, Tensor):
        warnings.warn(f"This overload of {name} is deprecated:\n\t{name}(Number value, Tensor "
                      f"tensor1, Tensor tensor2)\nConsider using one of the following "
                      f"signatures instead:\n\t{name}(Tensor tensor1, Tensor tensor2, *, "
                      f"Number value = 1)", UserWarning, stacklevel=3)
        return tensor2, value, tensor1
    return tensor1, tensor2, value


_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


def _direct(ufunc, a, b):
    """ufunc(a, b) as a new tensor without Function.apply, or None for the general path.
    Taken only where that path would call this very ufunc on these very operands and record
    nothing (records_nothing): a float32 or float64 tensor with a tensor of its dtype whose
    shape is its own or a trailing part of it (either way round: a bias), or with a Python
    float or int (both paths leave the number as it is), so the bits are the same. Saves about
    half of a small op's time (issue 12, per-call overhead)."""
    if a.__class__ is not Tensor:
        return None
    x = a._data
    dtype = x.dtype
    if dtype is not _F32 and dtype is not _F64:
        return None
    kind = b.__class__
    if kind is Tensor:
        y = b._data
        if y.dtype is not dtype or trailing_shape(x.shape, y.shape) is None or \
                not records_nothing(a, b):
            return None
    elif (kind is float or kind is int) and records_nothing(a):
        y = b
    else:
        return None
    token = silence()  # inf and nan without NumPy's warnings, as Function.apply
    try:
        return Tensor._wrap(np.asarray(ufunc(x, y)))  # (as the Functions' forwards)
    finally:
        restore(token)


def _scaled(value, alpha):
    if alpha == 1:
        return value
    return mul(value, alpha)


def add(a, b, alpha=1, out=None):
    if alpha.__class__ is int and alpha == 1 and out is None:
        result = _direct(np.add, a, b)
        if result is not None:
            return result
    if alpha.__class__ is not int and isinstance(alpha, Tensor):  # torch.add(x, 3, y)
        b, alpha = legacy_alpha("add", b, alpha)
    if a.__class__ is SparseCooTensor or b.__class__ is SparseCooTensor:
        return _out(sparse_ops.add(a, b, alpha), out)
    a, b = promote(operand(a), _scaled(operand(b), alpha))
    return _out(Add.apply(a, b), out)


class Rsub(Function):
    """number - x, as torch records it (RsubBackward1, one edge: the tensor's)."""
    complex_grad = True  # moves or sums values: the backward holds for complex ones

    backward_name = "RsubBackward1"

    @staticmethod
    def forward(ctx, x, number):
        return np.asarray(np.subtract(number, x))

    @staticmethod
    def backward(ctx, g):
        return (-g,)


class RpowNumber(Function):
    """number ** x (PowBackward2, one edge): the gradient is out * log(number)."""

    backward_name = "PowBackward2"

    @staticmethod
    def forward(ctx, x, number):
        base = np.asarray(number, dtype=x.dtype)
        out = _integer_power(base, x) if x.dtype.kind in "iu" else np.asarray(np.power(base, x))
        ctx.save_for_backward(out)
        ctx.number = number
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        if ctx.number == 0:  # torch: 0 ** x has a zero gradient
            return (np.zeros_like(g),)
        return (np.asarray(g * out * np.log(ctx.number), dtype=g.dtype),)


def _number_operand(x, number):
    """x and a Python number in torch's result dtype; the number goes to the op as a keyword,
    so the node has the tensor's edge alone (torch's RsubBackward1 / PowBackward2)."""
    x, number = promote(x, number)
    return x, number


def rsub_number(x, number):
    """x.__rsub__(number) for a Python int or float."""
    if x._data.dtype == np.bool_:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    x, number = _number_operand(x, number)
    return Rsub.apply(x, number=number)


def rpow_number(x, number):
    """x.__rpow__(number) for a Python int or float: number ** x."""
    if x._data.dtype.kind in "iub" and isinstance(number, float):
        x = floating(x)
    x, number = _number_operand(x, number)
    return RpowNumber.apply(x, number=number)


def sub(a, b, alpha=1, out=None):
    if alpha.__class__ is int and alpha == 1 and out is None:
        result = _direct(np.subtract, a, b)
        if result is not None:
            return result
    if alpha.__class__ is not int and isinstance(alpha, Tensor):
        b, alpha = legacy_alpha("sub", b, alpha)
    if a.__class__ is SparseCooTensor or b.__class__ is SparseCooTensor:
        return _out(sparse_ops.sub(a, b, alpha), out)
    a, b = operand(a), operand(b)
    bools = [type(x) is bool or (isinstance(x, Tensor) and x._data.dtype == np.bool_)
             for x in (a, b)]
    if all(bools):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if any(bools):  # (torch refuses a bool with anything else too)
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    a, b = promote(a, _scaled(b, alpha))
    return _out(Sub.apply(a, b), out)


def mul(a, b, out=None):
    if out is None:
        result = _direct(np.multiply, a, b)
        if result is not None:
            return result
    if a.__class__ is SparseCooTensor or b.__class__ is SparseCooTensor:
        return _out(sparse_ops.mul(a, b), out)
    a, b = promote(operand(a), operand(b))
    return _out(Mul.apply(a, b), out)


def div(a, b, rounding_mode=None, out=None):
    if rounding_mode is None and out is None:
        result = _direct(np.true_divide, a, b)
        if result is not None:
            return result
    if a.__class__ is SparseCooTensor or b.__class__ is SparseCooTensor:
        return _out(sparse_ops.div(a, b), out)
    a, b = operand(a), operand(b)
    if rounding_mode is None:  # int / int is float, as torch: a number divides unwrapped
        target = dtypes.float_of(dtypes.result_type(a, b))
        return _out(Div.apply(*promote(cast_to(a, target), cast_to(b, target))), out)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError("div expected rounding_mode to be one of None, 'trunc', or "
                         f"'floor' but found '{rounding_mode}'")
    a, b = promote(a, b)
    _no_bool_kernel(a, b, f"div_{rounding_mode}")
    x, y = (v._data if isinstance(v, Tensor) else v for v in (a, b))
    _no_integer_zero_divisor(x, y)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.floor_divide(x, y) if rounding_mode == "floor" else np.trunc(np.true_divide(
            x, y))
    dtype = dtypes.result_type(a, b)
    return _out(Tensor._wrap(np.asarray(q).astype(dtype.numpy, copy=False)), out)


def floor_divide(a, b):
    return div(a, b, rounding_mode="floor")


def _no_integer_zero_divisor(x, y):
    """torch's error for an integer division or remainder by zero (NumPy gives 0 and a
    warning): C++'s division by zero is undefined, so torch checks and raises."""
    y = np.asarray(y)
    if y.dtype.kind in "iub" and np.asarray(x).dtype.kind in "iub" and not np.all(y):
        raise RuntimeError("ZeroDivisionError")


def _no_bool_kernel(a, b, kernel):
    """torch has no bool kernel for floor division or remainder."""
    if dtypes.result_type(a, b).numpy == np.bool_:
        raise NotImplementedError(f'"{kernel}_cpu" not implemented for \'Bool\'')


def remainder(a, b):
    a, b = promote(operand(a), operand(b))
    _no_bool_kernel(a, b, "remainder")
    _no_integer_zero_divisor(*(v._data if isinstance(v, Tensor) else v for v in (a, b)))
    return Remainder.apply(a, b)


def neg(a):
    if a._data.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return Neg.apply(a)


def pow(a, exponent, out=None):
    a = operand(a)
    exponent = operand(exponent)
    if isinstance(exponent, Tensor) or not isinstance(a, Tensor):
        a, exponent = promote(a, exponent)
        if dtypes.result_type(a, exponent).numpy == np.bool_:
            raise NotImplementedError('"pow" not implemented for \'Bool\'')
        if not isinstance(a, Tensor):
            a = Tensor._wrap(np.asarray(a, dtype=exponent._data.dtype))
        return _out(PowTensor.apply(a, exponent), out)
    if isinstance(exponent, float) and a._data.dtype.kind in "iub":
        a = floating(a)  # int tensor ** 2.0 is float, as torch
    if a._data.dtype.kind in "iub" and isinstance(exponent, int) and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if a._data.dtype == np.bool_:  # bool ** True stays bool, bool ** 2 is int64 (torch)
        if type(exponent) is bool:
            return _out(Tensor._wrap(a._data.copy() if exponent else np.ones_like(a._data)),
                        out)
        a = a._cast(dtypes.int64)
    return _out(Pow.apply(a, exponent), out)


def _out(result, out):
    """Write into `out=` as torch's functions do (resizing it to the result's shape)."""
    if out is None:
        return result
    if out.requires_grad and out._node is None:
        from fastnn.autograd import grad_mode
        if grad_mode.is_grad_enabled() and result.requires_grad:
            raise RuntimeError("add(): functions with out=... arguments don't support automatic "
                               "differentiation, but one of the arguments requires grad.")
    if out._data.shape != result._data.shape:
        out._data = np.empty(result._data.shape, dtype=out._data.dtype)
    np.copyto(out._data, result._data, casting="same_kind")
    out._version[0] += 1
    return out
