"""Convolution, pooling and batch-norm layers (torch.nn names, defaults, init and reprs)."""

import numpy as np

from fastnn import creation
from fastnn.nn import init
from fastnn.nn.module import Module, factory_kwargs
from fastnn.nn.parameter import Parameter
from fastnn.ops import batchnorm, conv, conv_transpose, pad, pool

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What Conv1d and Conv2d share: torch's argument checks, parameters, init and repr; `size`
    turns an int or tuple into this dimensionality's tuple."""

    def __init__(self, size, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, padding_mode, device, dtype, transposed=False, output_padding=0):
        super().__init__()
        if groups < 1 or in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {list(PADDING_MODES)}, but got "
                             f"padding_mode='{padding_mode}'")
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                             "{'valid', 'same'}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = size(kernel_size, "kernel_size")
        self.stride = size(stride, "stride")
        self.padding = padding if isinstance(padding, str) else size(padding, "padding")
        self.dilation = size(dilation, "dilation")
        if self.padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError("padding='same' is not supported for strided convolutions")
        self.groups, self.padding_mode = groups, padding_mode
        self.transposed, self.output_padding = transposed, size(output_padding, "output_padding")
        # a transposed convolution's weight is (in, out / groups, *kernel), as torch's
        leading = ((in_channels, out_channels // groups) if transposed
                   else (out_channels, in_channels // groups))
        self.weight = Parameter(np.empty(leading + self.kernel_size, dtype=np.float32))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype=np.float32))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        factory_kwargs(self, device, dtype)

    def reset_parameters(self):
        init.default_(self.weight, self.bias)

    def _explicit_padding(self):
        """(before, after) per spatial dim for a padding_mode other than zeros."""
        if self.padding == "same":
            return conv.same_padding(self.kernel_size, self.dilation, self.stride)
        return tuple((p, p) for p in self.padding)

    def extra_repr(self):
        ones, zeros = (1,) * len(self.kernel_size), (0,) * len(self.kernel_size)
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != zeros:
            s += f", padding={self.padding}"  # torch prints padding=same unquoted
        if self.dilation != ones:
            s += f", dilation={self.dilation}"
        if self.output_padding != zeros:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(conv.pair, in_channels, out_channels, kernel_size, stride, padding,
                         dilation, groups, bias, padding_mode, device, dtype)

    def forward(self, input, relu=False):
        """relu=True (used by Sequential for a Conv2d followed by a ReLU) fuses the ReLU."""
        if self.padding_mode != "zeros" and self.padding not in ("valid", (0, 0)):
            (top, bottom), (left, right) = self._explicit_padding()
            padded = pad.pad(input, (left, right, top, bottom), mode=self.padding_mode)
            return conv.conv2d_maybe_relu(padded, self.weight, self.bias, self.stride, 0,
                                          self.dilation, self.groups, relu)
        return conv.conv2d_maybe_relu(input, self.weight, self.bias, self.stride, self.padding,
                                      self.dilation, self.groups, relu)


def _single(value, name):
    return (conv._single(value, name),)


class Conv1d(_ConvNd):
    """torch.nn.Conv1d: over (N, C, L) or (C, L) input (F.conv1d, a conv2d of height one)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(_single, in_channels, out_channels, kernel_size, stride, padding,
                         dilation, groups, bias, padding_mode, device, dtype)

    def forward(self, input):
        if self.padding_mode != "zeros" and self.padding not in ("valid", (0,)):
            (left, right), = self._explicit_padding()
            padded = pad.pad(input, (left, right), mode=self.padding_mode)
            return conv.conv1d(padded, self.weight, self.bias, self.stride, 0, self.dilation,
                               self.groups)
        return conv.conv1d(input, self.weight, self.bias, self.stride, self.padding,
                           self.dilation, self.groups)


class _ConvTransposeNd(_ConvNd):
    def __init__(self, size, in_channels, out_channels, kernel_size, stride, padding,
                 output_padding, groups, bias, dilation, padding_mode, device, dtype):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        super().__init__(size, in_channels, out_channels, kernel_size, stride, padding,
                         dilation, groups, bias, padding_mode, device, dtype, transposed=True,
                         output_padding=output_padding)

    def _output_padding(self, input, output_size, spatial):
        """torch's: the output_padding that gives output_size, which must lie within one
        stride of the smallest size these arguments produce."""
        if output_size is None:
            return self.output_padding
        if len(output_size) == spatial + 2 or (len(output_size) == spatial + 1
                                               and input.ndim == spatial + 1):
            output_size = output_size[-spatial:]
        if len(output_size) != spatial:
            raise ValueError(f"ConvTranspose{spatial}D: for {input.ndim}D input, output_size "
                             f"must have {spatial} or {spatial + 2} elements (got "
                             f"{len(output_size)})")
        sizes = input.shape[-spatial:]
        smallest = [(sizes[d] - 1) * self.stride[d] - 2 * self.padding[d]
                    + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(spatial)]
        largest = [smallest[d] + self.stride[d] - 1 for d in range(spatial)]
        for d in range(spatial):
            if not smallest[d] <= output_size[d] <= largest[d]:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes "
                                 f"range from {smallest} to {largest} (for an input of "
                                 f"{sizes})")
        return tuple(output_size[d] - smallest[d] for d in range(spatial))


class ConvTranspose2d(_ConvTransposeNd):
    """The adjoint of Conv2d (fastnn/ops/conv_transpose.py): upsampling in DCGAN generators
    and U-Nets. Weight (in_channels, out_channels / groups, kH, kW)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(conv.pair, in_channels, out_channels, kernel_size, stride, padding,
                         output_padding, groups, bias, dilation, padding_mode, device, dtype)

    def forward(self, input, output_size=None):
        output_padding = self._output_padding(input, output_size, 2)
        return conv_transpose.conv_transpose2d(input, self.weight, self.bias, self.stride,
                                               self.padding, output_padding, self.groups,
                                               self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(_single, in_channels, out_channels, kernel_size, stride, padding,
                         output_padding, groups, bias, dilation, padding_mode, device, dtype)

    def forward(self, input, output_size=None):
        output_padding = self._output_padding(input, output_size, 1)
        return conv_transpose.conv_transpose1d(input, self.weight, self.bias, self.stride,
                                               self.padding, output_padding, self.groups,
                                               self.dilation)


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return pool.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                               self.ceil_mode, self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return pool.avg_pool2d(input, self.kernel_size, self.stride, self.padding,
                               self.ceil_mode, self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return pool.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


def register_running_stats(module, num_features, track):
    """running_mean (zeros), running_var (ones) and num_batches_tracked buffers, or None
    entries for the first two when not tracked (torch's batch and instance norms)."""
    if track:
        module.register_buffer("running_mean", creation.zeros(num_features))
        module.register_buffer("running_var", creation.ones(num_features))
        module.register_buffer("num_batches_tracked", creation.tensor(0))
    else:
        module.register_buffer("running_mean", None)
        module.register_buffer("running_var", None)


class BatchNorm2d(Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.use_bias = bias
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=np.float32))
            if bias:
                self.bias = Parameter(np.zeros(num_features, dtype=np.float32))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        register_running_stats(self, num_features, track_running_stats)
        factory_kwargs(self, device, dtype)

    def _check_input_dim(self, input):
        if input.ndim != 4:
            raise ValueError(f"expected 4D input (got {input.ndim}D input)")

    def forward(self, input):
        self._check_input_dim(input)
        if input.shape[1] != self.num_features:
            raise RuntimeError(f"running_mean should contain {input.shape[1]} elements not "
                               f"{self.num_features}")
        training = self.training or not self.track_running_stats
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data[...] += 1
            if self.momentum is None:  # a cumulative moving average, as torch's
                momentum = 1.0 / float(self.num_batches_tracked._data)
        return batchnorm.batch_norm(input, self.running_mean if self.track_running_stats else None,
                                    self.running_var if self.track_running_stats else None,
                                    self.weight, self.bias, training, momentum, self.eps)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            self.weight._data[...] = 1
            if self.bias is not None:
                self.bias._data[...] = 0

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.use_bias}, "
                f"track_running_stats={self.track_running_stats}")
