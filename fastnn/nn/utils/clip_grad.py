"""Gradient clipping in place, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_."""
import math

import numpy as np

from fastnn.tensor import Tensor


def _with_grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale all gradients together so their total norm is at most max_norm; returns the
    total norm before clipping (a 0-d tensor). The norm is accumulated in float64."""
    params = _with_grads(parameters)
    norm_type = float(norm_type)
    if not params:
        return Tensor._wrap(np.asarray(0.0, np.float32))
    grads = [p.grad._data for p in params]
    if math.isinf(norm_type):
        total = max(float(np.abs(g).max()) if g.size else 0.0 for g in grads)
    else:
        total = sum(float(np.sum(np.abs(g.astype(np.float64)) ** norm_type)) for g in grads)
        total = total ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    coefficient = min(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g *= g.dtype.type(coefficient)
    return Tensor._wrap(np.asarray(total, dtype=grads[0].dtype))


def clip_grad_value_(parameters, clip_value, foreach=None):
    for p in _with_grads(parameters):
        np.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of all the tensors' entries together (torch.nn.utils.get_total_norm), in
    float64, returned in the first tensor's dtype."""
    from fastnn.tensor import Tensor as _Tensor
    tensors = [tensors] if isinstance(tensors, _Tensor) else list(tensors)
    if not tensors:
        return Tensor._wrap(np.asarray(0.0, np.float32))
    arrays = [t._data for t in tensors]
    norm_type = float(norm_type)
    if math.isinf(norm_type):
        total = max(float(np.abs(a).max()) if a.size else 0.0 for a in arrays)
    else:
        total = sum(float(np.sum(np.abs(a.astype(np.float64)) ** norm_type)) for a in arrays)
        total = total ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    return Tensor._wrap(np.asarray(total, dtype=arrays[0].dtype))


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scales the gradients by max_norm / (total_norm + 1e-6) when that is below one (the
    second half of clip_grad_norm_, given a norm from get_total_norm)."""
    coefficient = min(max_norm / (float(total_norm) + 1e-6), 1.0)
    for p in _with_grads(parameters):
        p.grad._data *= p.grad._data.dtype.type(coefficient)


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                   foreach=None):
    """The deprecated name of clip_grad_norm_ (torch warns the same)."""
    import warnings
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)
