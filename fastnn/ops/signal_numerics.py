"""Window functions (hann, hamming, blackman, bartlett, kaiser), trapezoid integration
(trapezoid / trapz, cumulative_trapezoid), histogram, frexp and the small aliases torch keeps
(absolute, row_stack), with torch's signatures and dtypes. The windows follow torch's
definitions: a periodic window of length N is the symmetric one of length N + 1 without its
last value; they are computed in float64 and returned in the requested (default) dtype.
The integrals are composed from differentiable ops."""
import math

import numpy as np

from fastnn.tensor import Tensor


def _window(values, dtype, requires_grad):
    from fastnn.creation import _float_dtype
    d = _float_dtype(dtype)
    if not d.is_floating_point:
        raise RuntimeError(f"window functions expect a floating point dtype, got {d}")
    t = Tensor._wrap(np.asarray(values, dtype=np.float64).astype(d.numpy))
    return t.requires_grad_(True) if requires_grad else t


def _length(window_length, name):
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={window_length}")
    return int(window_length)


def _cosine_sum(window_length, periodic, coefficients, dtype, requires_grad, name):
    n = _length(window_length, name)
    if n == 0:
        return _window(np.zeros(0), dtype, requires_grad)
    if n == 1:
        return _window(np.ones(1), dtype, requires_grad)
    span = n if periodic else n - 1
    k = np.arange(n, dtype=np.float64)
    values = sum(((-1) ** i) * c * np.cos(2 * math.pi * i * k / span)
                 for i, c in enumerate(coefficients))
    return _window(values, dtype, requires_grad)


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                requires_grad=False):
    return _cosine_sum(window_length, periodic, (0.5, 0.5), dtype, requires_grad,
                       "hann_window")


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   layout=None, device=None, requires_grad=False):
    return _cosine_sum(window_length, periodic, (alpha, beta), dtype, requires_grad,
                       "hamming_window")


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    return _cosine_sum(window_length, periodic, (0.42, 0.5, 0.08), dtype, requires_grad,
                       "blackman_window")


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    requires_grad=False):
    n = _length(window_length, "bartlett_window")
    if n <= 1:
        return _window(np.ones(n), dtype, requires_grad)
    span = n if periodic else n - 1
    k = np.arange(n, dtype=np.float64)
    return _window(1 - np.abs(2 * k / span - 1), dtype, requires_grad)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None,
                  device=None, requires_grad=False):
    n = _length(window_length, "kaiser_window")
    if n <= 1:
        return _window(np.ones(n), dtype, requires_grad)
    span = n if periodic else n - 1
    k = np.arange(n, dtype=np.float64)
    ratio = 2 * k / span - 1
    values = np.i0(beta * np.sqrt(np.clip(1 - ratio * ratio, 0, None))) / np.i0(beta)
    return _window(values, dtype, requires_grad)


# --- integration ---------------------------------------------------------------------------
def _slices(y, dim):
    from fastnn.ops.selecting import narrow
    n = y.shape[dim]
    return narrow(y, dim, 1, n - 1), narrow(y, dim, 0, n - 1)


def _spacing(y, x, dx, dim):
    """The widths between samples along dim: x's differences, or dx (default 1)."""
    if x is None:
        return 1.0 if dx is None else dx
    if isinstance(x, Tensor):
        if x.ndim == 1:
            shape = [1] * y.ndim
            shape[dim] = x.shape[0]
            x = x.reshape(shape)
        later, earlier = _slices(x, dim if x.ndim == y.ndim else -1)
        return later - earlier
    return float(x)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The integral of y along dim by the trapezoid rule."""
    if x is not None and dx is not None:
        raise RuntimeError("trapezoid: received both x and dx arguments; only one may be "
                           "specified")
    dim = dim % max(y.ndim, 1)
    if y.shape[dim] == 0:
        return y.sum(dim)
    later, earlier = _slices(y, dim)
    return ((later + earlier) * _spacing(y, x, dx, dim) / 2).sum(dim)


def trapz(y, x=None, *, dx=None, dim=-1):
    if x is not None and not isinstance(x, Tensor):  # torch.trapz(y, dx=...) positional form
        return trapezoid(y, dx=x, dim=dim)
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running integral along dim (one fewer element than y there)."""
    dim = dim % max(y.ndim, 1)
    later, earlier = _slices(y, dim)
    return ((later + earlier) * _spacing(y, x, dx, dim) / 2).cumsum(dim)


# --- counting and floating-point parts -------------------------------------------------------
def histogram(input, bins=100, *, range=None, weight=None, density=False, out=None):
    """(hist, bin_edges) of input's values, as NumPy's histogram in input's dtype."""
    from fastnn import return_types
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"torch.histogram: input tensor and bins tensors should have the "
                           f"same dtype, but got input {input.dtype}")
    edges = bins._data if isinstance(bins, Tensor) else int(bins)
    counts, bin_edges = np.histogram(input._data, bins=edges, range=range,
                                     weights=None if weight is None else weight._data,
                                     density=density)
    dtype = input._data.dtype
    result = return_types.structseq("histogram", ["hist", "bin_edges"])
    return result(Tensor._wrap(counts.astype(dtype)), Tensor._wrap(bin_edges.astype(dtype)))


def frexp(input):
    """(mantissa, exponent): input = mantissa * 2 ** exponent, |mantissa| in [0.5, 1)."""
    from fastnn import return_types
    if not input.dtype.is_floating_point:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    mantissa, exponent = np.frexp(input._data)
    result = return_types.structseq("frexp", ["mantissa", "exponent"])
    return result(Tensor._wrap(mantissa.astype(input._data.dtype)),
                  Tensor._wrap(exponent.astype(np.int32)))


def absolute(input, *, out=None):
    from fastnn.ops.elementwise import abs as _abs
    return _abs(input)


def row_stack(tensors, *, out=None):
    from fastnn.ops.compositions import vstack
    return vstack(tensors)

