"""Elementwise functions built from other differentiable ops: fmod, frac, clamp_min,
clamp_max, nan_to_num, logaddexp, meshgrid and unflatten."""
import warnings

import numpy as np

from fastnn.autograd.function import Function
from fastnn.ops import elementwise, rounding
from fastnn.ops.unary_math import log1p
from fastnn.ops.manipulation import _dim as _checked_dim


def fmod(input, other):
    """The remainder with the sign of the dividend (C's fmod): input - other * trunc(q); on
    integers, integer C fmod (torch keeps the integer dtype)."""
    from fastnn.ops.broadcast import operand, promote
    from fastnn.tensor import Tensor
    a, b = promote(operand(input), operand(other))
    if all(np.asarray(getattr(v, "_data", v)).dtype.kind in "iub" for v in (a, b)):
        if np.any(np.asarray(getattr(b, "_data", b)) == 0):
            raise RuntimeError("ZeroDivisionError")
        return Tensor._wrap(np.asarray(np.fmod(getattr(a, "_data", a), getattr(b, "_data", b))))
    if not isinstance(a, Tensor):  # (a number over a tensor: torch's fmod takes a tensor)
        a = Tensor._wrap(np.asarray(a, dtype=b._data.dtype))
    return Fmod.apply(a, b)


class Fmod(Function):
    """C's fmod, exactly (a - trunc(a / b) * b rounds: 2 fmod 0.2 is 0.2, not 0); its
    gradients g and -g trunc(a / b), as torch's."""
    backward_name = "FmodBackward1"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if True in ctx.needs_input_grad:  # (only a backward reads them)
            ctx.shapes = (np.shape(a), np.shape(b))
        if np.ndim(b) == 0 and not isinstance(b, np.ndarray):
            ctx.backward_name = "FmodBackward0"
        return np.asarray(np.fmod(a, b))

    @staticmethod
    def backward(ctx, g):
        from fastnn.ops.broadcast import unbroadcast
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad[:2]
        ga = unbroadcast(g, ctx.shapes[0]) if need_a else None
        gb = unbroadcast(-g * np.trunc(a / b), ctx.shapes[1]) if need_b else None
        return ga, gb


def frac(input):
    if input._data.dtype.kind not in "fV":
        from fastnn import dtypes
        raise NotImplementedError(f'"frac_cpu" not implemented for '
                                  f"'{dtypes.of_array(input._data).title}'")
    return input - rounding.trunc(input)


def clamp_min(input, min):
    return elementwise.clamp(input, min=min)


def clamp_max(input, max):
    return elementwise.clamp(input, max=max)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    if input._data.dtype.kind in "iub":  # no NaN or infinity to replace
        return input.clone()
    if input._data.dtype.kind == "V":  # bfloat16: ml_dtypes has its finfo, NumPy not
        import ml_dtypes
        info = ml_dtypes.finfo(input._data.dtype)
    else:
        info = np.finfo(input._data.dtype)
    posinf = float(info.max) if posinf is None else posinf
    neginf = float(info.min) if neginf is None else neginf
    data = input._data.astype(np.float32) if input._data.dtype.kind == "V" else input._data
    out = elementwise.where(np.isnan(data), nan, input)
    out = elementwise.where(np.isposinf(data), posinf, out)
    return elementwise.where(np.isneginf(data), neginf, out)


def logaddexp(input, other):
    """log(exp(a) + exp(b)) = max(a, b) + log1p(exp(-|a - b|)), no overflow."""
    from fastnn.ops.broadcast import floating_pair
    input, other = floating_pair(input, other)  # (a bool operand: no bool subtraction)
    larger = elementwise.maximum(input, other)
    return larger + log1p(elementwise.exp(-elementwise.abs(input - other)))


def meshgrid(*tensors, indexing=None):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.")
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but "
                           f"received: {indexing}")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got: {t}")
    flat = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(flat) >= 2
    if swap:
        flat[0], flat[1] = flat[1], flat[0]
    shape = tuple(t.shape[0] for t in flat)
    grids = []
    for i, t in enumerate(flat):
        view = [1] * len(flat)
        view[i] = shape[i]
        grids.append(t.reshape(*view).expand(*shape))
    if swap:  # 'xy': the first two inputs' roles exchanged, so the first grid varies along x
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def unflatten(input, dim, sizes):
    d = _checked_dim(dim, input.ndim)
    sizes = tuple(int(s) for s in sizes)
    known = int(np.prod([s for s in sizes if s != -1]))
    if (-1 not in sizes and known != input.shape[d]) or (
            -1 in sizes and (known == 0 or input.shape[d] % known)):
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({input.shape[d]}) in the input tensor")
    return input.reshape(*input.shape[:d], *sizes, *input.shape[d + 1:])


def heaviside(input, values):
    """0 below zero, 1 above, `values` at zero (torch.heaviside); no gradient, as torch's."""
    x = input._data
    at_zero = values._data if hasattr(values, "_data") else np.asarray(values)
    from fastnn.tensor import Tensor
    return Tensor._wrap(np.heaviside(x, at_zero).astype(x.dtype))
