"""The complex ops that record for autograd, with torch's convention for complex gradients:
for a real loss L and a complex z = x + iy, z's gradient is dL/dx + i dL/dy. A holomorphic
op's backward then multiplies by the conjugate of its derivative (a product's is g * conj(b)),
and a real input of a complex result keeps the real part of its gradient (the engine applies
that, Function.apply notes which inputs are real).

Enough to train what pytorch/examples' Llama 2 model does with rotary embeddings:
view_as_complex of the queries and keys, a product with the complex frequencies, view_as_real
back (distributed/tensor_parallelism/llama2_model.py), besides complex(), polar(), real/imag
and conj. The arithmetic, sum, mean, abs and shape ops mark themselves complex_grad where
their backward holds for complex numbers; any other op given a complex input that requires
grad raises (Function.apply)."""
import numpy as np

from fastnn import dtypes
from fastnn.autograd.function import Function
from fastnn.ops.broadcast import unbroadcast


def as_complex(x):
    """(..., 2) float pairs read as (...) complex numbers (a view of the same memory)."""
    return x.view(dtypes.of_array(x).to_complex().numpy).reshape(x.shape[:-1])


def as_real(z):
    """(...) complex numbers as (..., 2) float pairs (a view of the same memory)."""
    return z.reshape(z.shape + (1,)).view(dtypes.of_array(z).to_real().numpy)


def _pairs(g):
    return np.stack((g.real, g.imag), axis=-1)


def complex_of(re, im):
    out = np.empty(np.broadcast_shapes(re.shape, im.shape),
                   dtypes.of_array(re).to_complex().numpy)
    out.real, out.imag = re, im
    return out


class ViewAsComplex(Function):
    backward_name = "ViewAsComplexBackward0"
    is_view = True
    complex_grad = True

    @staticmethod
    def forward(ctx, x):
        return as_complex(x)

    @staticmethod
    def backward(ctx, g):
        return _pairs(g)

    @staticmethod
    def view_fn():
        return as_complex


class ViewAsReal(Function):
    backward_name = "ViewAsRealBackward0"
    is_view = True
    complex_grad = True

    @staticmethod
    def forward(ctx, z):
        return as_real(z)

    @staticmethod
    def backward(ctx, g):
        return complex_of(g[..., 0], g[..., 1])

    @staticmethod
    def view_fn():
        return as_real


class Real(Function):
    backward_name = "RealBackward0"
    is_view = True
    complex_grad = True

    @staticmethod
    def forward(ctx, z):
        return z.real

    @staticmethod
    def backward(ctx, g):
        return complex_of(g, np.zeros_like(g))

    @staticmethod
    def view_fn():
        return lambda z: z.real


class Imag(Function):
    backward_name = "ImagBackward0"
    is_view = True
    complex_grad = True

    @staticmethod
    def forward(ctx, z):
        return z.imag

    @staticmethod
    def backward(ctx, g):  # y = Im z: z's gradient is 0 + i g
        return complex_of(np.zeros_like(g), g)

    @staticmethod
    def view_fn():
        return lambda z: z.imag


class Conj(Function):
    backward_name = "ConjBackward0"
    complex_grad = True

    @staticmethod
    def forward(ctx, z):
        return np.conj(z)

    @staticmethod
    def backward(ctx, g):
        return np.conj(g)


def angle_of(z):
    """atan2(imag, real); of a real number 0 or pi (NaN stays)."""
    if z.dtype.kind == "c":
        return np.angle(z).astype(dtypes.of_array(z).to_real().numpy)
    return np.where(np.isnan(z), z, np.where(z < 0, np.pi, 0.0)).astype(z.dtype)


class Angle(Function):
    """angle_of, recorded: the gradient of a complex z is g i z / |z|^2 (0 at 0), of a real
    number 0, as torch's angle_backward."""
    backward_name = "AngleBackward0"
    complex_grad = True

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return angle_of(z)

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        if z.dtype.kind != "c":
            return np.zeros_like(g)
        square = (z * np.conj(z)).real
        return np.divide(g * 1j * z, square, out=np.zeros_like(z), where=square != 0)


class Complex(Function):
    """torch.complex(real, imag): each input gets its part of the gradient."""
    backward_name = "ComplexBackward0"
    complex_grad = True

    @staticmethod
    def forward(ctx, re, im):
        ctx.shapes = (re.shape, im.shape)
        return complex_of(re, im)

    @staticmethod
    def backward(ctx, g):
        need_re, need_im = ctx.needs_input_grad
        return (unbroadcast(np.ascontiguousarray(g.real), ctx.shapes[0]) if need_re else None,
                unbroadcast(np.ascontiguousarray(g.imag), ctx.shapes[1]) if need_im else None)


class Polar(Function):
    """torch.polar(abs, angle) = abs e^(i angle): dz/dabs = e^(i angle), dz/dangle = i z, and
    a real input's gradient is Re(g conj(dz/dinput))."""
    backward_name = "PolarBackward0"
    complex_grad = True

    @staticmethod
    def forward(ctx, r, theta):
        cos, sin = np.cos(theta), np.sin(theta)
        z = complex_of(r * cos, r * sin)
        ctx.save_for_backward(complex_of(cos, sin), z)
        ctx.shapes = (r.shape, theta.shape)
        return z

    @staticmethod
    def backward(ctx, g):
        unit, z = ctx.saved_tensors
        need_r, need_theta = ctx.needs_input_grad
        grad_r = (g * np.conj(unit)).real if need_r else None
        grad_theta = (g * np.conj(1j * z)).real if need_theta else None
        return (None if grad_r is None else unbroadcast(grad_r, ctx.shapes[0]),
                None if grad_theta is None else unbroadcast(grad_theta, ctx.shapes[1]))
