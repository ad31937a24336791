"""conv2d with PyTorch's semantics: (N, C, H, W) or unbatched (C, H, W) input, int or pair
arguments, padding as ints or 'same'/'valid', groups, dilation, and PyTorch's error messages.
Output size per axis: floor((I + 2P - D(K - 1) - 1) / S) + 1."""
import numpy as np

from fastnn import backend, memory_formats
from fastnn.autograd.function import Function
from fastnn.ops.float32_kernels import float32_kernel
from fastnn.ops.lowp import lower_precision_args


def pair(value, name):
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


class DtypeMismatch(RuntimeError, TypeError):
    """torch raises RuntimeError for a convolution's wrong input dtype; it stays a TypeError
    for code that caught fastnn's earlier one."""


def _check_input(x, op):
    if x.dtype != np.float32 and x.dtype != np.float64:
        raise DtypeMismatch(f"{op} expects a float32 or float64 input, got {x.dtype}")
    if x.ndim not in (3, 4):
        raise RuntimeError(f"Expected 3D (unbatched) or 4D (batched) input to {op}, but got "
                           f"input of size: {list(x.shape)}")


def batched_input(input, weight, op, weight_layout):
    """(input as a batch, whether it was unbatched) after the input and 4-D weight checks of a
    2-D convolution (`weight_layout` names the weight's first two dimensions)."""
    _check_input(input._data, op)
    unbatched = input.ndim == 3
    if unbatched:
        input = input.unsqueeze(0)
    if weight.ndim != 4:
        raise RuntimeError(f"weight must be 4-D ({weight_layout}, kH, kW), got "
                           f"{list(weight.shape)}")
    return input, unbatched


def conv_shape(x, weight, stride, padding, dilation, groups):
    """The shape tuple the kernels take, after PyTorch's checks."""
    n, c, h, w = x.shape
    oc, cpg, kh, kw = weight.shape
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    if min(sh, sw) < 1:
        raise RuntimeError("non-positive stride is not supported")
    if min(dh, dw) < 1:
        raise RuntimeError("dilation should be greater than zero")
    if min(ph, pw) < 0:
        raise RuntimeError("negative padding is not supported")
    if groups < 1 or c % groups or oc % groups:
        raise RuntimeError(f"groups must be a positive divisor of in_channels ({c}) and "
                           f"out_channels ({oc}), got {groups}")
    if c != cpg * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, "
                           f"expected input{list(x.shape)} to have {cpg * groups} channels, "
                           f"but got {c} channels instead")
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if h + 2 * ph < eh or w + 2 * pw < ew:
        raise RuntimeError(f"Calculated padded input size per channel: ({h + 2 * ph} x "
                           f"{w + 2 * pw}). Kernel size: ({eh} x {ew}). Kernel size can't be "
                           "greater than actual input size")
    oh = (h + 2 * ph - eh) // sh + 1
    ow = (w + 2 * pw - ew) // sw + 1
    return (n, c, h, w, oc, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, groups)


def kernel_dtype(x):
    """The dtype the convolution and pooling kernels compute an array of x's dtype in:
    float64 on the reference kernels (kernels_for), float32 otherwise."""
    return np.float64 if x.dtype == np.float64 else np.float32


def kernels_for(x):
    """The kernels a convolution of array x runs on: the backend's (float32), or for float64
    the NumPy reference computing in float64, as torch's double convolutions do (a
    double-precision gradcheck of a convolution needs that precision)."""
    if x.dtype == np.float64:
        from fastnn.backend import reference_conv
        return reference_conv
    return backend


class Conv2d(Function):
    """With relu=True this is relu(conv2d(...)) in one op: the ReLU runs in the kernel's
    epilogue and backward masks the gradient with the saved output (Sequential uses it for a
    Conv2d followed by a ReLU, as it does for Linear)."""
    backward_name = "ConvolutionBackward0"


    @staticmethod
    def forward(ctx, x, weight, bias, shape, relu):
        source, x = x, np.ascontiguousarray(x)
        dtype = x.dtype  # float32, or float64 on the reference kernels (kernels_for)
        weight = np.ascontiguousarray(weight, dtype=dtype)
        bias = None if bias is None else np.ascontiguousarray(bias, dtype=dtype)
        n, _, _, _, oc, oh, ow = shape[:7]
        y = np.empty((n, oc, oh, ow), dtype=dtype)
        kernels_for(x).conv2d_forward(x, weight, bias, y, shape, relu)
        ctx.save_for_backward(x, weight, y if relu else None)
        ctx.shape = shape
        return memory_formats.like(source, y)  # channels_last in, channels_last out

    @staticmethod
    def backward(ctx, g):
        x, weight, relu_output = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gx = np.empty_like(x) if need_x else None
        gw = np.empty_like(weight) if need_w else None
        gb = np.empty(weight.shape[0], dtype=x.dtype) if need_b else None
        kernels_for(x).conv2d_backward(x, weight, np.ascontiguousarray(g, dtype=x.dtype), gx, gw,
                                       gb, ctx.shape, relu_output)
        return gx, gw, gb, None, None


