"""Lazy layers (torch.nn.LazyLinear, LazyConv1d/2d, LazyBatchNorm1d/2d): the input size is
read from the first batch. d2l's chapters build most of their models this way, and create the
optimizer before that first batch, so a parameter is materialised in place: the same object
the optimizer holds gets its shape and values, then becomes a plain Parameter, and the module
becomes the layer it stands for (torch's cls_to_become)."""
import numpy as np

from fastnn import creation
from fastnn.autograd.grad_mode import no_grad
from fastnn.dtypes import numpy_dtype
from fastnn.nn.conv import (BatchNorm2d, Conv1d, Conv2d, ConvTranspose1d,
                            ConvTranspose2d)
from fastnn.nn.layers import Linear
from fastnn.nn.module import Module
from fastnn.nn.normalization import BatchNorm1d, InstanceNorm1d, InstanceNorm2d
from fastnn.nn.parameter import Parameter


class UninitializedParameter(Parameter):
    """A parameter without a shape yet; materialize(shape) gives it one, in place."""

    __slots__ = ()
    cls_to_become = Parameter

    def __init__(self, requires_grad=True, device=None, dtype=None):
        super().__init__(np.empty(0, dtype=np.float32), requires_grad=requires_grad)
        if dtype is not None:
            self._data = self._data.astype(numpy_dtype(dtype))

    def materialize(self, shape, device=None, dtype=None):
        dtype = self._data.dtype if dtype is None else numpy_dtype(dtype)
        self._data = np.empty(tuple(shape), dtype=dtype)
        self.__class__ = self.cls_to_become

    def __repr__(self):
        return "<UninitializedParameter>"


def is_lazy(param):
    return isinstance(param, UninitializedParameter)


class LazyModuleMixin:
    """Runs initialize_parameters(*inputs) before the first forward, then turns the module
    into cls_to_become."""

    cls_to_become = None

    def has_uninitialized_params(self):
        return any(is_lazy(p) for p in self._parameters.values())

    def __call__(self, *args, **kwargs):
        if self.has_uninitialized_params():
            with no_grad():
                self.initialize_parameters(*args, **kwargs)
        elif self.cls_to_become is not None:  # shaped by load_state_dict
            self._sizes_from_loaded()
        if not self.has_uninitialized_params() and self.cls_to_become is not None:
            self.__class__ = self.cls_to_become
        return Module.__call__(self, *args, **kwargs)  # (this class may have become another)

    def _lazy_load_hook(self, state_dict, prefix):
        """torch's load into a lazy module: each parameter still without a shape takes the
        checkpoint's, and so do the empty running statistics beside it. As in torch, the
        module stays lazy (and its in_features 0) until its first call."""
        if not self.has_uninitialized_params():
            return
        for name, param in self._parameters.items():
            value = state_dict.get(prefix + name)
            if is_lazy(param) and value is not None:
                param.materialize(tuple(value.shape))
        for name, buf in self._buffers.items():
            value = state_dict.get(prefix + name)
            if buf is not None and buf.numel() == 0 and value is not None and value.ndim:
                self._buffers[name] = creation.zeros(tuple(value.shape), dtype=buf.dtype)


