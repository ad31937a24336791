"""interpolate (nearest, nearest-exact, linear/bilinear/trilinear with or without
align_corners, area; torch's source-coordinate rules), the deprecated upsample functions,
one_hot, pixel_shuffle and pixel_unshuffle."""
import numpy as np

from fastnn.tensor import Tensor


def _pair_like(value, n):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


_LINEAR = {"linear": 1, "bilinear": 2, "trilinear": 3}


def _scales(in_sizes, out_sizes, factors, recompute_scale_factor):
    """Per axis, the input step per output step: 1 / scale_factor when one was given (and
    not recomputed), else in / out (torch's area_pixel_compute_scale)."""
    if factors is not None and not recompute_scale_factor:
        return [1.0 / f for f in factors]
    return [i / o for i, o in zip(in_sizes, out_sizes)]


def _nearest(input, in_sizes, out_sizes, scales, exact):
    out = input
    for axis, (n_in, n_out, scale) in enumerate(zip(in_sizes, out_sizes, scales)):
        positions = np.arange(n_out) + (0.5 if exact else 0.0)
        src = np.minimum(np.floor(positions * np.float32(scale)).astype(np.int64), n_in - 1)
        out = out[(slice(None),) * (2 + axis) + (Tensor._wrap(src),)]
    return out


def _linear(input, in_sizes, out_sizes, scales, align_corners):
    """Separable linear interpolation, one axis at a time: each output is a weighted sum of
    the two nearest inputs, at torch's source coordinates (half-pixel centres unless
    align_corners)."""
    out = input
    for axis, (n_in, n_out, scale) in enumerate(zip(in_sizes, out_sizes, scales)):
        dst = np.arange(n_out, dtype=np.float64)
        if align_corners:
            src = dst * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
        else:
            src = np.maximum((dst + 0.5) * scale - 0.5, 0.0)
        lo = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
        hi = np.minimum(lo + 1, n_in - 1)
        frac = (src - lo).astype(input._data.dtype)
        shape = [1] * input.ndim
        shape[2 + axis] = n_out
        before = (slice(None),) * (2 + axis)
        weight_hi = Tensor._wrap(frac.reshape(shape))
        weight_lo = Tensor._wrap((1 - frac).reshape(shape))
        out = out[before + (Tensor._wrap(lo),)] * weight_lo + \
            out[before + (Tensor._wrap(hi),)] * weight_hi
    return out


def _antialias_weights(n_in, n_out, scale):
    """(n_out, n_in): each output a normalised triangle-filter average of the inputs under
    it, the filter widened by the scale when shrinking (torch's _compute_indices_weights_aa,
    PIL's resampling)."""
    support = scale if scale >= 1.0 else 1.0  # the bilinear filter's half-width, 1, scaled
    invscale = 1.0 / scale if scale >= 1.0 else 1.0
    weights = np.zeros((n_out, n_in))
    for i in range(n_out):
        center = scale * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), n_in)
        w = np.maximum(0.0, 1.0 - np.abs((np.arange(lo, hi) - center + 0.5) * invscale))
        total = w.sum()
        weights[i, lo:hi] = w / total if total != 0 else w
    return weights


def _antialiased(input, in_sizes, out_sizes, scales):
    """Bilinear with antialias=True: a weight matrix per axis, the width first, then the
    height (matmuls, so gradients flow as through any product)."""
    dtype = input._data.dtype
    (h_in, w_in), (h_out, w_out), (scale_h, scale_w) = in_sizes, out_sizes, scales
    across = Tensor._wrap(_antialias_weights(w_in, w_out, scale_w).T.astype(dtype))
    down = Tensor._wrap(_antialias_weights(h_in, h_out, scale_h).astype(dtype))
    return down.matmul(input.matmul(across))


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """torch's modes nearest, nearest-exact, linear, bilinear (with antialias too), trilinear
    and area."""
    modes = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "area")
    if mode not in modes:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not implemented in fastnn "
                                  f"(it has {', '.join(modes)})")
    if align_corners is not None and mode not in _LINEAR:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    spatial = input.ndim - 2
    if spatial < 1:
        raise ValueError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                         f"{input.ndim}D) for the modes: nearest | linear | bilinear | bicubic "
                         f"| trilinear | area | nearest-exact (got {mode})")
    if mode in _LINEAR and _LINEAR[mode] != spatial:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                  f"{_LINEAR[mode] + 2}D input")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    in_sizes = tuple(input.shape[2:])
    factors = None
    if size is not None:
        out_sizes = tuple(int(v) for v in _pair_like(size, spatial))
    else:
        factors = tuple(float(f) for f in _pair_like(scale_factor, spatial))
        out_sizes = tuple(int(np.floor(i * f)) for i, f in zip(in_sizes, factors))
    if min(in_sizes + out_sizes) <= 0:
        names = ("D", "H", "W")[3 - spatial:]
        show = lambda sizes: ", ".join(f"{n}: {v}" for n, v in zip(names, sizes))  # noqa: E731
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({show(in_sizes)}) output ({show(out_sizes)})")
    scales = _scales(in_sizes, out_sizes, factors, recompute_scale_factor)
    if mode == "area":
        from fastnn.ops import pool
        if spatial == 1:
            return pool.adaptive_avg_pool1d(input, out_sizes[0])
        if spatial == 2:
            return pool.adaptive_avg_pool2d(input, out_sizes)
        raise NotImplementedError("interpolate: mode 'area' on 5-D input is not implemented")
    if antialias:
        if mode != "bilinear" or input.ndim != 4:
            raise ValueError("Anti-alias option is restricted to bilinear and bicubic modes and "
                             "requires a 4-D tensor as input")
        if align_corners:
            scales = [(i - 1) / (o - 1) if o > 1 else 0.0 for i, o in zip(in_sizes, out_sizes)]
        return _antialiased(input, in_sizes, out_sizes, scales)
    if mode in _LINEAR:
        return _linear(input, in_sizes, out_sizes, scales, bool(align_corners))
    return _nearest(input, in_sizes, out_sizes, scales, mode == "nearest-exact")


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    import warnings
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    import warnings
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    import warnings
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


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
