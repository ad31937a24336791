"""The adjoint of broadcasting is summation (tinygrad's unbroadcast): a gradient computed at
the broadcast shape is summed back over the dimensions that were added or stretched."""
import numpy as np

from fastnn import dtypes
from fastnn.tensor import Tensor


def unbroadcast(grad, shape):
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)


def operand(value):
    """A Tensor passes through; numbers and arrays become float32/int64 arrays (no graph)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (int, float, bool)) and not isinstance(value, np.generic):
        return value  # Python scalars stay weak, so float32 + 0.5 stays float32 (NEP 50)
    return dtypes.as_array(value)
