"""+ - * / neg pow with NumPy broadcasting; gradients summed back over broadcast dimensions."""
import numpy as np

from fastnn.autograd.function import Function
from fastnn.ops.broadcast import operand, unbroadcast


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (np.shape(a), np.shape(b))
        return np.add(a, b)

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g, ctx.shapes[0]) if need_a else None,
                unbroadcast(g, ctx.shapes[1]) if need_b else None)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (np.shape(a), np.shape(b))
        return np.subtract(a, b)

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g, ctx.shapes[0]) if need_a else None,
                unbroadcast(-g, ctx.shapes[1]) if need_b else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        ctx.shapes = (np.shape(a), np.shape(b))
        return np.multiply(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g * b, ctx.shapes[0]) if need_a else None,
                unbroadcast(g * a, ctx.shapes[1]) if need_b else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = np.true_divide(a, b)
        if out.dtype != np.float32:  # int / int gives float, as torch
            out = out.astype(np.float32)
        ctx.save_for_backward(a, b)
        ctx.shapes = (np.shape(a), np.shape(b))
        return out

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(g / b, ctx.shapes[0]) if need_a else None,
                unbroadcast(-g * a / (b * b), ctx.shapes[1]) if need_b else None)


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return np.negative(a)

    @staticmethod
    def backward(ctx, g):
        return -g


class Pow(Function):
    @staticmethod
    def forward(ctx, a, exponent):
        ctx.save_for_backward(a)
        ctx.exponent = exponent
        return np.power(a, exponent)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        p = ctx.exponent
        return g * (p * np.power(a, p - 1)).astype(np.float32), None


def add(a, b):
    return Add.apply(operand(a), operand(b))


def sub(a, b):
    return Sub.apply(operand(a), operand(b))


def mul(a, b):
    return Mul.apply(operand(a), operand(b))


def div(a, b):
    return Div.apply(operand(a), operand(b))


def neg(a):
    return Neg.apply(a)


def pow(a, exponent):
    from fastnn.tensor import Tensor
    if isinstance(exponent, Tensor):
        raise TypeError("pow with a Tensor exponent is not supported; use a number")
    return Pow.apply(a, float(exponent) if not float(exponent).is_integer() else int(exponent))
