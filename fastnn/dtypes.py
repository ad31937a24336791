"""fastnn's dtypes: float32 for values and gradients, int64 for labels and indices, bool for
masks (torch's defaults). Everything a user hands in is converted to one of them."""
import numpy as np

float32 = np.float32
int64 = np.int64
long = np.int64
bool_ = np.bool_
float = np.float32  # torch.float is float32

_ALLOWED = (np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.bool_))


def canonical_dtype(dtype):
    """The fastnn dtype used to store values of NumPy dtype `dtype`."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return np.dtype(np.float32)
    if dtype.kind in "iu":
        return np.dtype(np.int64)
    if dtype.kind == "b":
        return np.dtype(np.bool_)
    raise TypeError(f"fastnn tensors hold float32, int64 or bool values, not {dtype}")


def as_array(data, dtype=None, copy=False):
    """An ndarray of a fastnn dtype from `data` (array, list, scalar or Tensor)."""
    array = np.asarray(data)
    target = canonical_dtype(array.dtype if dtype is None else dtype)
    if copy or array.dtype != target:
        return np.array(array, dtype=target, copy=True)
    return array
