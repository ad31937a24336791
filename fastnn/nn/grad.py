"""torch.nn.grad (also torch.nn.functional.grad): a convolution's input and weight gradients
from the gradient of its output, given the other operand's shape.

Outside a graph (no operand needing a gradient, or grad mode off) the 2-D and 1-D cases call
the compiled backward kernels directly, as torch's convolution_backward does. Otherwise, and
for 3-D, the gradient is autograd's of the convolution at a zero operand of the given shape:
the convolution is linear in each operand, so that gradient does not depend on the zeros, and
create_graph keeps it differentiable in the other operand and in grad_output."""
import numpy as np

from fastnn.autograd import grad_mode


def _shape(size):
    return tuple(int(s) for s in size)


def _through_autograd(conv, input, weight, grad_output, wrt, stride, padding, dilation, groups):
    """autograd's gradient of conv(input, weight) with respect to `wrt` (one of the two)."""
    from fastnn.autograd.engine import grad as autograd_grad
    with grad_mode.enable_grad():
        output = conv(input, weight, None, stride, padding, dilation, groups)
        _check_output(output.shape, grad_output)
        create = any(t.requires_grad for t in (input, weight, grad_output) if t is not wrt)
        (result,) = autograd_grad(output, wrt, grad_output, create_graph=create)
    return result if create else result.detach()


def _check_output(expected, grad_output):
    if tuple(grad_output.shape) != tuple(expected):
        raise RuntimeError(f"grad_output has size {list(grad_output.shape)}, but the "
                           f"convolution's output has size {list(expected)}")


def _kernel_path(*tensors):
    """Whether the result needs no graph (so the backward kernel can run on arrays)."""
    return not (grad_mode.is_grad_enabled() and any(t.requires_grad for t in tensors))


def _conv2d_backward_arrays(x, w, grad_output, stride, padding, dilation, groups, want_input):
    from fastnn import backend
    from fastnn.ops.conv import conv_shape, pair
    shape = conv_shape(x, w, pair(stride, "stride"), pair(padding, "padding"),
                       pair(dilation, "dilation"), int(groups))
    n, _, _, _, oc, oh, ow = shape[:7]
    _check_output((n, oc, oh, ow), grad_output)
    g = np.ascontiguousarray(grad_output._data, dtype=np.float32)
    gx = np.empty(x.shape, np.float32) if want_input else None
    gw = None if want_input else np.empty(w.shape, np.float32)
    backend.conv2d_backward(x, w, g, gx, gw, None, shape)
    return gx if want_input else gw


def _conv_input(dims, input_size, weight, grad_output, stride, padding, dilation, groups):
    from fastnn.creation import zeros
    from fastnn.nn import functional as F
    from fastnn.tensor import Tensor
    input_size = _shape(input_size)
    if dims < 3 and len(input_size) == dims + 2 and weight.ndim == dims + 2 \
            and _kernel_path(weight, grad_output) and weight._data.dtype == np.float32 \
            and grad_output._data.dtype == np.float32:
        w, g, size = np.ascontiguousarray(weight._data), grad_output, input_size
        if dims == 1:  # a 1-D convolution is a 2-D one over a height of one
            w, g = w[:, :, None, :], g.unsqueeze(-2)
            size = input_size[:-1] + (1,) + input_size[-1:]
            stride, padding, dilation = (1, _one(stride)), (0, _one(padding)), (1, _one(dilation))
        # The input's values are never read when only its gradient is asked for.
        gx = _conv2d_backward_arrays(np.empty(size, np.float32), w, g, stride, padding,
                                     dilation, groups, want_input=True)
        return Tensor(gx.reshape(input_size))
    x = zeros(input_size, dtype=weight.dtype, requires_grad=True)
    conv = (F.conv1d, F.conv2d, F.conv3d)[dims - 1]
    return _through_autograd(conv, x, weight, grad_output, x, stride, padding, dilation, groups)


def _conv_weight(dims, input, weight_size, grad_output, stride, padding, dilation, groups):
    from fastnn.creation import zeros
    from fastnn.nn import functional as F
    from fastnn.tensor import Tensor
    weight_size = _shape(weight_size)
    if dims < 3 and input.ndim == dims + 2 and len(weight_size) == dims + 2 \
            and _kernel_path(input, grad_output) and input._data.dtype == np.float32 \
            and grad_output._data.dtype == np.float32:
        x, g, size = np.ascontiguousarray(input._data), grad_output, weight_size
        if dims == 1:
            x, g = x[:, :, None, :], g.unsqueeze(-2)
            size = weight_size[:-1] + (1,) + weight_size[-1:]
            stride, padding, dilation = (1, _one(stride)), (0, _one(padding)), (1, _one(dilation))
        # The weight's values are never read when only its gradient is asked for.
        gw = _conv2d_backward_arrays(x, np.empty(size, np.float32), g, stride, padding,
                                     dilation, groups, want_input=False)
        return Tensor(gw.reshape(weight_size))
    w = zeros(weight_size, dtype=input.dtype, requires_grad=True)
    conv = (F.conv1d, F.conv2d, F.conv3d)[dims - 1]
    return _through_autograd(conv, input, w, grad_output, w, stride, padding, dilation, groups)


def _one(value):
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"expected an int or a 1-tuple of ints, got {value}")
        return int(value[0])
    return int(value)


def conv1d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv1d with respect to its input, of shape `input_size`."""
    return _conv_input(1, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv1d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv1d with respect to its weight, of shape `weight_size`."""
    return _conv_weight(1, input, weight_size, grad_output, stride, padding, dilation, groups)


def conv2d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv2d with respect to its input, of shape `input_size`."""
    return _conv_input(2, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv2d with respect to its weight, of shape `weight_size`."""
    return _conv_weight(2, input, weight_size, grad_output, stride, padding, dilation, groups)


def conv3d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv3d with respect to its input, of shape `input_size`."""
    return _conv_input(3, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv3d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv3d with respect to its weight, of shape `weight_size`."""
    return _conv_weight(3, input, weight_size, grad_output, stride, padding, dilation, groups)