class LazyLinear(LazyModuleMixin, Linear):
    """Linear whose in_features is the last dimension of the first input."""

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, 0, False, device=device)
        self.weight = UninitializedParameter(dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def _sizes_from_loaded(self):
        self.in_features = self.weight.shape[1]

    def initialize_parameters(self, input, *args, **kwargs):
        self.in_features = input.shape[-1]
        self.weight.materialize((self.out_features, self.in_features))
        if self.bias is not None:
            self.bias.materialize((self.out_features,))
        self.reset_parameters()


class _LazyConvMixin(LazyModuleMixin):
    """LazyConv1d/2d/3d: torch's signature without in_channels, which the first input gives."""
    _spatial = 2

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False,
                         padding_mode, device)
        self._lazy_init(out_channels, bias, dtype)

    def _lazy_init(self, out_channels, bias, dtype):
        self.weight = UninitializedParameter(dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def _sizes_from_loaded(self):
        self.in_channels = self.weight.shape[1] * self.groups

    def initialize_parameters(self, input, *args, **kwargs):
        batched = input.ndim == self._spatial + 2
        self.in_channels = input.shape[1] if batched else input.shape[0]
        if self.in_channels % self.groups:
            raise ValueError("in_channels must be divisible by groups")
        self.weight.materialize(self._weight_shape() + self.kernel_size)
        if self.bias is not None:
            self.bias.materialize((self.out_channels,))
        self.reset_parameters()

    def _weight_shape(self):
        return (self.out_channels, self.in_channels // self.groups)


class LazyConv2d(_LazyConvMixin, Conv2d):
    cls_to_become = Conv2d


class LazyConv1d(_LazyConvMixin, Conv1d):
    cls_to_become = Conv1d
    _spatial = 1


class _LazyNormMixin(LazyModuleMixin):
    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__(0, eps, momentum, affine, track_running_stats, device, bias=bias)
        if affine:
            self.weight = UninitializedParameter(dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(dtype=dtype)

    def _sizes_from_loaded(self):
        stats = self.weight if self.affine else self.running_mean
        self.num_features = 0 if stats is None else stats.shape[0]

    def initialize_parameters(self, input, *args, **kwargs):
        self.num_features = input.shape[1]
        if self.affine:
            self.weight.materialize((self.num_features,))
            self.weight._data[...] = 1
            if self.bias is not None:
                self.bias.materialize((self.num_features,))
                self.bias._data[...] = 0
        if self.track_running_stats:
            self.running_mean = creation.zeros(self.num_features)
            self.running_var = creation.ones(self.num_features)
            if self.affine:
                self.running_mean = self.running_mean.to(self.weight.dtype)
                self.running_var = self.running_var.to(self.weight.dtype)


class LazyBatchNorm2d(_LazyNormMixin, BatchNorm2d):
    cls_to_become = BatchNorm2d


class LazyBatchNorm1d(_LazyNormMixin, BatchNorm1d):
    cls_to_become = BatchNorm1d


class _LazyConvTransposeMixin(_LazyConvMixin):
    """LazyConvTranspose1d/2d/3d (their signature has output_padding and dilation after
    groups, as torch's)."""

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                 groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                 dtype=None):
        super(_LazyConvMixin, self).__init__(0, 0, kernel_size, stride, padding,
                                             output_padding, groups, False, dilation,
                                             padding_mode, device)
        self._lazy_init(out_channels, bias, dtype)
    def _sizes_from_loaded(self):
        self.in_channels = self.weight.shape[0]

    def _weight_shape(self):
        """The transposed layers' weight is (in_channels, out_channels / groups, *kernel)."""
        return (self.in_channels, self.out_channels // self.groups)


class LazyConvTranspose2d(_LazyConvTransposeMixin, ConvTranspose2d):
    cls_to_become = ConvTranspose2d


class LazyConvTranspose1d(_LazyConvTransposeMixin, ConvTranspose1d):
    cls_to_become = ConvTranspose1d
    _spatial = 1


class LazyInstanceNorm2d(_LazyNormMixin, InstanceNorm2d):
    cls_to_become = InstanceNorm2d


class LazyInstanceNorm1d(_LazyNormMixin, InstanceNorm1d):
    cls_to_become = InstanceNorm1d


# --- the 3-D layers (fastnn/nn/volumetric.py) ------------------------------------------------
from fastnn.nn.volumetric import (BatchNorm3d, Conv3d, ConvTranspose3d,  # noqa: E402
                                  InstanceNorm3d)


class LazyConv3d(_LazyConvMixin, Conv3d):
    cls_to_become = Conv3d
    _spatial = 3


class LazyConvTranspose3d(_LazyConvTransposeMixin, ConvTranspose3d):
    cls_to_become = ConvTranspose3d
    _spatial = 3


class LazyBatchNorm3d(_LazyNormMixin, BatchNorm3d):
    cls_to_become = BatchNorm3d


class LazyInstanceNorm3d(_LazyNormMixin, InstanceNorm3d):
    cls_to_become = InstanceNorm3d
