"""Operands of binary ops: broadcasting's adjoint and torch's type promotion.

The adjoint of broadcasting is summation (tinygrad's unbroadcast): a gradient computed at the
broadcast shape is summed back over the dimensions that were added or stretched. Promotion
casts tensor operands to torch.result_type (differentiably); Python numbers stay weak, so
float32 + 0.5 stays float32 (NumPy's NEP 50 agrees once the tensor side has the right dtype).
"""
import numpy as np

from fastnn import dtypes, scalar_range
from fastnn.tensor import Tensor

_PY_NUMBERS = (float, int)


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
    """A Tensor passes through; Python numbers stay numbers; NumPy scalars act as Python
    numbers (as in torch); arrays and lists become constant tensors."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (bool, int, float)) and not isinstance(value, np.generic):
        return value
    if isinstance(value, np.generic):
        return value.item()
    return Tensor._wrap(dtypes.as_array(value))


def trailing_shape(a_shape, b_shape):
    """The longer shape when the other ends it (equal shapes, a bias's shape): what they
    broadcast to with no dimension of size 1 stretched; None otherwise."""
    if a_shape[len(a_shape) - len(b_shape):] == b_shape:
        return a_shape
    if b_shape[len(b_shape) - len(a_shape):] == a_shape:
        return b_shape
    return None


def check_broadcast(a_shape, b_shape):
    """The shape a_shape and b_shape broadcast to; torch's error when they do not (NumPy's
    ValueError otherwise): the first clash from the right, numbered as a dimension of the
    result."""
    same = trailing_shape(a_shape, b_shape)  # (a bias's shape: no loop)
    if same is not None:
        return same
    ndim = max(len(a_shape), len(b_shape))
    result = []
    for i in range(1, ndim + 1):
        da = a_shape[-i] if i <= len(a_shape) else 1
        db = b_shape[-i] if i <= len(b_shape) else 1
        if da != db and da != 1 and db != 1:
            raise RuntimeError(f"The size of tensor a ({da}) must match the size of tensor b "
                               f"({db}) at non-singleton dimension {ndim - i}")
        result.append(db if da == 1 else da)
    return tuple(reversed(result))


def promote(a, b):
    """(a, b) with tensor operands cast to torch's result dtype for a binary op, after torch's
    check that their shapes broadcast."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            if a._data.shape != b._data.shape:
                check_broadcast(a._data.shape, b._data.shape)
            if a._data.dtype == b._data.dtype:
                return a, b
        elif type(b) in _PY_NUMBERS and a._data.dtype.kind == "f":
            return a, b
    elif type(a) in _PY_NUMBERS and isinstance(b, Tensor) and b._data.dtype.kind == "f":
        return a, b
    target = dtypes.result_type(a, b)
    return cast_to(a, target), cast_to(b, target)


def cast_to(value, target):
    if isinstance(value, Tensor):
        return value._cast(target) if value._data.dtype != target.numpy else value
    if type(value) is int and target.numpy.kind in "iu":  # int8 x + 300 adds 44, as torch
        return scalar_range.wrapped(value, target.numpy)
    if target.numpy.kind == "V" and type(value) in _PY_NUMBERS:
        # a number with a bfloat16 tensor: ml_dtypes would promote bfloat16 * 2.0 to float32,
        # torch keeps bfloat16
        return np.asarray(value, dtype=target.numpy)
    return value


def floating(x):
    """x itself if it is floating, else x cast to the default dtype (exp/log/sqrt of an int
    tensor are float in torch)."""
    if x._data.dtype.kind in "fVc":  # (bfloat16 is kind "V"; complex stays complex)
        return x
    return x._cast(dtypes.get_default_dtype())


def floating_pair(a, b):
    """(a, b) as tensors of torch's result dtype for a binary op with a floating result
    (atan2, hypot, copysign, xlogy, ldexp): the promotion of the two, or the default dtype
    when that is integral; float16 with an int stays float16, as torch's."""
    from fastnn.tensor import Tensor
    target = dtypes.result_type(a, b)
    if not target.is_floating_point:
        target = dtypes.get_default_dtype()
    return tuple(v._cast(target) if isinstance(v, Tensor) else
                 Tensor._wrap(np.asarray(v, dtype=target.numpy)) for v in (a, b))
