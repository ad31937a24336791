"""Padding the last dimensions: a constant (any number of them), or reflect / replicate /
circular (up to three) by gathering with index arrays, whose backward (GetItem's scatter-add) sums the gradient of every
copy back into its source pixel."""
import numpy as np

from fastnn.autograd.function import Function
from fastnn.ops.shape import getitem


class ConstantPad(Function):
    """The last len(pads) dimensions padded with `value`: pads[i] = (before, after) for
    dimension -1 - i; a negative side crops instead (torch's)."""
    complex_grad = True  # moves or sums values: the backward holds for complex ones

    @staticmethod
    def forward(ctx, x, pads, value):
        nd = x.ndim
        crop = [slice(None)] * nd
        widths = [(0, 0)] * nd
        for i, (before, after) in enumerate(pads):
            axis = nd - 1 - i
            crop[axis] = slice(max(-before, 0), x.shape[axis] - max(-after, 0))
            widths[axis] = (max(before, 0), max(after, 0))
        cropped = x[tuple(crop)]
        ctx.meta = (x.shape, tuple(crop), tuple(widths))
        return np.pad(cropped, widths, constant_values=value)

    @staticmethod
    def backward(ctx, g):
        shape, crop, widths = ctx.meta
        inner = tuple(slice(b, g.shape[a] - e) for a, (b, e) in enumerate(widths))
        grad = np.zeros(shape, dtype=g.dtype)
        grad[crop] = g[inner]
        return grad, None, None


def _source_index(size, before, after, mode):
    positions = np.arange(-before, size + after)
    if mode == "reflect":
        if before >= size or after >= size:
            raise RuntimeError("Padding size should be less than the corresponding input "
                               "dimension")
        period = 2 * (size - 1) if size > 1 else 1
        p = np.mod(positions, period)
        return np.where(p < size, p, period - p)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    if mode == "circular":
        if before > size or after > size:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        return np.mod(positions, size)
    raise ValueError(f"unknown padding mode {mode!r}")


def pad(input, pad, mode="constant", value=None):
    """torch.nn.functional.pad: pad = (before, after) pairs from the last dimension backwards.
    constant (value None means 0; negative widths crop) pads any number of dimensions;
    reflect, replicate and circular the last one to three (of a 2-D to 5-D input)."""
    x = input
    widths = [int(p) for p in pad]
    if len(widths) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    pairs = tuple((widths[i], widths[i + 1]) for i in range(0, len(widths), 2))
    if len(pairs) > x.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the "
                           f"input dimension but got padding length {len(widths)} and input of "
                           f"dimension {x.ndim}")
    if mode in ("constant", "zeros"):
        return ConstantPad.apply(x, pairs, 0.0 if value is None else float(value))
    if len(pairs) > 3 or not 2 <= x.ndim <= 5 or x.ndim - len(pairs) not in (1, 2):
        raise NotImplementedError(
            f"Padding size {len(widths)} is not supported for {x.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    axes = [x.ndim - 1 - i for i in range(len(pairs))][::-1]
    sources = [_source_index(x.shape[axis], *pairs[x.ndim - 1 - axis], mode) for axis in axes]
    index = (Ellipsis,) + np.ix_(*sources)
    return getitem(x, index)
