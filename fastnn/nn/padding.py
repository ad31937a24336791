"""Padding layers (torch.nn's names, arguments and reprs), each F.pad with a fixed mode:
ConstantPad1d/2d, ZeroPad1d/2d, ReflectionPad1d/2d, ReplicationPad1d/2d, CircularPad1d/2d."""
from fastnn.nn import functional as F
from fastnn.nn.module import Module


def _sides(padding, dims):
    """An int pads every side; a tuple gives (left, right[, top, bottom])."""
    if isinstance(padding, int):
        return (padding,) * (2 * dims)
    padding = tuple(padding)
    if len(padding) != 2 * dims:
        raise ValueError(f"padding must be an int or a {2 * dims}-tuple, got {padding}")
    return padding


class _PadNd(Module):
    mode, dims = "constant", 2

    def __init__(self, padding):
        super().__init__()
        self.padding = _sides(padding, self.dims)

    def forward(self, input):
        if input.ndim not in (self.dims + 1, self.dims + 2):
            raise ValueError(f"{type(self).__name__}: expected {self.dims + 1}D or "
                             f"{self.dims + 2}D input, got {input.ndim}D")
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class ConstantPad2d(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(ConstantPad2d):
    dims = 1


class ZeroPad2d(ConstantPad2d):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(ZeroPad2d):
    dims = 1


class ReflectionPad2d(_PadNd):
    mode = "reflect"


class ReflectionPad1d(ReflectionPad2d):
    dims = 1


class ReplicationPad2d(_PadNd):
    mode = "replicate"


class ReplicationPad1d(ReplicationPad2d):
    dims = 1


class CircularPad2d(_PadNd):
    mode = "circular"


class CircularPad1d(CircularPad2d):
    dims = 1
