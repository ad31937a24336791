"""Tensor creation, with torch's names and argument conventions."""
import numpy as np

from fastnn import dtypes, random
from fastnn.tensor import Tensor


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return tuple(int(s) for s in size)


def _make(array, dtype, requires_grad):
    t = Tensor._wrap(dtypes.as_array(array, dtype))
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of `data` (float -> float32, int -> int64, as torch)."""
    if isinstance(data, Tensor):
        data = data.data
    return _make(dtypes.as_array(data, dtype, copy=True), None, requires_grad)


def from_numpy(array):
    """A tensor sharing memory with `array`. float32, int64 and bool arrays are shared; other
    dtypes cannot be (fastnn stores only those three) and raise TypeError."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    if array.dtype not in dtypes._ALLOWED:
        raise TypeError(f"from_numpy cannot share a {array.dtype} array: fastnn tensors are "
                        "float32, int64 or bool. Convert first, e.g. "
                        "from_numpy(a.astype(np.float32)), or copy with fastnn.tensor(a).")
    return Tensor._wrap(array)


def zeros(*size, dtype=None, requires_grad=False):
    return _make(np.zeros(_size(size), dtype=dtype or np.float32), dtype, requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return _make(np.ones(_size(size), dtype=dtype or np.float32), dtype, requires_grad)


def zeros_like(x, dtype=None, requires_grad=False):
    return _make(np.zeros(x.shape, dtype=dtype or x.dtype), dtype, requires_grad)


def ones_like(x, dtype=None, requires_grad=False):
    return _make(np.ones(x.shape, dtype=dtype or x.dtype), dtype, requires_grad)


def randn(*size, requires_grad=False):
    data = random.generator().standard_normal(_size(size), dtype=np.float32)
    return _make(data, None, requires_grad)


def rand(*size, requires_grad=False):
    data = random.generator().random(_size(size), dtype=np.float32)
    return _make(data, None, requires_grad)


def normal(mean, std, size, requires_grad=False):
    """normal(mean, std, size): samples from N(mean, std^2), as torch.normal's float form."""
    data = random.generator().normal(mean, std, _size((size,)) if isinstance(size, int)
                                     else _size(size))
    return _make(data.astype(np.float32), None, requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    data = np.arange(start, end, step)
    return _make(data, dtype, requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return _make(np.eye(n, n if m is None else m, dtype=dtype or np.float32), dtype, requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    data = np.full(_size((size,)) if isinstance(size, int) else _size(size), fill_value)
    return _make(data, dtype, requires_grad)


def rand_like(x, requires_grad=False):
    return rand(*x.shape, requires_grad=requires_grad)


def randn_like(x, requires_grad=False):
    return randn(*x.shape, requires_grad=requires_grad)


def randint(low, high=None, size=(), dtype=None):
    if high is None:
        low, high = 0, low
    return _make(random.generator().integers(low, high, _size((size,)) if isinstance(size, int)
                                             else _size(size)), dtype or np.int64, False)
