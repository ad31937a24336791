"""conv_transpose2d / conv_transpose1d with torch's signatures, shapes and errors, on the
compiled convolution kernels.

A transposed convolution is the adjoint of a convolution: with weight w of shape
(C_in, C_out / groups, kH, kW), conv_transpose2d(x, w) is the input gradient of conv2d(., w)
taken at grad_output = x (Dumoulin & Visin 2016, "A guide to convolution arithmetic", ch. 4).
So its forward is conv2d's backward-data kernel, its input gradient is conv2d's forward
kernel, and its weight gradient is conv2d's weight-gradient kernel with the roles of input
and grad_output exchanged. Output size per axis:
    (I - 1) * S - 2P + D(K - 1) + output_padding + 1."""
import numpy as np

from fastnn import backend
from fastnn.autograd.function import Function
from fastnn.ops.conv import (_single, as_one_convolution, batched_input, check_one_d,
                             conv_shape, kernels_for, pair)
from fastnn.ops.float32_kernels import float32_kernel
from fastnn.ops.lowp import lower_precision_args


def _windows(padded, shape):
    """The (N, H, W, C_out, kH, kW) view of the padded output-sized array that each input
    pixel's kernel window covers (im2col without a copy)."""
    n, c, _, _, _, h, w, kh, kw, sh, sw, _, _, dh, dw = shape[:15]
    sn, sc, sy, sx = padded.strides
    return np.lib.stride_tricks.as_strided(padded, (n, h, w, c, kh, kw),
                                           (sn, sh * sy, sw * sx, sc, dh * sy, dw * sx),
                                           writeable=padded.flags.writeable)


def _padded(array, shape):
    ph, pw = shape[11:13]
    return np.pad(array, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else array


def _pixels(x):
    """(N, C, H, W) -> (N*H*W, C) rows, one per input pixel."""
    n, c, h, w = x.shape
    return x.transpose(0, 2, 3, 1).reshape(n * h * w, c)


# Inputs of at most this many pixels per channel (groups == 1) run the backward passes as one
# GEMM over all pixels plus a gather of the output gradient's kernel windows (PyTorch's
# slow_conv_transpose2d: GEMM then col2im). Measured at 1 thread on DCGAN's generator layers,
# batch 64, fwd / grad input / grad weight in ms, GEMM + NumPy window copies against the direct
# kernels (Zen 4, after the strided passes moved to conv_phased.c, issue 12):
#   (100,1,1)->512 k4:        2.8 / 3.2 / 2.9    against  24.9 / 16.8 / 30.9
#   (512,2,2)->256 k4 s2 p1:  15.9 / 18.8 / 12.8  against  14.7 / 14.6 / 128
#   (512,4,4)->256 k4 s2 p1:  63.5 / 66.2 / 53.4  against  48.8 / 93.9 / 155
#   (256,8,8)->128 k4 s2 p1:  60.0 / 50.4 / 63.5  against  63.2 / 47.2 / 55.6
# (at 2 threads the (512,4,4) forward: 39.8 against 23.4). The forward's col2im is a NumPy
# scatter of overlapping windows, so beyond one pixel (where the windows do not overlap) the
# direct kernel's compiled col2im wins it; the backward passes share one im2col of the
# gradient, and the weight gradient's single GEMM over all pixels beats per-image sums.
GEMM_MAX_PIXELS = 16
FORWARD_GEMM_MAX_PIXELS = 1


def _by_gemm(x, shape, forward=False):
    limit = FORWARD_GEMM_MAX_PIXELS if forward else GEMM_MAX_PIXELS
    return shape[15] == 1 and x.shape[2] * x.shape[3] <= limit


class ConvTranspose2d(Function):
    backward_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, shape):
        # shape describes the adjoint convolution: its input is this op's output
        n, c_out, h_out, w_out = shape[:4]
        ph, pw = shape[11:13]
        x = np.ascontiguousarray(x)
        dtype = x.dtype  # float32, or float64 on the reference kernels (conv.kernels_for)
        weight = np.ascontiguousarray(weight, dtype=dtype)
        if dtype == np.float32 and _by_gemm(x, shape, forward=True):
            c_in, _, kh, kw = weight.shape
            cols = backend.gemm(_pixels(x), weight.reshape(c_in, -1))
            padded = np.zeros((n, c_out, h_out + 2 * ph, w_out + 2 * pw), np.float32)
            windows = _windows(padded, shape)
            cols = cols.reshape(windows.shape)
            for i in range(kh):  # col2im: each kernel tap adds its plane at its offset
                for j in range(kw):
                    windows[..., i, j] += cols[..., i, j]
            y = np.ascontiguousarray(padded[:, :, ph:ph + h_out, pw:pw + w_out])
        else:
            y = np.empty((n, c_out, h_out, w_out), dtype=dtype)
            # conv2d's backward reads its input only for the weight gradient, not requested
            # here; an allocated array of the right shape keeps its checks in bounds
            kernels_for(x).conv2d_backward(np.empty_like(y), weight, x, y, None, None, shape)
        if bias is not None:
            y += np.asarray(bias, dtype=dtype).reshape(1, -1, 1, 1)
        ctx.save_for_backward(x, weight)
        ctx.shape = shape
        return y

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        g = np.ascontiguousarray(g, dtype=x.dtype)
        gx = gw = gb = None
        if x.dtype == np.float32 and _by_gemm(x, ctx.shape) and (need_x or need_w):
            c_in = weight.shape[0]
            n, _, h, w = x.shape
            cols = np.ascontiguousarray(_windows(_padded(g, ctx.shape), ctx.shape))
            cols = cols.reshape(n * h * w, -1)  # im2col of the output gradient
            if need_x:
                gx = backend.gemm(cols, weight.reshape(c_in, -1).T)
                gx = np.ascontiguousarray(gx.reshape(n, h, w, c_in).transpose(0, 3, 1, 2))
            if need_w:
                gw = backend.gemm(_pixels(x).T, cols).reshape(weight.shape)
            need_x = need_w = False
        if need_x:
            gx = np.empty_like(x)
            kernels_for(x).conv2d_forward(g, weight, None, gx, ctx.shape)
        if need_w:
            gw = np.empty_like(weight)
            kernels_for(x).conv2d_backward(g, weight, x, None, gw, None, ctx.shape)
        if need_b:
            gb = g.sum(axis=(0, 2, 3), dtype=np.float64).astype(x.dtype)
        return gx, gw, gb, None


