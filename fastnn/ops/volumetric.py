"""3-D convolution and pooling (conv3d, conv_transpose3d, max_pool3d, avg_pool3d,
adaptive_avg_pool3d, adaptive_max_pool3d) over (N, C, D, H, W), composed from the 2-D ops.

A 3-D convolution is a sum over the kernel's depth taps of 2-D convolutions: tap kd reads, for
every output depth d, the input plane d * stride + kd * dilation; those planes are gathered
into the batch (N * D_out images), convolved with the kernel's plane kd by the compiled 2-D
kernels, and the K_d results summed. Pooling takes the 2-D pool of each plane, then the max or
the mean over the depth window. The 2-D ops carry the gradients (first and second order, and
forward mode), so these are differentiable as torch's; their speed is the 2-D kernels' times
the depth taps.
"""
import numpy as np

from fastnn.autograd.function import presented
from fastnn.tensor import Tensor


def _triple(value, name):
    if isinstance(value, (tuple, list)):
        if len(value) != 3:
            raise ValueError(f"{name} must be an int or a 3-tuple, got {value}")
        return tuple(int(v) for v in value)
    return (int(value),) * 3


def _batched(input, name):
    if input.ndim not in (4, 5):
        raise RuntimeError(f"Expected 4D (unbatched) or 5D (batched) input to {name}, but got "
                           f"input of size: {list(input.shape)}")
    return (input.unsqueeze(0), True) if input.ndim == 4 else (input, False)


def _depth_planes(x, start, step, count):
    """x[:, :, start + step * d] for d < count, as (N * count, C, H, W) images."""
    n, c = x.shape[0], x.shape[1]
    planes = x[:, :, start:start + step * (count - 1) + 1:step]  # (N, C, count, H, W)
    return planes.transpose(1, 2).reshape(n * count, c, x.shape[3], x.shape[4])


def _unplane(y, n, count):
    """(N * count, C, H, W) back to (N, C, count, H, W)."""
    return y.reshape(n, count, y.shape[1], y.shape[2], y.shape[3]).transpose(1, 2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    from fastnn.ops.conv import conv2d
    from fastnn.ops.pad import pad
    x, unbatched = _batched(input, "conv3d")
    if weight.ndim != 5:
        raise RuntimeError(f"weight must be 5-D (out_channels, in_channels/groups, kD, kH, kW), "
                           f"got {list(weight.shape)}")
    sd, sh, sw = _triple(stride, "stride")
    dd, dh, dw = _triple(dilation, "dilation")
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        elif padding == "same":
            spans = [d * (k - 1) for d, k in zip((dd, dh, dw), weight.shape[2:])]
            padding = tuple(span // 2 for span in spans)
            if any(span % 2 for span in spans):
                raise NotImplementedError("conv3d padding='same' with an even effective kernel "
                                          "is not supported")
        else:
            raise ValueError(f"Invalid padding string {padding!r}")
    pd, ph, pw = _triple(padding, "padding")
    kd = weight.shape[2]
    if pd:
        x = pad(x, (0, 0, 0, 0, pd, pd))
    out_depth = (x.shape[2] - dd * (kd - 1) - 1) // sd + 1
    if out_depth < 1:
        raise RuntimeError(f"Calculated padded input size per channel: ({x.shape[2]} x "
                           f"{x.shape[3] + 2 * ph} x {x.shape[4] + 2 * pw}). Kernel size: "
                           f"({dd * (kd - 1) + 1} x ...). Kernel size can't be greater than "
                           f"actual input size")
    n = x.shape[0]
    total = None
    for k in range(kd):
        planes = _depth_planes(x, k * dd, sd, out_depth)
        y = conv2d(planes, weight[:, :, k], None, (sh, sw), (ph, pw), (dh, dw), groups)
        total = y if total is None else total + y
    out = _unplane(total, n, out_depth)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1, 1)
    out = presented(out, "ConvolutionBackward0")
    return out.squeeze(0) if unbatched else out


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """The adjoint of conv3d: each input plane, transposed-convolved with each kernel plane
    kd, lands at output depth d * stride + kd * dilation (before the padding is cut)."""
    from fastnn.creation import zeros
    from fastnn.ops.conv_transpose import conv_transpose2d
    x, unbatched = _batched(input, "conv_transpose3d")
    sd, sh, sw = _triple(stride, "stride")
    dd, dh, dw = _triple(dilation, "dilation")
    pd, ph, pw = _triple(padding, "padding")
    od, oh, ow = _triple(output_padding, "output_padding")
    n, depth = x.shape[0], x.shape[2]
    kd = weight.shape[2]
    planes = _depth_planes(x, 0, 1, depth)
    full_depth = (depth - 1) * sd + dd * (kd - 1) + 1 + od
    out = None
    for k in range(kd):
        y = conv_transpose2d(planes, weight[:, :, k], None, (sh, sw), (ph, pw), (oh, ow),
                             groups, (dh, dw))
        y = _unplane(y, n, depth)  # (N, C_out, D_in, H', W')
        if out is None:
            out = zeros(n, y.shape[1], full_depth, y.shape[3], y.shape[4], dtype=y.dtype)
        index = Tensor._wrap(np.arange(depth, dtype=np.int64) * sd + k * dd)
        out = out.index_add(2, index, y)
    out = out[:, :, pd:full_depth - pd]
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1, 1)
    out = presented(out, "ConvolutionBackward0")
    return out.squeeze(0) if unbatched else out


