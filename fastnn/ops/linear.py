"""y = x @ W^T + b in one GEMM: the bias is added in the kernel's epilogue while each output
tile is still in cache, and W^T is a strided view that packing absorbs (no transpose copy)."""
import numpy as np

from fastnn import backend
from fastnn.autograd.function import Function


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        if x.dtype != np.float32:
            raise TypeError(f"linear expects a float32 input, got {x.dtype}")
        if x.ndim == 0:
            raise RuntimeError("linear expects an input with at least 1 dimension")
        rows = x.reshape(-1, x.shape[-1])
        if rows.shape[1] != weight.shape[1]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows.shape[0]}x"
                               f"{rows.shape[1]} and {weight.shape[1]}x{weight.shape[0]})")
        out = backend.gemm(rows, weight.T, bias=bias)
        ctx.save_for_backward(rows, weight)
        ctx.in_shape = x.shape
        return out.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, g):
        rows, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        g2 = g.reshape(-1, weight.shape[0])
        if g2.dtype != np.float32:
            g2 = g2.astype(np.float32)
        grad_x = backend.gemm(g2, weight).reshape(ctx.in_shape) if need_x else None
        grad_w = backend.gemm(g2.T, rows) if need_w else None
        grad_b = g2.sum(axis=0) if need_b else None
        return grad_x, grad_w, grad_b


def linear(input, weight, bias=None):
    return Linear.apply(input, weight, bias)
