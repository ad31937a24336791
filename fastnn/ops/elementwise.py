"""Unary elementwise ops. ReLU runs on the active backend's kernel."""
import numpy as np

from fastnn import backend
from fastnn.autograd.function import Function


def _float32_contiguous(x, op):
    if x.dtype != np.float32:
        raise TypeError(f"{op} expects a float32 tensor, got {x.dtype}")
    return np.ascontiguousarray(x)


class ReLU(Function):
    @staticmethod
    def forward(ctx, x):
        x = _float32_contiguous(x, "relu")
        out = backend.relu_forward(x)
        ctx.save_for_backward(out)  # out > 0 exactly where x > 0, and out is what we keep anyway
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return backend.relu_backward(out, np.ascontiguousarray(g, dtype=np.float32))


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        out = np.exp(x, dtype=np.float32)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x, dtype=np.float32)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / x


class Abs(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * np.sign(x).astype(np.float32)


class Maximum(Function):
    """Elementwise max(a, b); on ties each side gets half the gradient, as torch.maximum."""

    @staticmethod
    def forward(ctx, a, b):
        from fastnn.ops.broadcast import unbroadcast  # noqa: F401 (used in backward)
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        from fastnn.ops.broadcast import unbroadcast
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        share_a = (a > b) + np.float32(0.5) * (a == b)
        ga = unbroadcast((g * share_a).astype(np.float32), np.shape(a)) if need_a else None
        gb = unbroadcast((g * (1 - share_a)).astype(np.float32), np.shape(b)) if need_b else None
        return ga, gb


def relu(x):
    return ReLU.apply(x)


def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def abs(x):
    return Abs.apply(x)


def maximum(a, b):
    from fastnn.ops.broadcast import operand
    return Maximum.apply(operand(a), operand(b))