def same_padding(kernel, dilation, stride):
    if any(s != 1 for s in stride):
        raise ValueError("padding='same' is not supported for strided convolutions")
    # total padding d(k-1) per axis, the extra one (even kernels) on the bottom/right, as torch
    return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation))


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return conv2d_maybe_relu(input, weight, bias, stride, padding, dilation, groups, relu=False)


def conv2d_relu(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """relu(conv2d(...)) as one fused op."""
    return conv2d_maybe_relu(input, weight, bias, stride, padding, dilation, groups, relu=True)


@lower_precision_args
@float32_kernel(native=(np.float64,))
def conv2d_maybe_relu(input, weight, bias, stride, padding, dilation, groups, relu):
    from fastnn.ops.pad import pad as pad_op
    input, unbatched = batched_input(input, weight, "conv2d", "out_channels, in_channels/groups")
    stride, dilation = pair(stride, "stride"), pair(dilation, "dilation")
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            sides = same_padding(kernel, dilation, stride)
            if any(lo != hi for lo, hi in sides):  # asymmetric: pad the extra row/column first
                input = pad_op(input, (0, sides[1][1] - sides[1][0], 0, sides[0][1] - sides[0][0]))
            padding = (sides[0][0], sides[1][0])
        else:
            raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                             "{'valid', 'same'}")
    else:
        padding = pair(padding, "padding")
    shape = conv_shape(input._data, weight._data, stride, padding, dilation, groups)
    live = live_taps(shape)
    if live is not None:  # taps that read only padding: the same convolution without them
        (top, bottom), (left, right) = live
        weight = weight[:, :, top:bottom, left:right]
        padding = (padding[0] - top * dilation[0], padding[1] - left * dilation[1])
        shape = conv_shape(input._data, weight._data, stride, padding, dilation, groups)
    out = Conv2d.apply(input, weight, bias, shape, relu)
    return out.squeeze(0) if unbatched else out


def _live_range(size, out, k, stride, pad, dilation):
    """The taps [lo, hi) of one axis that read a real input element for some output."""
    live = [i for i in range(k)
            if any(0 <= o * stride + i * dilation - pad < size for o in range(out))]
    return (live[0], live[-1] + 1) if live else (0, k)


def live_taps(shape):
    """((top, bottom), (left, right)): the filter window whose taps read the input, when a
    border of taps reads only padding for every output pixel (a 3x3 filter with padding 1 on
    a 1 x 1 image reads real pixels through its centre only: resnet18's last stage on 32 x 32
    inputs did 9 times its work); None when every tap is live, or when the smaller window
    would not give the same output size with symmetric padding."""
    n, c, h, w, oc, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, groups = shape
    if oh * ow > 64 or (ph == 0 and pw == 0):  # (a large output has every tap live)
        return None
    rows = _live_range(h, oh, kh, sh, ph, dh)
    cols = _live_range(w, ow, kw, sw, pw, dw)
    if rows == (0, kh) and cols == (0, kw):
        return None
    for (lo, hi), size, out, stride, pad, dilation in ((rows, h, oh, sh, ph, dh),
                                                     (cols, w, ow, sw, pw, dw)):
        new_pad = pad - lo * dilation
        if new_pad < 0 or (size + 2 * new_pad - dilation * (hi - lo - 1) - 1) // stride + 1 != out:
            return None
    return rows, cols


def as_one_convolution(out):
    """A 1-D convolution's output (the 2-D one's, squeezed) with torch's grad_fn name: torch's
    squeeze happens inside its one ConvolutionBackward0 node."""
    from fastnn.autograd.function import presented
    return presented(out, "ConvolutionBackward0")


def _single(value, name):
    """An int or a 1-tuple, as conv1d takes its sizes."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"{name} must be an int or a 1-tuple of ints, got {value}")
        return int(value[0])
    return int(value)


def check_one_d(input, weight, op, weight_layout):
    """The input and weight checks of a 1-D convolution (`weight_layout` names the weight's
    first two dimensions)."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2D (unbatched) or 3D (batched) input to {op}, but got "
                           f"input of size: {list(input.shape)}")
    if weight.ndim != 3:
        raise RuntimeError(f"weight must be 3-D ({weight_layout}, K), got "
                           f"{list(weight.shape)}")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """torch.nn.functional.conv1d as conv2d over a height of one: (N, C, L) or (C, L) input,
    (out_channels, in_channels / groups, K) weight; padding an int, a 1-tuple, 'same' or
    'valid'."""
    check_one_d(input, weight, "conv1d", "out_channels, in_channels/groups")
    channels = input.shape[-2]
    if channels != weight.shape[1] * groups:
        batch = list(input.shape) if input.ndim == 3 else [1] + list(input.shape)
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, "
                           f"expected input{batch} to have {weight.shape[1] * groups} channels, "
                           f"but got {channels} channels instead")
    pad2 = padding if isinstance(padding, str) else (0, _single(padding, "padding"))
    out = conv2d(input.unsqueeze(-2), weight.unsqueeze(2), bias, (1, _single(stride, "stride")),
                 pad2, (1, _single(dilation, "dilation")), groups)
    return as_one_convolution(out.squeeze(-2))
