"""torch.memory_format: how a 4-D (5-D) tensor's elements are laid out in memory.
contiguous_format is NCHW's row-major order; channels_last keeps the channels of a pixel
together (NHWC in memory, the shape still N, C, H, W), as torch's; preserve_format (the
default of clone and the *_like constructors) keeps a dense tensor's layout.

fastnn's arrays are NumPy's, so a layout is a stride order: channels_last is the NHWC array
transposed back to NCHW. Elementwise ops keep the layout (NumPy's order "K"), and
convolution, pooling, batch norm and ReLU give a channels_last result for a channels_last
input, as torch's do (their kernels read it in NCHW order: the layout is for compatibility,
not speed, here).
"""
import numpy as np

from fastnn.layouts import NamedSingleton


class memory_format(NamedSingleton):
    __slots__ = ()


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")

_RANK = {channels_last: 4, channels_last_3d: 5}


def _order(fmt, ndim):
    """The axes in memory order of a channels-last layout: (0, 2, 3, 1) or (0, 2, 3, 4, 1)."""
    return (0,) + tuple(range(2, ndim)) + (1,)


def check(fmt):
    if fmt is not None and not isinstance(fmt, memory_format):
        raise TypeError(f"memory_format must be a torch.memory_format, not "
                        f"{type(fmt).__name__}")


def is_in(array, fmt):
    """Whether the array is laid out in `fmt` (torch's is_contiguous(memory_format=...))."""
    check(fmt)
    if fmt is None or fmt is contiguous_format or fmt is preserve_format:
        return bool(array.flags.c_contiguous)
    if array.ndim != _RANK[fmt]:
        return False
    return bool(array.transpose(_order(fmt, array.ndim)).flags.c_contiguous)


def laid_out(array, fmt):
    """A copy of the array in `fmt` (preserve_format: its own layout when dense, else
    row-major)."""
    check(fmt)
    if array.flags.c_contiguous and fmt in (None, contiguous_format, preserve_format):
        from fastnn import dtypes
        return dtypes.copy_of(array)
    if fmt is None or fmt is contiguous_format:
        return np.array(array, copy=True, order="C")
    if fmt is preserve_format:
        return np.array(array, copy=True, order="K")
    if array.ndim != _RANK[fmt]:
        raise RuntimeError(f"required rank {_RANK[fmt]} tensor to use {fmt.name} format")
    order = _order(fmt, array.ndim)
    return np.ascontiguousarray(array.transpose(order)).transpose(np.argsort(order))


def like(reference, result):
    """result in reference's layout when reference is channels_last and not also row-major
    (the outputs of convolution, pooling, batch norm and ReLU, as torch's)."""
    if reference.ndim == 4 and not reference.flags.c_contiguous and \
            is_in(reference, channels_last) and result.ndim == 4:
        return laid_out(result, channels_last)
    return result
