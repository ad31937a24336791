"""Padding the last two dimensions: zeros (constant), or reflect / replicate / circular by
gathering with index arrays, whose backward (GetItem's scatter-add) sums the gradient of every
copy back into its source pixel."""
import numpy as np

from fastnn.autograd.function import Function
from fastnn.ops.shape import getitem


class ConstantPad(Function):
    @staticmethod
    def forward(ctx, x, pads, value):
        left, right, top, bottom = pads
        widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
        ctx.crop = (top, x.shape[-2], left, x.shape[-1])
        return np.pad(x, widths, constant_values=value)

    @staticmethod
    def backward(ctx, g):
        top, h, left, w = ctx.crop
        return g[..., top:top + h, left:left + w], None, None


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
    """torch.nn.functional.pad for the last two dims: pad = (left, right, top, bottom); value
    (constant mode) None means 0."""
    x = input
    pads = tuple(int(p) for p in pad) + (0,) * (4 - len(pad))
    if mode in ("constant", "zeros"):
        return ConstantPad.apply(x, pads, 0.0 if value is None else float(value))
    left, right, top, bottom = pads
    rows = _source_index(x.shape[-2], top, bottom, mode)
    cols = _source_index(x.shape[-1], left, right, mode)
    index = (Ellipsis, rows[:, None], cols[None, :])
    return getitem(x, index)
