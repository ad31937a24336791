"""F.unfold (im2col: every kernel window of a padded (N, C, H, W) input as a column of an
(N, C*kh*kw, L) matrix) and F.fold, its adjoint (columns summed back into place, overlaps
added), each a Function whose backward is the other."""
import numpy as np

from fastnn.autograd.function import Function
from fastnn.ops.conv import pair


def _window_indices(size, kernel, dilation, padding, stride):
    """(rows, cols) of shape (kh*kw, L): the padded-image position each column entry reads."""
    (h, w), (kh, kw), (dh, dw), (ph, pw), (sh, sw) = size, kernel, dilation, padding, stride
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    if oh < 1 or ow < 1:
        raise RuntimeError(f"Given input with spatial size ({h}, {w}), kernel_size=({kh}, {kw}), "
                           f"dilation=({dh}, {dw}), padding=({ph}, {pw}), calculated shape of "
                           f"the array of sliding blocks as ({oh}, {ow}), but its components "
                           "must be at least one.")
    ky, kx = np.meshgrid(np.arange(kh) * dh, np.arange(kw) * dw, indexing="ij")
    oy, ox = np.meshgrid(np.arange(oh) * sh, np.arange(ow) * sw, indexing="ij")
    rows = ky.reshape(-1, 1) + oy.reshape(1, -1)
    cols = kx.reshape(-1, 1) + ox.reshape(1, -1)
    return rows, cols


def _pad(array, padding):
    ph, pw = padding
    return np.pad(array, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else array


class Unfold(Function):
    backward_name = "Im2ColBackward0"

    @staticmethod
    def forward(ctx, x, kernel, dilation, padding, stride):
        n, c, h, w = x.shape
        rows, cols = _window_indices((h, w), kernel, dilation, padding, stride)
        columns = _pad(x, padding)[:, :, rows, cols]  # (N, C, kh*kw, L)
        ctx.meta = (x.shape, rows, cols, padding)
        return np.ascontiguousarray(columns.reshape(n, c * rows.shape[0], rows.shape[1]))

    @staticmethod
    def backward(ctx, g):
        shape, rows, cols, padding = ctx.meta
        n, c, h, w = shape
        return _fold(g, (n, c, h, w), rows, cols, padding), None, None, None, None


def _fold(columns, shape, rows, cols, padding):
    n, c, h, w = shape
    ph, pw = padding
    out = np.zeros((n, c, h + 2 * ph, w + 2 * pw), columns.dtype)
    blocks = columns.reshape(n, c, rows.shape[0], rows.shape[1])
    np.add.at(out, (slice(None), slice(None), rows, cols), blocks)
    return np.ascontiguousarray(out[:, :, ph:ph + h, pw:pw + w])


class Fold(Function):
    backward_name = "Col2ImBackward0"

    @staticmethod
    def forward(ctx, columns, size, kernel, dilation, padding, stride):
        n, ckk, _ = columns.shape
        rows, cols = _window_indices(size, kernel, dilation, padding, stride)
        c = ckk // rows.shape[0]
        ctx.meta = (rows, cols, padding, columns.shape)
        return _fold(columns, (n, c) + tuple(size), rows, cols, padding)

    @staticmethod
    def backward(ctx, g):
        rows, cols, padding, shape = ctx.meta
        return (np.ascontiguousarray(_pad(g, padding)[:, :, rows, cols].reshape(shape)),
                None, None, None, None, None)


def _arguments(kernel_size, dilation, padding, stride):
    return (pair(kernel_size, "kernel_size"), pair(dilation, "dilation"),
            pair(padding, "padding"), pair(stride, "stride"))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    if input.ndim not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported (got "
                                  f"{input.ndim}D)")
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    out = Unfold.apply(x, *_arguments(kernel_size, dilation, padding, stride))
    return out.squeeze(0) if unbatched else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    if input.ndim not in (2, 3):
        raise NotImplementedError(f"Input Error: Only unbatched (2D) or batched (3D) input "
                                  f"Tensors are supported (got {input.ndim}D)")
    unbatched = input.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    kernel, dilation, padding, stride = _arguments(kernel_size, dilation, padding, stride)
    size = pair(output_size, "output_size")
    rows, _ = _window_indices(size, kernel, dilation, padding, stride)
    if x.shape[1] % (kernel[0] * kernel[1]):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={x.shape[1]} and "
                           f"kernel_size=({kernel[0]}, {kernel[1]})")
    if x.shape[2] != rows.shape[1]:
        raise RuntimeError(f"Given output_size=({size[0]}, {size[1]}), kernel_size=({kernel[0]}, "
                           f"{kernel[1]}), dilation=({dilation[0]}, {dilation[1]}), padding="
                           f"({padding[0]}, {padding[1]}), stride=({stride[0]}, {stride[1]}), "
                           f"expected size of input's dimension 2 to match the calculated number "
                           f"of sliding blocks {rows.shape[1]}, but got input.size(2)="
                           f"{x.shape[2]}.")
    out = Fold.apply(x, size, kernel, dilation, padding, stride)
    return out.squeeze(0) if unbatched else out
