"""torch.fft: discrete Fourier transforms on NumPy's pocketfft, with torch's names, signatures
(n/s, dim, norm) and dtypes: a float32 (or integer) input gives complex64, float64 gives
complex128, and the inverse real transforms give the matching real dtype. As for every complex
result in fastnn, inputs that require grad are refused rather than silently detached
(fastnn/ops/complex_ops.py)."""
import numpy as np

from fastnn import dtypes
from fastnn.ops.complex_ops import complex_result_of_grad, into
from fastnn.tensor import Tensor

_NORMS = (None, "backward", "forward", "ortho")


def _input(input, op, complex_in=False):
    """input's array in the dtype the transform computes in: complex for the complex-to-any
    transforms (complex_in), else floating (integers and bools as the default dtype)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fft_{op}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    complex_result_of_grad(f"torch.fft.{op}", input)
    data = input._data
    if data.dtype.kind == "V" or data.dtype == np.float16:
        data = data.astype(np.float32)  # (torch computes half in float32 on CPU too)
    elif data.dtype.kind not in "fc":
        data = data.astype(dtypes.get_default_dtype().numpy)
    if complex_in and data.dtype.kind != "c":
        data = data.astype(dtypes.of_array(data).to_complex().numpy)
    return data


def _norm(norm):
    if norm not in _NORMS:
        raise ValueError(f'Invalid normalization mode: "{norm}"')
    return norm


def _complex_of(data):
    return dtypes.of_array(data).to_complex().numpy if data.dtype.kind != "c" else data.dtype


def _real_of(data):
    return dtypes.of_array(data).to_real().numpy


def _result(result, dtype, out, op):
    """The transform's array as a tensor of `dtype`, or in out= of the same kind (torch takes
    an out of any precision of the right kind, as complex128 for a float32 fft, and names its
    n-dimensional op in the error: rfft2 is "rfftn")."""
    if out is None:
        return into(np.ascontiguousarray(result, dtype=dtype), None)
    wants_complex = np.dtype(dtype).kind == "c"
    if (out._data.dtype.kind == "c") != wants_complex or out._data.dtype.kind not in "fc":
        kind = "complex" if wants_complex else "floating point"
        raise RuntimeError(f"{op} expects a {kind} output tensor, but got {out.dtype.title}")
    return into(np.ascontiguousarray(result, dtype=out._data.dtype), out)


def _check_dim(dim, ndim, op):
    if ndim == 0:
        raise IndexError(f"fft_{op}(): expected a tensor with at least 1 dimension")
    if not -ndim <= dim < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, "
                         f"{ndim - 1}], but got {dim})")


def _one_dim(numpy_fn, op, output, complex_in=False):
    def transform(input, n=None, dim=-1, norm=None, *, out=None):
        data = _input(input, op, complex_in)
        _check_dim(dim, data.ndim, op)
        if n is not None and n < 1:
            raise RuntimeError(f"Invalid number of data points ({n}) specified")
        result = numpy_fn(data, n=n, axis=dim, norm=_norm(norm))
        return _result(result, output(data), out, op)
    transform.__name__ = op
    transform.__doc__ = f"torch.fft.{op}(input, n=None, dim=-1, norm=None)"
    return transform


def _many_dims(numpy_fn, op, output, default_dims, complex_in=False):
    def transform(input, s=None, dim=default_dims, norm=None, *, out=None):
        data = _input(input, op, complex_in)
        axes = None if dim is None else tuple(dim) if isinstance(dim, (list, tuple)) else (dim,)
        for d in axes or ():
            _check_dim(d, data.ndim, op)
        if s is not None and axes is None:
            axes = tuple(range(-len(s), 0))
        result = numpy_fn(data, s=s, axes=axes, norm=_norm(norm))
        return _result(result, output(data), out, op.replace("2", "n"))
    transform.__name__ = op
    transform.__doc__ = f"torch.fft.{op}(input, s=None, dim={default_dims}, norm=None)"
    return transform


fft = _one_dim(np.fft.fft, "fft", _complex_of)
ifft = _one_dim(np.fft.ifft, "ifft", _complex_of)
rfft = _one_dim(np.fft.rfft, "rfft", _complex_of)
irfft = _one_dim(np.fft.irfft, "irfft", _real_of, complex_in=True)
hfft = _one_dim(np.fft.hfft, "hfft", _real_of, complex_in=True)
ihfft = _one_dim(np.fft.ihfft, "ihfft", _complex_of)
fft2 = _many_dims(np.fft.fftn, "fft2", _complex_of, (-2, -1))
ifft2 = _many_dims(np.fft.ifftn, "ifft2", _complex_of, (-2, -1))
rfft2 = _many_dims(np.fft.rfftn, "rfft2", _complex_of, (-2, -1))
irfft2 = _many_dims(np.fft.irfftn, "irfft2", _real_of, (-2, -1), complex_in=True)
fftn = _many_dims(np.fft.fftn, "fftn", _complex_of, None)
ifftn = _many_dims(np.fft.ifftn, "ifftn", _complex_of, None)
rfftn = _many_dims(np.fft.rfftn, "rfftn", _complex_of, None)
irfftn = _many_dims(np.fft.irfftn, "irfftn", _real_of, None, complex_in=True)


def _frequencies(numpy_fn, name):
    def frequencies(n, d=1.0, *, out=None, dtype=None, layout=None, device=None,
                    requires_grad=False):
        target = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
        result = into(numpy_fn(int(n), d).astype(target.numpy), out)
        if requires_grad:
            result.requires_grad_(True)
        return result
    frequencies.__name__ = name
    frequencies.__doc__ = f"torch.fft.{name}(n, d=1.0): the sample frequencies, default dtype"
    return frequencies


fftfreq = _frequencies(np.fft.fftfreq, "fftfreq")
rfftfreq = _frequencies(np.fft.rfftfreq, "rfftfreq")


def _shift(sign, name):
    def shift(input, dim=None):
        """A roll of each dim by half its length, so frequency 0 moves to the middle (or,
        undone, back): differentiable, as torch's."""
        from fastnn import roll
        ndim = input._data.ndim
        dims = list(range(ndim)) if dim is None else [dim] if isinstance(dim, int) else list(dim)
        if not dims:
            return input
        return roll(input, [sign * (input.shape[d] // 2) for d in dims], dims=dims)
    shift.__name__ = name
    shift.__doc__ = f"torch.fft.{name}(input, dim=None)"
    return shift


fftshift = _shift(1, "fftshift")
ifftshift = _shift(-1, "ifftshift")
