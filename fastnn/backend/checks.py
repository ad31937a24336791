"""Validation that runs before any kernel, on every backend.

Kernels trust their inputs (the compiled ones release the GIL and work on raw pointers), so
everything user-controlled is checked here: dtypes, ranks, shapes, layouts, label ranges.
Each check raises a Python exception that names what is wrong, in PyTorch's words where
PyTorch has words for it.
"""
import numpy as np

_F32 = np.dtype(np.float32)


def require_float32(name, array):
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(array).__name__}")
    if array.dtype != np.float32:
        raise TypeError(f"{name} must be float32, got {array.dtype}")


def require_rank(name, array, rank):
    if array.ndim != rank:
        raise ValueError(f"{name} must be {rank}-D, got shape {tuple(array.shape)}")


def require_writable_c_contiguous(name, array):
    if not array.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")
    if not array.flags.writeable:
        raise ValueError(f"{name} must be writable")


def require_aligned_strides(name, array):
    """Strides must be whole elements (np.ndarray views of bytes can break this)."""
    size = array.itemsize
    if not array.flags.aligned or array.strides[0] % size or array.strides[-1] % size:
        raise ValueError(f"{name} has strides that are not a multiple of its element size")


def gemm_operands_ok(a, b):
    """True when a and b need no further checks (the hot path: one expression, no calls);
    check_gemm_operands then runs only to word the error."""
    return (type(a) is np.ndarray and type(b) is np.ndarray and a.dtype == _F32
            and b.dtype == _F32 and a.ndim == 2 and b.ndim == 2 and a.shape[1] == b.shape[0]
            and a.flags.aligned and b.flags.aligned and not a.strides[0] % 4
            and not a.strides[1] % 4 and not b.strides[0] % 4 and not b.strides[1] % 4)


def check_gemm_operands(a, b):
    require_float32("mat1", a)
    require_float32("mat2", b)
    require_rank("mat1", a, 2)
    require_rank("mat2", b, 2)
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied "
            f"({a.shape[0]}x{a.shape[1]} and {b.shape[0]}x{b.shape[1]})"
        )
    require_aligned_strides("mat1", a)
    require_aligned_strides("mat2", b)


def check_gemm_output(a, b, out, bias):
    require_float32("out", out)
    expected = (a.shape[0], b.shape[1])
    if out.shape != expected:
        raise ValueError(f"out must have shape {expected}, got {tuple(out.shape)}")
    require_writable_c_contiguous("out", out)
    if np.shares_memory(out, a) or np.shares_memory(out, b):
        raise ValueError("out must not overlap the inputs of a matrix product")
    if bias is not None:
        require_float32("bias", bias)
        if bias.shape != (b.shape[1],):
            raise ValueError(f"bias must have shape ({b.shape[1]},), got {tuple(bias.shape)}")
        if not bias.flags.c_contiguous:
            raise ValueError("bias must be contiguous")


def elementwise_ok(arrays, out):
    """True when every array is a C-contiguous float32 array of out's shape and out is
    writable (the hot path); check_elementwise words the error otherwise."""
    if type(out) is not np.ndarray or out.dtype != _F32 or not out.flags.c_contiguous \
            or not out.flags.writeable:
        return False
    shape = out.shape
    for array in arrays:
        if type(array) is not np.ndarray or array.dtype != _F32 or array.shape != shape \
                or not array.flags.c_contiguous:
            return False
    return True


def check_elementwise(pairs, out):
    """pairs: (name, array) inputs that must match `out` in shape; all C-contiguous float32."""
    require_float32("out", out)
    require_writable_c_contiguous("out", out)
    for name, array in pairs:
        require_float32(name, array)
        if array.shape != out.shape:
            raise ValueError(f"{name} has shape {tuple(array.shape)}, expected {tuple(out.shape)}")
        if not array.flags.c_contiguous:
            raise ValueError(f"{name} must be C-contiguous")


def _labels_in_range(labels, n_classes):
    return labels.min() >= 0 and labels.max() < n_classes


try:  # one C loop instead of two NumPy reductions, when the kernels are built
    from fastnn._kernels import labels_in_range as _labels_in_range  # noqa: F811
except ImportError:
    pass


def check_labels(labels, n_rows, n_classes):
    if (type(labels) is np.ndarray and labels.dtype == np.int64 and labels.shape == (n_rows,)
            and (not n_rows or _labels_in_range(labels, n_classes))):
        return  # the hot path; the checks below word the error
    if not isinstance(labels, np.ndarray):
        raise TypeError(f"target must be a numpy.ndarray, got {type(labels).__name__}")
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"target must hold integer class indices (int64), got {labels.dtype}; "
            "class probabilities are not supported"
        )
    if labels.ndim != 1:
        raise ValueError(f"target must be 1-D (class indices), got shape {tuple(labels.shape)}")
    if labels.shape[0] != n_rows:
        raise ValueError(
            f"Expected input batch_size ({n_rows}) to match target batch_size ({labels.shape[0]})."
        )
    if labels.size:
        lo, hi = labels.min(), labels.max()
        if lo < 0 or hi >= n_classes:
            bad = lo if lo < 0 else hi
            raise IndexError(f"Target {bad} is out of bounds: labels must be in [0, {n_classes})")
