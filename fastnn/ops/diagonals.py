"""diag, diagonal, trace and masked_select from differentiable indexing and padding, so their
gradients are those of the ops they are made of."""
import numpy as np

from fastnn.tensor import Tensor


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of the (dim1, dim2) planes as a new last dimension, as torch's."""
    n = input.ndim
    if n < 2:
        raise RuntimeError(f"diagonal dimensions requires ndim larger than 1, got {n}")
    d1, d2 = dim1 % n, dim2 % n
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    rest = [d for d in range(n) if d not in (d1, d2)]
    moved = input.permute(*rest, d1, d2)
    rows, cols = moved.shape[-2:]
    start_row, start_col = (0, offset) if offset >= 0 else (-offset, 0)
    length = max(0, min(rows - start_row, cols - start_col))
    index = np.arange(length)
    return moved[(Ellipsis, index + start_row, index + start_col)]


def diag(input, diagonal=0):
    """A 1-D input becomes the square matrix with it on the given diagonal; a 2-D input gives
    that diagonal."""
    if input.ndim == 2:
        return globals()["diagonal"](input, diagonal)
    if input.ndim != 1:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{input.ndim}D")
    from fastnn.creation import eye
    from fastnn.ops.pad import pad
    n, k = input.shape[0], abs(diagonal)
    square = eye(n, dtype=input.dtype) * input  # column j holds input[j] at row j
    if diagonal > 0:
        return pad(square, (k, 0, 0, k))
    if diagonal < 0:
        return pad(square, (0, k, k, 0))
    return square


def trace(input):
    if input.ndim != 2:
        raise RuntimeError("trace: expected a matrix, but got tensor with dim " + str(input.ndim))
    return diagonal(input).sum()


def masked_select(input, mask):
    """The elements of input where mask is True (both broadcast), as a 1-D tensor."""
    data = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if data.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask")
    shape = np.broadcast_shapes(tuple(input.shape), data.shape)
    full = input.expand(*shape) if tuple(input.shape) != shape else input
    return full[np.broadcast_to(data, shape)]
