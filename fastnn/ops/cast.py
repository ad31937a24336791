"""Conversion between dtypes (.float(), .double(), .to(dtype)): differentiable between
floating dtypes, the gradient cast back (torch's ToCopyBackward0)."""
from fastnn import dtypes
from fastnn.autograd.function import Function
from fastnn.ops.convert import convert


class Cast(Function):
    backward_name = "ToCopyBackward0"
    complex_grad = True  # real -> complex: the real part comes back; complex -> real: g + 0i

    @staticmethod
    def forward(ctx, x, target):
        ctx.source = x.dtype
        return convert(x, target.numpy)

    @staticmethod
    def backward(ctx, g):
        if g.dtype.kind == "c" and ctx.source.kind != "c":
            g = g.real
        return convert(g, ctx.source), None


def cast(x, dtype):
    dtype = dtypes.to_dtype(dtype)
    if dtype.numpy is None:
        raise TypeError(f"{dtype!r} needs the ml_dtypes package (pip install ml_dtypes)")
    return Cast.apply(x, dtype)
