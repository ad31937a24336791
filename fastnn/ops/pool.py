"""max_pool2d / avg_pool2d / adaptive_avg_pool2d with PyTorch's rules
(aten/src/ATen/native/Pool.h): stride defaults to kernel_size; output size
floor_or_ceil((I + 2P - D(K - 1) - 1) / S) + 1, and with ceil_mode the last window must start
inside the input or its left padding; padding at most half the (effective) kernel."""
import numpy as np

from fastnn import memory_formats
from fastnn.autograd.function import Function
from fastnn.ops.conv import _check_input, kernel_dtype, kernels_for, pair
from fastnn.tensor import Tensor
from fastnn.ops.float32_kernels import float32_kernel
from fastnn.backend.checks import is_2x2_pooling


def pooled_size(size, k, s, p, d, ceil_mode):
    span = d * (k - 1) + 1
    numerator = size + 2 * p - span + ((s - 1) if ceil_mode else 0)
    out = numerator // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1  # the last window would start in the right padding
    return out


def pool_shape(x, kernel, stride, padding, dilation, ceil_mode, op):
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    if min(kh, kw) < 1:
        raise RuntimeError(f"{op}: kernel_size must be greater than zero, but got kH: {kh} "
                           f"kW: {kw}")
    if min(sh, sw) < 1:
        raise RuntimeError(f"{op}: stride must be greater than zero, but got dH: {sh} dW: {sw}")
    if min(dh, dw) < 1:
        raise RuntimeError(f"{op}: dilation must be greater than zero, but got dH: {dh} "
                           f"dW: {dw}")
    if ph > kh // 2 or pw > kw // 2 or min(ph, pw) < 0:
        raise RuntimeError("pad should be smaller than or equal to half of kernel size, but "
                           f"got padW = {pw}, padH = {ph}, kW = {kw}, kH = {kh}")
    oh = pooled_size(h, kh, sh, ph, dh, ceil_mode)
    ow = pooled_size(w, kw, sw, pw, dw, ceil_mode)
    if oh < 1 or ow < 1:
        raise RuntimeError(f"Given input size: ({c}x{h}x{w}). Calculated output size: "
                           f"({c}x{oh}x{ow}). Output size is too small")
    return (n, c, h, w, c, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, 1)


class MaxPool2d(Function):
    """`indices` is a list the forward appends the argmax array to (for return_indices), or
    None: then 2x2 stride-2 windows keep one-byte window codes instead of int64 indices, an
    eighth of the memory traffic (the pooling is bound by it)."""
    backward_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, x, shape, indices):
        source, x = x, np.ascontiguousarray(x)
        n, c, _, _, _, oh, ow = shape[:7]
        y = np.empty((n, c, oh, ow), dtype=x.dtype)  # float32, or float64 on the reference
        ctx.codes = indices is None and is_2x2_pooling(shape)
        argmax = np.empty((n, c, oh, ow), dtype=np.uint8 if ctx.codes else np.int64)
        kernels = kernels_for(x)
        if y.size:
            (kernels.maxpool2x2_forward if ctx.codes else kernels.maxpool2d_forward)(
                x, y, argmax, shape)
        if indices is not None:
            indices.append(argmax)
        ctx.shape, ctx.idx, ctx.in_shape = shape, argmax, x.shape
        return memory_formats.like(source, y)

    @staticmethod
    def backward(ctx, g):
        # every backend writes or zeroes all of gx
        gx = np.empty(ctx.in_shape, dtype=kernel_dtype(g))
        kernels = kernels_for(gx)
        if g.size:
            (kernels.maxpool2x2_backward if ctx.codes else kernels.maxpool2d_backward)(
                np.ascontiguousarray(g, dtype=gx.dtype), ctx.idx, gx, ctx.shape)
        elif gx.size:
            gx[...] = 0
        return gx, None, None


class AvgPool2d(Function):
    backward_name = "AvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, shape, count_include_pad):
        source, x = x, np.ascontiguousarray(x)
        n, c, _, _, _, oh, ow = shape[:7]
        y = np.empty((n, c, oh, ow), dtype=x.dtype)
        if y.size:
            kernels_for(x).avgpool2d_forward(x, y, shape, count_include_pad)
        ctx.meta = (shape, count_include_pad, x.shape)
        return memory_formats.like(source, y)

    @staticmethod
    def backward(ctx, g):
        shape, count_include_pad, in_shape = ctx.meta
        gx = np.zeros(in_shape, dtype=kernel_dtype(g))
        if g.size:
            kernels_for(gx).avgpool2d_backward(np.ascontiguousarray(g, dtype=gx.dtype), gx,
                                               shape, count_include_pad)
        return gx, None, None


