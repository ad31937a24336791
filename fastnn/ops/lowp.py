"""linear, matmul and conv2d under autocast (fastnn.amp): what torch does with
`cast(x, dtype) -> op in dtype -> dtype output`, in one op.

Each floating input other than float64 is rounded to the autocast dtype (torch's eligible
arguments), the products are accumulated in float32 and the result is returned in the
autocast dtype. For bfloat16 the rounding happens inside the GEMM's packing
(backend.gemm_bf16: VDPBF16PS where the CPU has it), so a float32 weight is never copied.
The backward is torch's for the cast-then-op graph: the gradients of the products are formed
from the rounded operands, rounded to the autocast dtype (torch's bfloat16 results) and
arrive in each input's own dtype (the cast's backward), so float32 masters get float32
gradients.
"""
import functools

import numpy as np

from fastnn import amp, backend, dtypes
from fastnn.autograd.function import Function
from fastnn.ops import linalg
from fastnn.ops.convert import convert, rounded
from fastnn.ops.linear import _rows
from fastnn.tensor import Tensor

_F32 = np.dtype(np.float32)


def _gemm_for(dtype):
    """The GEMM that rounds both operands to dtype and accumulates in float32."""
    if dtype is dtypes.bfloat16:
        return backend.gemm_bf16

    def gemm(a, b, out=None, bias=None, relu=False, accumulate=False):
        return backend.gemm(rounded(a, dtype.numpy), rounded(b, dtype.numpy), out, bias, relu,
                            accumulate)
    return gemm


def _float32(x):
    return x if x.dtype == _F32 else convert(x, np.float32)


def _round_grad(g, dtype, target):
    """A product's gradient as torch leaves it: rounded to the autocast dtype, then in the
    input's own dtype (the cast's backward)."""
    return convert(convert(g, dtype.numpy), target)


def _eligible(*tensors):
    """Whether every tensor argument is eligible (amp.eligible; a float64 operand keeps the op
    in float64, as in torch). None stands for an absent bias."""
    return all(t is None or amp.eligible(t) for t in tensors)


def lowp_dtype(*tensors):
    """The dtype linear/matmul products round their operands to: autocast's when it is on, else
    bfloat16 when every operand is bfloat16 (torch's CPU bfloat16 matmul: float32 accumulation,
    a bfloat16 result; NumPy's ml_dtypes matmul took 100x longer); None for float32 kernels."""
    fast = amp.active_dtype()
    if fast is not None:
        return fast
    bf16 = dtypes.bfloat16.numpy
    if bf16 is not None and all(t is None or (isinstance(t, Tensor) and t._data.dtype == bf16)
                                for t in tensors):
        return dtypes.bfloat16
    return None


class LinearLowp(Function):
    backward_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, relu, dtype):
        if relu:
            ctx.backward_name = "ReluBackward0"
        x32, w32 = _float32(x), _float32(weight)
        rows = _rows(x32, w32)
        gemm = _gemm_for(dtype)
        b32 = None if bias is None else rounded(_float32(bias), dtype.numpy)
        out32 = gemm(rows, w32.T, bias=b32, relu=relu)
        out = convert(out32, dtype.numpy)
        ctx.save_for_backward(rows, w32, out32 if relu else None)
        ctx.in_shape, ctx.dtypes, ctx.gemm, ctx.dtype = x.shape, (
            x.dtype, weight.dtype, None if bias is None else bias.dtype), gemm, dtype
        return out.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, g):
        rows, w32, out = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        g2 = _float32(g.reshape(-1, w32.shape[0]))
        if out is not None:  # the fused ReLU: mask where the output is 0, and sum for the bias
            g2, bias_sum = backend.relu_backward_bias(out, g2, want_bias=need_b)
        else:
            bias_sum = g2.sum(axis=0) if need_b else None
        dtype, gemm = ctx.dtype, ctx.gemm
        grad_x = (_round_grad(gemm(g2, w32), dtype, ctx.dtypes[0]).reshape(ctx.in_shape)
                  if need_x else None)
        grad_w = _round_grad(gemm(g2.T, rows), dtype, ctx.dtypes[1]) if need_w else None
        grad_b = _round_grad(bias_sum, dtype, ctx.dtypes[2]) if need_b else None
        return grad_x, grad_w, grad_b, None, None


def linear_lowp(input, weight, bias, dtype, relu=False):
    """linear (then ReLU) under autocast; None when an argument is not eligible."""
    if not _eligible(input, weight, bias):
        return None
    return LinearLowp.apply(input, weight, bias, relu, dtype)


class MatMulLowp(Function):
    @staticmethod
    def forward(ctx, a, b, dtype):
        linalg._check_shapes(a, b)  # torch's messages for 0-D operands and mismatched K
        ctx.backward_name = linalg.backward_name(a, b, ctx.needs_input_grad[0])
        ctx.dtypes, ctx.dtype, ctx.gemm = (a.dtype, b.dtype), dtype, _gemm_for(dtype)
        if dtype is dtypes.bfloat16 and a.dtype == b.dtype == dtype.numpy:
            # bfloat16 tensors: their values packed as they are (no float32 copies; widened
            # for the backward only if it runs)
            ctx.save_for_backward(a, b)
            out = linalg.product(a, b, backend.gemm_bf16_storage)
        else:
            a32, b32 = _float32(a), _float32(b)
            ctx.save_for_backward(a32, b32)
            out = linalg.product(a32, b32, ctx.gemm)
        return convert(np.asarray(out), dtype.numpy)

    @staticmethod
    def backward(ctx, g):
        a32, b32 = (_float32(x) for x in ctx.saved_tensors)
        need_a, need_b = ctx.needs_input_grad[:2]
        grads = linalg.gradients(a32, b32, _float32(np.asarray(g)), need_a, need_b, ctx.gemm)
        return tuple(None if gr is None else _round_grad(np.asarray(gr), ctx.dtype, dt)
                     for gr, dt in zip(grads, ctx.dtypes)) + (None,)


def matmul_lowp(a, b, dtype):
    if not _eligible(a, b):
        from fastnn.ops.linalg import MatMul
        return MatMul.apply(a, b)
    return MatMulLowp.apply(a, b, dtype)


def lower_precision_args(op):
    """For an op without a lower-precision kernel (conv2d): under autocast, cast its eligible
    tensor arguments to the autocast dtype (differentiably), then run it; the op's float32
    kernel then multiplies the rounded values, accumulates in float32 and returns the
    autocast dtype (fastnn.ops.float32_kernels)."""
    @functools.wraps(op)
    def wrapper(input, *args, **kwargs):
        fast = amp.active_dtype()
        tensors = (input,) + tuple(a for a in args[:2] if a is not None)
        if fast is None or not _eligible(*tensors):
            return op(input, *args, **kwargs)
        return op(amp.lower_precision(input, fast),
                  *(amp.lower_precision(a, fast) if i < 2 else a for i, a in enumerate(args)),
                  **kwargs)
    return wrapper
