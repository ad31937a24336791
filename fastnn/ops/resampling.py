"""interpolate (mode 'nearest', torch's index rule src = floor(dst * in / out)) and one_hot."""
import numpy as np

from fastnn.tensor import Tensor


def _pair_like(value, n):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    if mode != "nearest":
        raise NotImplementedError(f"interpolate: mode {mode!r} is not implemented in fastnn "
                                  f"(only 'nearest')")
    spatial = input.ndim - 2
    if spatial < 1:
        raise ValueError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                         f"{input.ndim}D) for the modes: nearest")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    in_sizes = input.shape[2:]
    if size is not None:
        out_sizes = _pair_like(size, spatial)
        scales = [i / o for i, o in zip(in_sizes, out_sizes)]
    else:
        factors = _pair_like(scale_factor, spatial)
        out_sizes = tuple(int(np.floor(i * f)) for i, f in zip(in_sizes, factors))
        scales = [1.0 / f for f in factors]
    out = input
    for axis, (n_in, n_out, scale) in enumerate(zip(in_sizes, out_sizes, scales)):
        src = np.minimum(np.floor(np.arange(n_out) * np.float32(scale)).astype(np.int64),
                         n_in - 1)
        index = (slice(None),) * (2 + axis) + (Tensor._wrap(src),)
        out = out[index]
    return out


def one_hot(tensor, num_classes=-1):
    data = tensor._data
    if data.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if data.size and data.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(data.max()) + 1 if data.size else 0
    elif data.size and data.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return Tensor._wrap((data[..., None] == np.arange(num_classes)).astype(np.int64))


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r) (Shi et al. 2016, sub-pixel convolution)."""
    r = int(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got "
                           f"input with {input.ndim} dimension(s)")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    k = len(lead)
    out = input.reshape(*lead, c // (r * r), r, r, h, w)
    out = out.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return out.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W), the inverse of pixel_shuffle."""
    r = int(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but "
                           f"got input with {input.ndim} dimension(s)")
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height and width to be divisible by "
                           f"downscale_factor, but input.size(-2)={h} and input.size(-1)={w} "
                           f"are not divisible by {r}")
    k = len(lead)
    out = input.reshape(*lead, c, h // r, r, w // r, r)
    out = out.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return out.reshape(*lead, c * r * r, h // r, w // r)
