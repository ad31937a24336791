"""torch.fft: discrete Fourier transforms on NumPy's pocketfft, with torch's names, signatures
(n/s, dim, norm) and dtypes: a float32 (or integer) input gives complex64, float64 gives
complex128, and the inverse real transforms give the matching real dtype. As for every complex
result in fastnn, the transforms record for autograd where their backward is written
(fastnn/ops/fft_grad.py), and refuse an input that requires grad
otherwise (and with out=) rather than silently detach it (fastnn/ops/complex_ops.py)."""
import numpy as np

from fastnn import dtypes
from fastnn.ops import fft_grad
from fastnn.ops.complex_ops import records, complex_result_of_grad, into
from fastnn.tensor import Tensor

_NORMS = (None, "backward", "forward", "ortho")


def _input(input, op, complex_in=False, recorded=False, real_in=None):
    """input's array in the dtype the transform computes in: complex for the complex-to-any
    transforms (complex_in), else floating (integers and bools as the default dtype)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fft_{op}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    data = input._data
    if real_in and data.dtype.kind == "c":  # torch's words: "real" in 1-D, "real-valued" in n-D
        raise RuntimeError(f"{real_in} expects a real{'' if real_in == op else '-valued'} input "
                           f"tensor, but got {dtypes.of_array(data).title}")
    if not recorded:
        complex_result_of_grad(f"torch.fft.{op}", input)
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


def _recorded(input, kind, out):
    """Whether this call records for autograd: a transform with a backward (kind), an input
    that requires grad with grad mode on, and no out=."""
    return kind is not None and out is None and records(input)


def _one_dim(numpy_fn, op, output, complex_in=False, kind=None):
    def transform(input, n=None, dim=-1, norm=None, *, out=None):
        recorded = _recorded(input, kind, out)
        data = _input(input, op, complex_in, recorded, op if op in ("rfft", "ihfft") else None)
        _check_dim(dim, data.ndim, op)
        if n is not None and n < 1:
            raise RuntimeError(f"Invalid number of data points ({n}) specified")
        if recorded:
            return fft_grad.Transform.apply(input, kind, None if n is None else (n,), (dim,),
                                            _norm(norm), output(data), data.dtype)
        result = numpy_fn(data, n=n, axis=dim, norm=_norm(norm))
        return _result(result, output(data), out, op)
    transform.__name__ = op
    transform.__doc__ = f"torch.fft.{op}(input, n=None, dim=-1, norm=None)"
    return transform


def _many_dims(numpy_fn, op, output, default_dims, complex_in=False, kind=None):
    def transform(input, s=None, dim=default_dims, norm=None, *, out=None):
        recorded = _recorded(input, kind, out)
        data = _input(input, op, complex_in, recorded, "rfftn" if op[:4] == "rfft" else None)
        axes = None if dim is None else tuple(dim) if isinstance(dim, (list, tuple)) else (dim,)
        for d in axes or ():
            _check_dim(d, data.ndim, op)
        if s is not None and axes is None:
            axes = tuple(range(-len(s), 0))
        if recorded:
            return fft_grad.Transform.apply(input, kind, None if s is None else tuple(s), axes,
                                            _norm(norm), output(data), data.dtype)
        result = numpy_fn(data, s=s, axes=axes, norm=_norm(norm))
        return _result(result, output(data), out, op.replace("2", "n"))
    transform.__name__ = op
    transform.__doc__ = f"torch.fft.{op}(input, s=None, dim={default_dims}, norm=None)"
    return transform


fft = _one_dim(np.fft.fft, "fft", _complex_of, kind="c2c")
ifft = _one_dim(np.fft.ifft, "ifft", _complex_of, kind="c2c_inverse")
rfft = _one_dim(np.fft.rfft, "rfft", _complex_of, kind="r2c")
irfft = _one_dim(np.fft.irfft, "irfft", _real_of, complex_in=True, kind="c2r")
hfft = _one_dim(np.fft.hfft, "hfft", _real_of, complex_in=True, kind="hermitian")
ihfft = _one_dim(np.fft.ihfft, "ihfft", _complex_of, kind="hermitian_inverse")
fft2 = _many_dims(np.fft.fftn, "fft2", _complex_of, (-2, -1), kind="c2c")
ifft2 = _many_dims(np.fft.ifftn, "ifft2", _complex_of, (-2, -1), kind="c2c_inverse")
rfft2 = _many_dims(np.fft.rfftn, "rfft2", _complex_of, (-2, -1), kind="r2c")
irfft2 = _many_dims(np.fft.irfftn, "irfft2", _real_of, (-2, -1), complex_in=True, kind="c2r")
fftn = _many_dims(np.fft.fftn, "fftn", _complex_of, None, kind="c2c")
ifftn = _many_dims(np.fft.ifftn, "ifftn", _complex_of, None, kind="c2c_inverse")
rfftn = _many_dims(np.fft.rfftn, "rfftn", _complex_of, None, kind="r2c")
irfftn = _many_dims(np.fft.irfftn, "irfftn", _real_of, None, complex_in=True, kind="c2r")


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
