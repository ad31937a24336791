"""torch's boolean and counting functions, which have no gradient: logical_and, logical_or,
logical_xor, logical_not, count_nonzero, isin, argwhere."""
import numpy as np

from fastnn import dtypes
from fastnn.ops import logical
from fastnn.tensor import Tensor


def _array(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def logical_and(input, other):
    return Tensor._wrap(np.logical_and(_array(input), _array(other)))


def logical_or(input, other):
    return Tensor._wrap(np.logical_or(_array(input), _array(other)))


def logical_xor(input, other):
    return Tensor._wrap(np.logical_xor(_array(input), _array(other)))


def logical_not(input):
    return Tensor._wrap(np.logical_not(_array(input)))


def count_nonzero(input, dim=None):
    counts = np.count_nonzero(_array(input), axis=dim)
    return Tensor._wrap(np.asarray(counts, dtype=np.int64))


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    return Tensor._wrap(np.isin(_array(elements), _array(test_elements),
                                assume_unique=assume_unique, invert=invert))


def argwhere(input):
    return Tensor._wrap(np.argwhere(_array(input)).astype(np.int64))


def _integral(x, op):
    data = _array(x)
    if data.dtype.kind not in "biu":
        raise NotImplementedError(f"\"{op}_cpu\" not implemented for "
                                  f"'{dtypes.of_array(data).title}'")
    return data


def bitwise_and(input, other):
    return logical.bitwise("and", input, other)  # the & operator's promotion and errors


def bitwise_or(input, other):
    return logical.bitwise("or", input, other)


def bitwise_xor(input, other):
    return logical.bitwise("xor", input, other)


def bitwise_not(input):
    return Tensor._wrap(np.invert(_integral(input, "bitwise_not")))
