"""F.max_unpool1d/2d/3d (the partial inverse of max pooling: each value written back at the flat
position max_pool*d(return_indices=True) recorded, zeros elsewhere) and F.lp_pool1d/2d (the
power-average pooling (sum x^p)^(1/p) over each window, and lp_pool3d), with torch's sizes
and errors."""
import numpy as np

from fastnn.autograd.function import Function, presented
from fastnn.ops.elementwise import relu
from fastnn.ops.pool import avg_pool1d, avg_pool2d


class MaxUnpool(Function):
    backward_name = "MaxUnpool2DBackward0"

    @staticmethod
    def forward(ctx, x, index, plane):
        """x, index: (B, P) with B the batch-channel planes; plane: output positions each."""
        out = np.zeros((x.shape[0], plane), x.dtype)
        np.put_along_axis(out, index, x, axis=1)
        ctx.index = index
        return out

    @staticmethod
    def backward(ctx, g):
        return np.take_along_axis(g, ctx.index, axis=1), None, None


class MaxUnpool3(MaxUnpool):
    backward_name = "MaxUnpool3DBackward0"


def _tuple(value, n):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def _output_size(input, kernel, stride, padding, output_size):
    n = len(kernel)
    default = [(input.shape[-n + d] - 1) * stride[d] + kernel[d] - 2 * padding[d]
               for d in range(n)]
    if output_size is None:
        return default
    output_size = list(output_size)
    if len(output_size) == n + 2:
        output_size = output_size[2:]
    if len(output_size) != n:
        raise ValueError(f"output_size should be a sequence containing {n} or {n + 2} "
                         f"elements, but it has a length of '{len(output_size)}'")
    for d in range(n):
        low, high = default[d] - stride[d], default[d] + stride[d]
        if not low < output_size[d] < high:
            raise ValueError(f'invalid output_size "{tuple(output_size)}" (dim {d} must be '
                             f"between {low} and {high})")
    return output_size


def unpool(input, indices, kernel_size, stride, padding, output_size, n):
    kernel = _tuple(kernel_size, n)
    stride = kernel if stride is None else _tuple(stride, n)
    padding = _tuple(padding, n)
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: "
                           f"{list(indices.shape)}")
    if indices.dtype.name != "int64":
        raise RuntimeError(f"elements in indices should be type int64 but got: "
                           f"{indices.dtype.title}")
    size = _output_size(input, kernel, stride, padding, output_size)
    plane = int(np.prod(size))
    index = indices._data.reshape(-1, int(np.prod(input.shape[-n:], dtype=np.int64)))
    bad = (index < 0) | (index >= plane)
    if bad.any():
        shown = "x".join(str(s) for s in (size + [1] if n == 1 else size))
        raise RuntimeError(f"Found an invalid max index: {index[bad][0]} (output volumes are "
                           f"of size {shown})")
    lead = tuple(input.shape[:-n])
    out = (MaxUnpool3 if n == 3 else MaxUnpool).apply(input.reshape(index.shape), index, plane)
    return presented(out.reshape(*lead, *size),
                     "MaxUnpool3DBackward0" if n == 3 else "MaxUnpool2DBackward0")


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return unpool(input, indices, kernel_size, stride, padding, output_size, 1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return unpool(input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return unpool(input, indices, kernel_size, stride, padding, output_size, 3)


def _lp_finish(out, norm_type, window):
    # sign * relu(|.|) keeps the p-th root real where rounding made a sum of powers negative
    return (out.sign() * relu(out.abs())).mul(window).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    out = avg_pool1d(input.pow(norm_type), kernel_size, stride if stride is not None
                     else kernel_size, 0, ceil_mode)
    return _lp_finish(out, norm_type, _tuple(kernel_size, 1)[0])


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    kh, kw = _tuple(kernel_size, 2)
    out = avg_pool2d(input.pow(norm_type), kernel_size, stride if stride is not None
                     else kernel_size, 0, ceil_mode)
    return _lp_finish(out, norm_type, kh * kw)



def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    from fastnn.ops.volumetric import avg_pool3d
    kd, kh, kw = _tuple(kernel_size, 3)
    out = avg_pool3d(input.pow(norm_type), kernel_size, stride if stride is not None
                     else kernel_size, 0, ceil_mode)
    return _lp_finish(out, norm_type, kd * kh * kw)