def _output_size(size, kernel, stride, padding, dilation, output_padding):
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


@lower_precision_args
@float32_kernel(native=(np.float64,))
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    input, unbatched = batched_input(input, weight, "conv_transpose2d",
                                     "in_channels, out_channels/groups")
    stride, padding = pair(stride, "stride"), pair(padding, "padding")
    dilation, output_padding = pair(dilation, "dilation"), pair(output_padding, "output_padding")
    n, c, h, w = input.shape
    c_in, c_out_group, kh, kw = weight.shape
    if min(stride) < 1:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) < 1:
        raise RuntimeError("dilation should be greater than zero")
    if min(padding) < 0:
        raise RuntimeError("negative padding is not supported")
    if min(output_padding) < 0:
        raise RuntimeError("negative output_padding is not supported")
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(
            f"output padding must be smaller than either stride or dilation, but got "
            f"output_padding_height: {output_padding[0]} output_padding_width: "
            f"{output_padding[1]} stride_height: {stride[0]} stride_width: {stride[1]} "
            f"dilation_height: {dilation[0]} dilation_width: {dilation[1]}")
    if groups < 1 or c_in % groups:
        raise RuntimeError(f"groups must be a positive divisor of the weight's first "
                           f"dimension ({c_in}), got {groups}")
    if c != c_in:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"input{list(input.shape)} to have {c_in} channels, but got {c} "
                           "channels instead")
    if bias is not None and tuple(bias.shape) != (c_out_group * groups,):
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"bias to be 1-dimensional with {c_out_group * groups} elements, "
                           f"but got bias of size {list(bias.shape)} instead")
    out_hw = tuple(_output_size(i, k, s, p, d, op) for i, k, s, p, d, op in
                   zip((h, w), (kh, kw), stride, padding, dilation, output_padding))
    if min(out_hw) < 1:
        raise RuntimeError(f"Given input size per channel: ({h} x {w}). Calculated output size "
                           f"per channel: ({out_hw[0]} x {out_hw[1]}). Output size is too small")
    # An output_padding of at least the stride (allowed below the dilation) makes the adjoint
    # convolution's output longer than the input by output_padding // stride; those positions
    # take no part in this op, so the input gets that many zero rows/columns at the end.
    extra = [op // s for op, s in zip(output_padding, stride)]
    if any(extra):
        from fastnn.ops.pad import pad as pad_op
        input = pad_op(input, (0, extra[1], 0, extra[0]))
    adjoint_input = np.lib.stride_tricks.as_strided(np.empty(1, np.float32),
                                                    (n, c_out_group * groups) + out_hw,
                                                    (0, 0, 0, 0), writeable=False)
    shape = conv_shape(adjoint_input, weight._data, stride, padding, dilation, groups)
    out = ConvTranspose2d.apply(input, weight, bias, shape)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """conv_transpose2d over a height of one: (N, C, L) or (C, L) input."""
    check_one_d(input, weight, "conv_transpose1d", "in_channels, out_channels/groups")
    out = conv_transpose2d(input.unsqueeze(-2), weight.unsqueeze(2), bias,
                           (1, _single(stride, "stride")), (0, _single(padding, "padding")),
                           (0, _single(output_padding, "output_padding")), groups,
                           (1, _single(dilation, "dilation")))
    return as_one_convolution(out.squeeze(-2))