def _batched(input, op):
    _check_input(input._data, op)
    return (input.unsqueeze(0), True) if input.ndim == 3 else (input, False)


@float32_kernel(native=(np.float64,))
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    x, unbatched = _batched(input, "max_pool2d")
    kernel = pair(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == [] else pair(stride, "stride")
    shape = pool_shape(x._data, kernel, stride, pair(padding, "padding"),
                       pair(dilation, "dilation"), ceil_mode, "max_pool2d")
    holder = [] if return_indices else None
    out = MaxPool2d.apply(x, shape, holder)
    if not return_indices:
        return out.squeeze(0) if unbatched else out
    indices = holder[0]
    if unbatched:
        out, indices = out.squeeze(0), indices[0]
    return out, Tensor._wrap(indices)


@float32_kernel(native=(np.float64,))
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    if divisor_override is not None:
        if not isinstance(divisor_override, int) or isinstance(divisor_override, bool):
            raise TypeError("avg_pool2d(): argument 'divisor_override' must be int, not "
                            f"{type(divisor_override).__name__}")
        if divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
    x, unbatched = _batched(input, "avg_pool2d")
    kernel = pair(kernel_size, "kernel_size")
    stride = kernel if stride is None or stride == [] else pair(stride, "stride")
    padding = pair(padding, "padding")
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise RuntimeError("pad should be at most half of kernel size, but got "
                           f"pad={max(padding)} and kernel_size={max(kernel)}")
    shape = pool_shape(x._data, kernel, stride, padding, (1, 1), ceil_mode, "avg_pool2d")
    out = AvgPool2d.apply(x, shape, bool(count_include_pad))
    if divisor_override is not None:  # each window's sum over the given divisor instead
        from fastnn.backend.reference_conv import avg_divisors
        scale = avg_divisors(shape, count_include_pad).astype(np.float64) / divisor_override
        out = out * Tensor._wrap(scale.astype(out._data.dtype))
    return out.squeeze(0) if unbatched else out


class AdaptiveAvgPool2d(Function):
    """Output cell (i, j) averages rows floor(iH/OH)..ceil((i+1)H/OH) and the same for
    columns, as torch; sums come from an integral image so any window costs O(1)."""
    backward_name = "AdaptiveAvgPool2DBackward0"


    @staticmethod
    def forward(ctx, x, out_size):
        n, c, h, w = x.shape
        oh, ow = out_size
        rs = (np.arange(oh) * h) // oh
        re = -((-(np.arange(1, oh + 1)) * h) // oh)
        cs = (np.arange(ow) * w) // ow
        ce = -((-(np.arange(1, ow + 1)) * w) // ow)
        area = np.outer(re - rs, ce - cs)
        if oh == ow == 1:  # global average pooling (ResNet's head, d2l's TextCNN): one sum
            ctx.meta = (x.shape, rs, re, cs, ce, area, x.dtype)
            return global_average(x).reshape(n, c, 1, 1)
        integral = np.zeros((n, c, h + 1, w + 1), dtype=np.float64)
        integral[:, :, 1:, 1:] = x.cumsum(axis=2, dtype=np.float64).cumsum(axis=3)
        sums = (integral[:, :, re[:, None], ce[None, :]] - integral[:, :, rs[:, None], ce[None, :]]
                - integral[:, :, re[:, None], cs[None, :]] + integral[:, :, rs[:, None], cs[None, :]])
        ctx.meta = (x.shape, rs, re, cs, ce, area, x.dtype)
        return (sums / area).astype(x.dtype)

    @staticmethod
    def backward(ctx, g):
        return adaptive_avg_pool2d_adjoint(g, ctx.meta), None


def global_average(x):
    """The mean of each (n, c) plane of x: for float32, the planes times a vector of ones on
    the GEMM kernel (float32 lanes, as torch's mean; NumPy's float64 sum took 1.3 ms of d2l's
    TextCNN head, (64,100,498), against 0.15, issue 12); float64 planes in float64."""
    from fastnn import backend
    n, c, h, w = x.shape
    planes = np.ascontiguousarray(x).reshape(n * c, h * w)
    if x.dtype == np.float32 and h * w:
        sums = backend.product(planes, np.ones((h * w, 1), np.float32))[:, 0]
    else:
        sums = planes.sum(axis=1, dtype=np.float64)
    return (sums / (h * w)).astype(x.dtype) if h * w else np.full(n * c, np.nan, x.dtype)


def adaptive_avg_pool2d_adjoint(g, meta):
    """The input gradient of adaptive_avg_pool2d for output gradient g (a fixed linear map,
    the adjoint of the pooling; formulas_nn records it for gradients of gradients)."""
    shape, rs, re, cs, ce, area, dtype = meta
    scaled = g / area
    if len(rs) == len(cs) == 1:  # global: every pixel gets its plane's share, in one pass
        gx = np.empty(shape, dtype=dtype)
        n, c, h, w = shape
        if dtype == np.float32:  # threaded (kernels/reduce.c); the shares rounded as gx[...] =
            from fastnn import backend
            backend.fill_rows(scaled.astype(np.float32).reshape(n * c), gx.reshape(n * c, h * w))
        else:
            gx[...] = scaled
        return gx
    gx = np.zeros(shape, dtype=dtype)
    for i in range(len(rs)):
        for j in range(len(cs)):
            gx[:, :, rs[i]:re[i], cs[j]:ce[j]] += scaled[:, :, i:i + 1, j:j + 1]
    return gx


@float32_kernel(native=(np.float64,))
def adaptive_avg_pool2d(input, output_size):
    x, unbatched = _batched(input, "adaptive_avg_pool2d")
    if isinstance(output_size, int):
        output_size = (output_size, output_size)
    size = tuple(x.shape[2 + i] if s is None else int(s) for i, s in enumerate(output_size))
    if min(size) < 1:
        raise RuntimeError(f"adaptive_avg_pool2d: output size must be positive, got {size}")
    out = AdaptiveAvgPool2d.apply(x, size)
    return out.squeeze(0) if unbatched else out


def _one_d(input, op):
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{op}: Expected 2D or 3D (batch mode) tensor for input, but got "
                           f"{input.ndim}D")
    return input.unsqueeze(-2)  # (N, C, L) as (N, C, 1, L): the 2-D kernels with height 1


def _single(value):
    return value[0] if isinstance(value, (tuple, list)) else value


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    k = _single(kernel_size)
    s = k if stride is None or stride == [] else _single(stride)
    out = max_pool2d(_one_d(input, "max_pool1d"), (1, k), (1, s), (0, _single(padding)),
                     (1, _single(dilation)), ceil_mode, return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    k = _single(kernel_size)
    s = k if stride is None or stride == [] else _single(stride)
    return avg_pool2d(_one_d(input, "avg_pool1d"), (1, k), (1, s), (0, _single(padding)),
                      ceil_mode, count_include_pad).squeeze(-2)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Each output cell takes the max over input rows [floor(i*H/oh), ceil((i+1)*H/oh)) and the
    same for columns (torch's adaptive windows), as the max over a gathered window stack."""
    from fastnn.ops import reductions
    from fastnn.ops.shape import stack
    if input.ndim not in (3, 4):  # any floating dtype: this is a composition of other ops
        raise RuntimeError(f"Expected 3D (unbatched) or 4D (batched) input to "
                           f"adaptive_max_pool2d, but got input of size: {list(input.shape)}")
    x, unbatched = (input.unsqueeze(0), True) if input.ndim == 3 else (input, False)
    if isinstance(output_size, int):
        output_size = (output_size, output_size)
    h, w = x.shape[2], x.shape[3]
    oh, ow = (x.shape[2 + i] if s is None else int(s) for i, s in enumerate(output_size))
    if min(oh, ow) < 1:
        raise RuntimeError(f"adaptive_max_pool2d: output size must be positive, got {(oh, ow)}")
    rows = []
    for i in range(oh):
        r0, r1 = (i * h) // oh, -(-((i + 1) * h) // oh)
        cols = []
        for j in range(ow):
            c0, c1 = (j * w) // ow, -(-((j + 1) * w) // ow)
            window = x[:, :, r0:r1, c0:c1].flatten(2)
            cols.append(reductions.max(window, dim=2).values)
        rows.append(stack(cols, dim=-1))
    out = stack(rows, dim=-2)
    if return_indices:
        raise NotImplementedError("adaptive_max_pool2d(return_indices=True) is not implemented")
    return out.squeeze(0) if unbatched else out


def adaptive_avg_pool1d(input, output_size):
    """Over (N, C, L) or (C, L): the 2-D adaptive average over a height of one."""
    size = output_size[0] if isinstance(output_size, (tuple, list)) else output_size
    return adaptive_avg_pool2d(_one_d(input, "adaptive_avg_pool1d"), (1, size)).squeeze(-2)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    size = output_size[0] if isinstance(output_size, (tuple, list)) else output_size
    out = adaptive_max_pool2d(_one_d(input, "adaptive_max_pool1d"), (1, size), return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)
