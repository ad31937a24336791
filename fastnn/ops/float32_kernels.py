"""Ops whose only kernels are float32 (convolution, pooling, batch norm) accept the other
floating dtypes the way PyTorch's CPU autocast treats float16/bfloat16: inputs are converted
to float32, the kernel runs, the result is converted back (the gradients flow back through
the same conversions). float64 is therefore computed at float32 precision in these ops.
"""
import functools

import numpy as np

from fastnn.tensor import Tensor

def float32_kernel(op=None, keep=(), native=()):
    """Decorate op(input, *args); `keep` lists positions in args passed unconverted (batch
    norm's running statistics, which the op updates in place); `native` the NumPy dtypes the
    op computes in themselves (the convolutions' float64, on the NumPy reference kernels, so a
    double-precision gradcheck holds as on torch)."""
    if op is None:
        return functools.partial(float32_kernel, keep=keep, native=native)

    @functools.wraps(op)
    def wrapper(input, *args, **kwargs):
        dtype = input._data.dtype if isinstance(input, Tensor) else None
        if dtype is None or dtype == np.float32 or dtype.kind not in "fV":
            return op(input, *args, **kwargs)
        if dtype in native and all(a._data.dtype == dtype for a in args[:2]
                                   if isinstance(a, Tensor)):
            return op(input, *args, **kwargs)
        for a in args[:2]:  # weight and bias of conv2d must match the input, as torch says
            if isinstance(a, Tensor) and a._data.dtype != dtype and op.__name__.startswith("conv"):
                raise RuntimeError(f"Input type ({input.dtype.c_type}) and weight type "
                                   f"({a.dtype.c_type}) should be the same")
        cast = [a.float() if isinstance(a, Tensor) and a._data.dtype.kind in "fV" and
                i not in keep else a for i, a in enumerate(args)]
        out = op(input.float(), *cast, **kwargs)
        if isinstance(out, tuple):
            return type(out)(*(o._cast(input.dtype) if o._data.dtype == np.float32 else o
                               for o in out)) if hasattr(out, "_fields") else \
                tuple(o._cast(input.dtype) if o._data.dtype == np.float32 else o for o in out)
        return out._cast(input.dtype)
    return wrapper