def _pool_depth(x, kernel, stride, padding, dilation, ceil_mode, fill):
    """The depth windows: (pad width before, after, output depth)."""
    size = x.shape[2] + 2 * padding
    span = dilation * (kernel - 1) + 1
    if ceil_mode:
        out = -(-(size - span) // stride) + 1
        if (out - 1) * stride >= x.shape[2] + padding:  # torch: the last window starts inside
            out -= 1
    else:
        out = (size - span) // stride + 1
    extra = max(0, (out - 1) * stride + span - size)
    return padding, padding + extra, out


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    from fastnn.ops.elementwise import maximum
    from fastnn.ops.pad import pad
    from fastnn.ops.pool import max_pool2d
    x, unbatched = _batched(input, "max_pool3d")
    kd, kh, kw = _triple(kernel_size, "kernel_size")
    sd, sh, sw = _triple(kernel_size if stride is None or stride == [] else stride, "stride")
    pd, ph, pw = _triple(padding, "padding")
    dd, dh, dw = _triple(dilation, "dilation")
    before, after, out_depth = _pool_depth(x, kd, sd, pd, dd, ceil_mode, -np.inf)
    if before or after:
        x = pad(x, (0, 0, 0, 0, before, after), value=-np.inf)
    n = x.shape[0]
    if return_indices:
        out, indices = _max_pool3d_with_indices(x, (kd, kh, kw), (sd, sh, sw), (ph, pw),
                                                (dd, dh, dw), ceil_mode, before, out_depth)
        if unbatched:
            out, indices = out.squeeze(0), indices.squeeze(0)
        return presented(out, "MaxPool3DWithIndicesBackward0"), indices
    best = None
    for k in range(kd):
        planes = _depth_planes(x, k * dd, sd, out_depth)
        y = max_pool2d(planes, (kh, kw), (sh, sw), (ph, pw), (dh, dw), ceil_mode)
        best = y if best is None else maximum(best, y)
    out = _unplane(best, n, out_depth)
    return presented(out.squeeze(0) if unbatched else out, "MaxPool3DWithIndicesBackward0")


def _max_pool3d_with_indices(x, kernel, stride, padding, dilation, ceil_mode, before,
                             out_depth):
    """max_pool3d's values and torch's flat indices (d * H * W + h * W + w in the unpadded
    input): each depth tap's 2-D pooling with its indices, then the first tap holding the
    maximum (torch's scan order: depth, then the 2-D window's first maximum; NaN wins)."""
    from fastnn.ops.pool import max_pool2d
    from fastnn.ops.shape import stack
    (kd, kh, kw), (sd, sh, sw), (dd, dh, dw) = kernel, stride, dilation
    n, c = x.shape[:2]
    height, width = x.shape[3], x.shape[4]
    values, flat = [], []
    for k in range(kd):
        planes = _depth_planes(x, k * dd, sd, out_depth)
        y, index = max_pool2d(planes, (kh, kw), (sh, sw), padding, (dh, dw), ceil_mode,
                              return_indices=True)
        depth = np.arange(out_depth) * sd + k * dd - before  # the input depth of each plane
        depth = np.tile(depth, n).reshape(-1, 1, 1, 1)
        values.append(y)
        flat.append(depth * (height * width) + index._data)
    stacked = stack(values)
    choice = np.argmax(stacked._data, axis=0)[None]
    best = stacked.gather(0, Tensor._wrap(choice.astype(np.int64))).squeeze(0)
    indices = np.take_along_axis(np.stack(flat), choice, axis=0)[0]
    return _unplane(best, n, out_depth), _unplane(Tensor._wrap(indices), n, out_depth)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    from fastnn.ops.pad import pad
    from fastnn.ops.pool import avg_pool2d
    x, unbatched = _batched(input, "avg_pool3d")
    kd, kh, kw = _triple(kernel_size, "kernel_size")
    sd, sh, sw = _triple(kernel_size if stride is None or stride == [] else stride, "stride")
    pd, ph, pw = _triple(padding, "padding")
    if ceil_mode or (not count_include_pad and (pd or ph or pw)):
        raise NotImplementedError("avg_pool3d with ceil_mode, or count_include_pad=False with "
                                  "padding, is not supported by fastnn")
    if pd:
        x = pad(x, (0, 0, 0, 0, pd, pd))
    out_depth = (x.shape[2] - kd) // sd + 1
    n = x.shape[0]
    total = None
    for k in range(kd):
        planes = _depth_planes(x, k, sd, out_depth)
        y = avg_pool2d(planes, (kh, kw), (sh, sw), (ph, pw), False, True)
        total = y if total is None else total + y
    out = _unplane(total, n, out_depth)
    out = out * (kh * kw / divisor_override) if divisor_override else out / kd
    return presented(out.squeeze(0) if unbatched else out, "AvgPool3DBackward0")


def _adaptive(input, output_size, name, pool2d, combine, node_name):
    from fastnn.ops.shape import stack
    x, unbatched = _batched(input, name)
    size = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 3
    depth = x.shape[2]
    od = depth if size[0] is None else int(size[0])
    hw = tuple(x.shape[3 + i] if size[1 + i] is None else int(size[1 + i]) for i in range(2))
    slices = []
    for d in range(od):  # torch's bins: [floor(d D / od), ceil((d + 1) D / od))
        lo, hi = (d * depth) // od, -(-((d + 1) * depth) // od)
        planes = _depth_planes(x, lo, 1, hi - lo)
        pooled = _unplane(pool2d(planes, hw), x.shape[0], hi - lo)
        slices.append(combine(pooled))
    out = stack(slices, 2)
    return presented(out.squeeze(0) if unbatched else out, node_name)


def adaptive_avg_pool3d(input, output_size):
    from fastnn.nn.functional import adaptive_avg_pool2d
    return _adaptive(input, output_size, "adaptive_avg_pool3d", adaptive_avg_pool2d,
                     lambda p: p.mean(2), "AdaptiveAvgPool3DBackward0")


def adaptive_max_pool3d(input, output_size, return_indices=False):
    from fastnn.nn.functional import adaptive_max_pool2d
    if return_indices:
        raise NotImplementedError("adaptive_max_pool3d(return_indices=True) is not supported "
                                  "by fastnn")
    return _adaptive(input, output_size, "adaptive_max_pool3d", adaptive_max_pool2d,
                     lambda p: p.amax(2), "AdaptiveMaxPool3DBackward0")
