"""Complex tensors: what torch.linalg.eig and torch.fft return and complex literals make
(d2l's eigendecomposition appendix prints, iterates and takes abs of eig's eigenvalues).

Values live in NumPy complex64/complex128 arrays and the elementwise ops and reductions reach
them through NumPy. Autograd: torch differentiates complex functions by Wirtinger calculus
(gradients through conjugates), which most real backward formulas would get wrong without a
word. The ops whose backward is written for complex numbers record (complex_grad.py: these
views, conj, complex, polar, the arithmetic, sum, mean, abs, the shape ops); any other op
that would record a complex result raises instead (complex_result_of_grad)."""
import numpy as np

from fastnn import dtypes
from fastnn.ops import complex_grad
from fastnn.tensor import Tensor


def complex_result_of_grad(op, *inputs):
    """Refuse to make a complex result from inputs that require grad (see the module note)."""
    if records(*inputs):
        no_complex_backward(op)


def no_complex_backward(op):
    raise RuntimeError(f"{op}: fastnn's autograd of complex numbers covers view_as_complex, "
                       "view_as_real, complex, polar, real, imag, conj, angle, abs, +, -, *, /, "
                       "sum, mean, casts and the shape ops, and this op's backward is written for "
                       "real numbers only; call it on a detached input (x.detach()) or under "
                       "torch.no_grad()")


def records(*inputs):
    from fastnn.autograd import grad_mode
    return grad_mode.is_grad_enabled() and any(isinstance(t, Tensor) and t.requires_grad
                                               for t in inputs)


def refuse_order(data, kernel=None, message=None):
    """Complex numbers have no order: torch's errors for the ops that would need one (a
    kernel name gives its NotImplementedError "<kernel>" not implemented for 'ComplexFloat',
    a message its RuntimeError)."""
    if data.dtype.kind != "c":
        return
    if message is not None:
        raise RuntimeError(message)
    raise NotImplementedError(f"\"{kernel}\" not implemented for "
                              f"'{dtypes.of_array(data).title}'")


def is_complex(input):
    return input._data.dtype.kind == "c"


def real(input):
    """The real parts of a complex tensor, as a view; a real tensor is returned as is."""
    if not is_complex(input):
        return input
    if records(input):
        return complex_grad.Real.apply(input)
    return _view(input, input._data.real)


def imag(input):
    if not is_complex(input):
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    if records(input):
        return complex_grad.Imag.apply(input)
    return _view(input, input._data.imag)


def _view(input, array):
    out = Tensor._wrap(array)
    out._base = input if input._base is None else input._base
    return out


def conj(input):
    """The complex conjugate (a copy; torch's lazy conjugate bit is not modelled, so
    is_conj() stays False). A real tensor is its own conjugate, returned as is."""
    if not is_complex(input):
        return input
    if records(input):
        return complex_grad.Conj.apply(input)
    return Tensor._wrap(np.conj(input._data))


def resolve_conj(input):
    """input itself: conj() already materialises the conjugate (no lazy bit to resolve)."""
    return input


def angle(input):
    """The argument: atan2(imag, real) for complex; 0 or pi for real numbers (NaN stays)."""
    if input._data.dtype.kind != "c":
        from fastnn.ops.broadcast import floating
        input = floating(input)
    if records(input):
        return complex_grad.Angle.apply(input)
    return Tensor._wrap(complex_grad.angle_of(input._data))


def view_as_real(input):
    """A complex tensor's storage as a real one with a last dimension of 2 (real, imag)."""
    data = input._data
    if data.dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    if data.ndim and data.strides[-1] != data.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if records(input):
        return complex_grad.ViewAsReal.apply(input)
    return _view(input, complex_grad.as_real(data))


def view_as_complex(input):
    """A float tensor with a last dimension of 2 read as complex numbers (a view)."""
    data = input._data
    if data.dtype == np.float16:
        raise RuntimeError("view_as_complex of a half tensor makes complex32, which fastnn does "
                           "not have")
    if data.dtype not in (np.float32, np.float64):
        raise RuntimeError("view_as_complex is only supported for half, float and double "
                           f"tensors, but got a tensor of scalar type: {input.dtype.title}")
    if data.ndim == 0 or data.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if data.strides[-1] != data.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if records(input):
        return complex_grad.ViewAsComplex.apply(input)
    return _view(input, complex_grad.as_complex(data))


def _pair(name, a, b):
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
        raise TypeError(f"{name}(): argument 'real' (position 1) must be Tensor")
    kinds = (np.float16, np.float32, np.float64)
    if a._data.dtype not in kinds or b._data.dtype not in kinds:
        raise RuntimeError("Expected both inputs to be Half, Float or Double tensors but got "
                           f"{a.dtype.title} and {b.dtype.title}")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"Expected object of scalar type {a.dtype.title} but got scalar type "
                           f"{b.dtype.title} for second argument")
    return records(a, b)


def _recorded(name, out, a, b):
    """Whether torch.complex/polar records: inputs that require grad and no out= (torch's
    error where both are given, as for every out= function)."""
    if not _pair(name, a, b):
        return False
    if out is not None:
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    return True


def complex(real, imag, *, out=None):
    """real + imag * 1j, broadcast, in the complex dtype of the inputs' precision."""
    if _recorded("complex", out, real, imag):
        return complex_grad.Complex.apply(real, imag)
    return into(complex_grad.complex_of(real._data, imag._data), out)


def polar(abs, angle, *, out=None):
    """abs * (cos(angle) + 1j sin(angle)), as torch.polar."""
    if _recorded("polar", out, abs, angle):
        return complex_grad.Polar.apply(abs, angle)
    r, theta = abs._data, angle._data
    return into(complex_grad.complex_of(r * np.cos(theta), r * np.sin(theta)), out)


def into(result, out):
    """The array `result` as a new tensor, or written into out= by the project's out= writer
    (arithmetic._out: in place, resized, version bumped) after torch's dtype check."""
    if out is None:
        return Tensor._wrap(result)
    if out._data.dtype != result.dtype:
        raise RuntimeError(f"Expected out tensor to have dtype {dtypes.of_array(result)!r}, but "
                           f"got {out.dtype!r} instead")
    from fastnn.ops.arithmetic import _out
    return _out(Tensor._wrap(result), out)


def install(namespace):
    """fastnn.real/imag/conj/angle/view_as_real/view_as_complex/complex/polar/is_complex, and
    the Tensor methods and the .real/.imag properties."""
    for name in ("real", "imag", "conj", "angle", "view_as_real", "view_as_complex", "complex",
                 "polar", "is_complex"):
        namespace[name] = globals()[name]
    namespace["conj_physical"], namespace["resolve_conj"] = conj, resolve_conj
    for name in ("conj", "angle", "is_complex", "resolve_conj"):
        setattr(Tensor, name, globals()[name])
    Tensor.conj_physical = conj
    Tensor.real = property(real)
    Tensor.imag = property(imag)
