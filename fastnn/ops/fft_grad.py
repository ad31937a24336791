"""Gradients of torch.fft's complex-to-complex, real-to-complex and complex-to-real transforms,
with torch's convention for complex gradients (complex_grad.py). Each is linear, so its
backward is its adjoint:
- c2c (fft, ifft and their 2/n forms): the transform the other way with the normalisation
  swapped ("backward" <-> "forward", "ortho" kept): the adjoint of an unscaled DFT is the
  unscaled inverse DFT;
- r2c (rfft...): the one-sided gradient extended with zeros to the full spectrum, through that
  adjoint, real part (a real input keeps dL/dx);
- c2r (irfft...): rfft of the gradient with the normalisation swapped, the bins that stand for
  two (every one but the first and, for an even length, the last) doubled, as torch's
  fft_c2r_backward.
hfft and ihfft are a conjugate and a c2r or r2c transform (NumPy's definitions), so their
gradients are conjugated c2r and r2c ones. Then zero-padded or cropped inputs (n= or s= other than the input's size) get the adjoint of
the pad or crop: the gradient cropped or padded back to the input's size."""
import numpy as np

from fastnn.autograd.function import Function

_SWAPPED = {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}
_FORWARD = {"c2c": np.fft.fftn, "c2c_inverse": np.fft.ifftn, "r2c": np.fft.rfftn,
            "c2r": np.fft.irfftn}
# hfft is irfft of the conjugate with the normalisation swapped, ihfft the conjugate of rfft so
# (NumPy's definitions, and torch's): their gradients are conjugated c2r and r2c ones
_HERMITIAN = {"hermitian": "c2r", "hermitian_inverse": "r2c"}
_NAMES = {"c2c": "FftC2CBackward0", "c2c_inverse": "FftC2CBackward0", "r2c": "FftR2CBackward0",
          "c2r": "FftC2RBackward0"}


def _fit(g, shape, axes):
    """g cropped or zero-padded along `axes` to the input's sizes."""
    for a in axes:
        have, want = g.shape[a], shape[a]
        if have > want:
            g = np.take(g, np.arange(want), axis=a)
        elif have < want:
            widths = [(0, 0)] * g.ndim
            widths[a] = (0, want - have)
            g = np.pad(g, widths)
    return g


class Transform(Function):
    backward_name = "FftBackward0"
    complex_grad = True

    @staticmethod
    def forward(ctx, data, kind, s, axes, norm, dtype, computed_in):
        ctx.dtype = data.dtype
        data = data.astype(computed_in, copy=False)  # (half in float32, c2r of reals complex)
        ctx.conjugated = kind in _HERMITIAN
        if ctx.conjugated:
            kind, norm = _HERMITIAN[kind], _SWAPPED[norm]
            data = np.conj(data) if kind == "c2r" else data
        out = _FORWARD[kind](data, s=s, axes=axes, norm=norm)
        out = (np.conj(out) if ctx.conjugated and kind == "r2c" else out).astype(dtype, copy=False)
        axes = tuple(a % data.ndim for a in (axes if axes is not None else range(data.ndim)))
        last = axes[-1]
        # the length along the last axis before r2c halves it, after c2r restores it
        full = data.shape[last] if s is None else s[-1]
        ctx.meta = (kind, data.shape, axes, norm, out.shape[last] if kind == "c2r" else full)
        ctx.backward_name = _NAMES[kind]
        return out

    @staticmethod
    def backward(ctx, g):
        kind, shape, axes, norm, full = ctx.meta
        swapped = _SWAPPED[norm]
        if ctx.conjugated and kind == "r2c":
            g = np.conj(g)
        sizes = [g.shape[a] for a in axes]
        last = axes[-1]
        if kind == "c2c":
            grad = np.fft.ifftn(g, s=sizes, axes=axes, norm=swapped)
        elif kind == "c2c_inverse":
            grad = np.fft.fftn(g, s=sizes, axes=axes, norm=swapped)
        elif kind == "r2c":
            sizes[-1] = full
            spectrum = np.zeros(g.shape[:last] + (full,) + g.shape[last + 1:], g.dtype)
            index = [slice(None)] * g.ndim
            index[last] = slice(0, g.shape[last])
            spectrum[tuple(index)] = g
            grad = np.fft.ifftn(spectrum, s=sizes, axes=axes, norm=swapped).real
        else:
            grad = np.fft.rfftn(g, s=sizes, axes=axes, norm=swapped)
            doubled = full - grad.shape[last]  # bins 1 .. full - half: each stands for two
            if doubled > 0:
                index = [slice(None)] * g.ndim
                index[last] = slice(1, 1 + doubled)
                grad[tuple(index)] *= 2
        grad = _fit(grad, shape, axes)
        if ctx.conjugated and kind == "c2r":
            grad = np.conj(grad)
        if grad.dtype.kind == "c" and ctx.dtype.kind != "c":
            grad = grad.real  # a real input keeps the real part (torch's handle_r_to_c)
        return np.ascontiguousarray(grad, dtype=ctx.dtype), None, None, None, None, None, None
