"""torch's rules for a Python number meeting a tensor of a narrower dtype.

Written into a tensor (fill_, full, x[i] = v, masked_fill_, index_fill_, tensor(v, dtype=)),
the number must fit: torch raises "value cannot be converted to type int8_t without overflow"
(c10::checked_convert, c10/util/TypeCast.h) where NumPy would wrap, warn or raise its own
OverflowError. As the other operand of arithmetic or a comparison on an integer tensor, an
integer number is cast to the tensor's dtype with wrap-around: int8 x + 300 adds 44, and
x < 300 compares with 44 (torch 2.13), where NumPy 2 raises OverflowError.
"""
import math

import numpy as np

# the C++ type names torch's message uses for each dtype
_CPP_NAMES = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "int32": "int",
              "int64": "int64_t", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
              "float32": "float", "float64": "double"}


def _overflows(value, numpy_dtype):
    """c10::overflows<To, From>: integers must lie in the target's range (an unsigned target
    also takes -max..-1, which wraps); a float into an integer type must not be NaN and must
    lie in range, where 127.9 overflows int8 and -1.0 overflows uint8; a finite float beyond a
    floating type's largest value overflows it (inf and NaN do not)."""
    kind = numpy_dtype.kind
    if kind == "b" or isinstance(value, (bool, np.bool_)):
        return False
    if kind in "iu":
        info = np.iinfo(numpy_dtype)
        if isinstance(value, (int, np.integer)):
            low = -info.max if kind == "u" else info.min
            return not low <= value <= info.max
        value = float(value)
        if math.isnan(value):
            return True
        return not info.min <= value <= info.max if kind == "i" else not 0 <= value <= info.max
    if kind in "fV":
        value = float(value)
        return math.isfinite(value) and abs(value) > _largest(numpy_dtype)
    return False


def _largest(numpy_dtype):
    if numpy_dtype.kind == "V":  # bfloat16 (ml_dtypes): NumPy's finfo does not know it
        import ml_dtypes
        return float(ml_dtypes.finfo(numpy_dtype).max)
    return float(np.finfo(numpy_dtype).max)


def check_fits(value, numpy_dtype):
    """torch's RuntimeError when the number `value` cannot be written into a tensor of
    numpy_dtype; other values (tensors, arrays, complex numbers) pass."""
    if isinstance(value, (int, float, np.integer, np.floating)) and \
            _overflows(value, np.dtype(numpy_dtype)):
        name = _CPP_NAMES.get(np.dtype(numpy_dtype).name, np.dtype(numpy_dtype).name)
        raise RuntimeError(f"value cannot be converted to type {name} without overflow")


def written(value, numpy_dtype, check=True):
    """The number `value` as it is written into a tensor of numpy_dtype, after torch's check
    (unless check is False): an integer wrapped into an integer dtype (uint8 takes -1 as 255),
    a float rounded into a 2-byte float type silently (torch writes x[i] = 1e39 into a
    float16 tensor as inf); anything else as it is."""
    numpy_dtype = np.dtype(numpy_dtype)
    if check:
        check_fits(value, numpy_dtype)
    if type(value) is int and numpy_dtype.kind in "iu":
        return wrapped(value, numpy_dtype)
    if type(value) in (int, float) and numpy_dtype.kind in "fV" and numpy_dtype.itemsize == 2:
        with np.errstate(over="ignore"):
            return numpy_dtype.type(float(value))
    return value


def wrapped(value, numpy_dtype):
    """An integer operand for an integer tensor's arithmetic, wrapped into its dtype where it
    does not fit (torch casts the scalar to the tensor's dtype)."""
    info = np.iinfo(numpy_dtype)
    if info.min <= value <= info.max:
        return value
    return np.array(value, dtype=np.int64).astype(numpy_dtype)[()]
