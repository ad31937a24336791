"""The 3-D layers (torch.nn's names, arguments, init and reprs): Conv3d, ConvTranspose3d,
MaxPool3d, AvgPool3d, AdaptiveAvgPool3d, AdaptiveMaxPool3d, BatchNorm3d, InstanceNorm3d and
the 3-D padding layers, over (N, C, D, H, W) (or unbatched (C, D, H, W)). They share the 2-D
layers' argument checks and reprs; the ops are fastnn/ops/volumetric.py."""
from fastnn.nn.conv import (AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, MaxPool2d, _ConvNd,
                            _ConvTransposeNd)
from fastnn.nn.normalization import _InstanceNorm
from fastnn.nn.padding import CircularPad2d, ConstantPad2d, ReflectionPad2d, ReplicationPad2d
from fastnn.nn.pooling import AdaptiveMaxPool2d
from fastnn.ops import pad, volumetric


class Conv3d(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(volumetric._triple, in_channels, out_channels, kernel_size, stride,
                         padding, dilation, groups, bias, padding_mode, device, dtype)

    def forward(self, input):
        if self.padding_mode != "zeros" and self.padding not in ("valid", (0, 0, 0)):
            (front, back), (top, bottom), (left, right) = self._explicit_padding()
            padded = pad.pad(input, (left, right, top, bottom, front, back),
                             mode=self.padding_mode)
            return volumetric.conv3d(padded, self.weight, self.bias, self.stride, 0,
                                     self.dilation, self.groups)
        return volumetric.conv3d(input, self.weight, self.bias, self.stride, self.padding,
                                 self.dilation, self.groups)


class ConvTranspose3d(_ConvTransposeNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(volumetric._triple, in_channels, out_channels, kernel_size, stride,
                         padding, output_padding, groups, bias, dilation, padding_mode, device,
                         dtype)

    def forward(self, input, output_size=None):
        output_padding = self._output_padding(input, output_size, 3)
        return volumetric.conv_transpose3d(input, self.weight, self.bias, self.stride,
                                           self.padding, output_padding, self.groups,
                                           self.dilation)


class MaxPool3d(MaxPool2d):
    def forward(self, input):
        return volumetric.max_pool3d(input, self.kernel_size, self.stride, self.padding,
                                     self.dilation, self.ceil_mode, self.return_indices)


class AvgPool3d(AvgPool2d):
    def forward(self, input):
        return volumetric.avg_pool3d(input, self.kernel_size, self.stride, self.padding,
                                     self.ceil_mode, self.count_include_pad,
                                     self.divisor_override)


class AdaptiveAvgPool3d(AdaptiveAvgPool2d):
    def forward(self, input):
        return volumetric.adaptive_avg_pool3d(input, self.output_size)


class AdaptiveMaxPool3d(AdaptiveMaxPool2d):
    def forward(self, input):
        return volumetric.adaptive_max_pool3d(input, self.output_size, self.return_indices)


class BatchNorm3d(BatchNorm2d):
    def _check_input_dim(self, input):
        if input.ndim != 5:
            raise ValueError(f"expected 5D input (got {input.ndim}D input)")


class InstanceNorm3d(_InstanceNorm):
    _dims = 3


class ConstantPad3d(ConstantPad2d):
    dims = 3


class ZeroPad3d(ConstantPad3d):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad3d(ReflectionPad2d):
    dims = 3


class ReplicationPad3d(ReplicationPad2d):
    dims = 3


class CircularPad3d(CircularPad2d):
    dims = 3
