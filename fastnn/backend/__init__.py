"""One kernel contract, three backends.

Every backend is a module that provides the kernels named in KERNELS with the same signatures
(results written into the given `out` arrays):

    gemm(a, b, out, bias=None, relu=False, accumulate=False)   out = a @ b (+out) (+bias) (relu)
    relu_forward(x, out)                                      out = max(x, 0), NaN kept
    relu_backward(x, grad_out, out)                           out = grad_out * (x > 0)
    relu_backward_bias(y, grad_out, out, bias_grad)           the same on 2-D y, and
                                                              bias_grad = out.sum(0) (or None)
    softmax_cross_entropy(logits, labels, losses, grad, grad_scale)
        losses[i] = logsumexp(logits[i]) - logits[i, labels[i]]
        grad = grad_scale * (softmax(logits) - onehot(labels)), unless grad is None

`cython` (the compiled C kernels, default), `numba` (the same algorithms with @njit) and
`numpy` (the reference and test oracle). The functions of this module validate their inputs
(fastnn/backend/checks.py) and then call the active backend, so no backend ever sees an
unchecked shape, dtype or label.
"""
import contextlib
import importlib
import os
import threading
import warnings

import numpy as np

from fastnn.backend import checks

KERNELS = ("gemm", "relu_forward", "relu_backward", "relu_backward_bias",
           "softmax_cross_entropy", "sgd_step", "adam_step", "adagrad_step", "rmsprop_step",
           "conv2d_forward", "conv2d_backward", "maxpool2d_forward", "maxpool2d_backward",
           "avgpool2d_forward", "avgpool2d_backward", "batchnorm_forward", "batchnorm_backward")
_MODULES = {
    "cython": "fastnn.backend.compiled",
    "numba": "fastnn.backend.numba_backend",
    "numpy": "fastnn.backend.reference",
}
_loaded = {}
_active = None  # the process-wide backend (use())
_scoped = threading.local()  # a per-thread override (using())


def names():
    """Every backend name fastnn knows, whether or not it can load here."""
    return list(_MODULES)


def get(name):
    """The backend module called `name` (imported on first use)."""
    if name not in _MODULES:
        raise ValueError(f"unknown backend {name!r}; expected one of {names()}")
    if name not in _loaded:
        module = importlib.import_module(_MODULES[name])
        missing = []
        for kernel in KERNELS:
            if not hasattr(module, kernel):
                missing.append(kernel)
                setattr(module, kernel, getattr(get("numpy"), kernel))
        if missing:
            warnings.warn(f"backend {name!r} has no {', '.join(missing)}; those run on the "
                          "numpy reference", RuntimeWarning, stacklevel=2)
        _loaded[name] = module
    return _loaded[name]


def use(name):
    """Make `name` ('cython', 'numba' or 'numpy') the backend every op runs on, in every thread
    (process-wide; a thread inside `using()` keeps its own until the block ends)."""
    global _active
    module = get(name)
    if hasattr(module, "set_num_threads"):
        from fastnn import threads

        module.set_num_threads(threads.get_num_threads())
    _active = module


@contextlib.contextmanager
def using(name):
    """Run the ops of this block, on this thread only, on backend `name`; other threads keep
    theirs. Blocks nest; the previous choice comes back at exit, also after an exception.

        with fastnn.backend.using("numba"):
            loss = model(x)
    """
    module = get(name)
    previous = getattr(_scoped, "module", None)
    _scoped.module = module
    try:
        yield module
    finally:
        _scoped.module = previous


def current():
    """The name of the backend ops run on in this thread."""
    return _active_module().NAME


def _default():
    requested = os.environ.get("FASTNN_BACKEND")
    if requested:
        return requested
    try:
        importlib.import_module("fastnn._kernels")
        return "cython"
    except ImportError as exc:  # a source checkout that was never built
        warnings.warn(f"fastnn's compiled kernels are not built ({exc}); using the numpy "
                      "reference backend, which is much slower", RuntimeWarning, stacklevel=3)
        return "numpy"


def _active_module():
    scoped = getattr(_scoped, "module", None)
    if scoped is not None:
        return scoped
    if _active is None:
        use(_default())
    return _active


def _pick(backend):
    return _active_module() if backend is None else get(backend)


# --- the checked entry points every op uses ------------------------------------------------

def gemm(a, b, out=None, bias=None, relu=False, accumulate=False, backend=None):
    """out = a @ b (+ out if accumulate) (+ bias) (then ReLU); a and b may have any strides."""
    if not checks.gemm_operands_ok(a, b):
        checks.check_gemm_operands(a, b)
    if out is None:  # a fresh output cannot overlap the inputs: only the bias needs checking
        out = np.empty((a.shape[0], b.shape[1]), dtype=np.float32)
        if bias is not None:
            checks.check_gemm_output(a, b, out, bias)
    else:
        checks.check_gemm_output(a, b, out, bias)
    return _pick(backend).gemm(a, b, out, bias, bool(relu), bool(accumulate))


def relu_forward(x, out=None, backend=None):
    out = np.empty_like(x) if out is None else out
    if not checks.elementwise_ok((x,), out):
        checks.check_elementwise([("input", x)], out)
    return _pick(backend).relu_forward(x, out)


def relu_backward(x, grad_out, out=None, backend=None):
    out = np.empty_like(x) if out is None else out
    if not checks.elementwise_ok((x, grad_out), out):
        checks.check_elementwise([("input", x), ("grad_output", grad_out)], out)
    return _pick(backend).relu_backward(x, grad_out, out)


def relu_backward_bias(y, grad_out, want_bias=True, backend=None):
    """(grad_out masked by y > 0, its column sums or None): a Linear+ReLU epilogue's backward."""
    checks.require_float32("input", y)
    checks.require_rank("input", y, 2)
    out = np.empty_like(y, order="C")
    if not checks.elementwise_ok((y, grad_out), out):
        checks.check_elementwise([("input", y), ("grad_output", grad_out)], out)
    bias_grad = np.empty(y.shape[1], dtype=np.float32) if want_bias else None
    _pick(backend).relu_backward_bias(y, grad_out, out, bias_grad)
    return out, bias_grad


def softmax_cross_entropy(logits, labels, want_grad=True, grad_scale=1.0, backend=None):
    """Per-row losses, and (if want_grad) grad_scale * (softmax - onehot), in one fused pass."""
    checks.require_float32("input", logits)
    checks.require_rank("input", logits, 2)
    logits = np.ascontiguousarray(logits)
    checks.check_labels(labels, logits.shape[0], logits.shape[1])
    labels = np.ascontiguousarray(labels, dtype=np.int64)
    if logits.shape[1] == 0 and logits.shape[0]:
        raise ValueError("input must have at least one class")
    # outputs are allocated here, so they have the right shape, dtype and layout
    losses = np.empty(logits.shape[0], dtype=np.float32)
    grad = np.empty_like(logits) if want_grad else None
    _pick(backend).softmax_cross_entropy(logits, labels, losses, grad, float(grad_scale))
    return losses, grad


def sgd_step(param, grad, buf=None, lr=0.1, weight_decay=0.0, momentum=0.0, dampening=0.0,
             nesterov=False, first=False, backend=None):
    """One SGD update of `param` in place (torch.optim.SGD's rule); buf is the momentum buffer."""
    _state_impl(backend, param, grad, buf).sgd_step(param, grad, buf, float(lr), float(weight_decay), float(momentum),
                            float(dampening), bool(nesterov), bool(first))


def _state_impl(backend, param, grad, *state):
    """The backend that runs an optimizer update: the chosen one for float32 (after the
    checks), the NumPy reference for other floating dtypes (float64/float16 parameters, which
    the kernels do not take), when every array has the parameter's dtype, shape and layout."""
    arrays = (grad,) + tuple(a for a in state if a is not None)
    if checks.elementwise_ok(arrays, param) and all(a.flags.writeable for a in arrays[1:]):
        return _pick(backend)
    if isinstance(param, np.ndarray) and param.dtype.kind == "f" and param.dtype != np.float32 \
            and param.flags.c_contiguous and param.flags.writeable and all(
                isinstance(a, np.ndarray) and a.dtype == param.dtype and a.shape == param.shape
                and a.flags.c_contiguous for a in arrays):
        return _pick("numpy")
    names = ["grad"] + [f"state {i}" for i in range(len(arrays) - 1)]
    checks.check_elementwise(list(zip(names, arrays)), param)
    for name, array in zip(names[1:], arrays[1:]):  # optimizer state is written in place
        checks.require_writable_c_contiguous(name, array)
    return _pick(backend)


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step_size, inv_bc2_sqrt,
              beta1, beta2, eps, l2=0.0, decay=1.0, backend=None):
    _state_impl(backend, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq).adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, float(step_size),
                             float(inv_bc2_sqrt), float(beta1), float(beta2), float(eps),
                             float(l2), float(decay))


def adagrad_step(param, grad, state_sum, clr, weight_decay, eps, backend=None):
    _state_impl(backend, param, grad, state_sum).adagrad_step(param, grad, state_sum, float(clr), float(weight_decay),
                                float(eps))


def rmsprop_step(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                 weight_decay, momentum, backend=None):
    _state_impl(backend, param, grad, square_avg, grad_avg, momentum_buffer).rmsprop_step(param, grad, square_avg, grad_avg, momentum_buffer, float(lr),
                                float(alpha), float(eps), float(weight_decay), float(momentum))


def conv2d_forward(x, w, bias, y, shape, relu=False, backend=None):
    checks.check_conv2d_forward(x, w, bias, y, shape)
    _pick(backend).conv2d_forward(x, w, bias, y, shape, bool(relu))


def conv2d_backward(x, w, gy, gx, gw, gb, shape, relu_output=None, backend=None):
    checks.check_conv2d_backward(x, w, gy, gx, gw, gb, shape, relu_output)
    _pick(backend).conv2d_backward(x, w, gy, gx, gw, gb, shape, relu_output)


def maxpool2d_forward(x, y, idx, shape, backend=None):
    checks.check_maxpool2d_forward(x, y, idx, shape)
    _pick(backend).maxpool2d_forward(x, y, idx, shape)


def maxpool2d_backward(gy, idx, gx, shape, backend=None):
    checks.check_maxpool2d_backward(gy, idx, gx, shape)
    _pick(backend).maxpool2d_backward(gy, idx, gx, shape)


def avgpool2d_forward(x, y, shape, count_include_pad, backend=None):
    checks.check_avgpool2d(x, y, shape, "input", "output")
    _pick(backend).avgpool2d_forward(x, y, shape, bool(count_include_pad))


def avgpool2d_backward(gy, gx, shape, count_include_pad, backend=None):
    checks.check_avgpool2d(gy, gx, shape, "grad_output", "grad_input")
    _pick(backend).avgpool2d_backward(gy, gx, shape, bool(count_include_pad))


def batchnorm_forward(x, gamma, beta, y, mean, var, training, eps, backend=None):
    """training: the batch's mean and biased variance are written into mean/var (float64);
    otherwise they are read from them."""
    checks.check_batchnorm(x, [("weight", gamma), ("bias", beta)],
                           [("mean", mean, bool(training)), ("var", var, bool(training))],
                           [("output", y, "x")])
    _pick(backend).batchnorm_forward(x, gamma, beta, y, mean, var, bool(training), float(eps))


def batchnorm_backward(x, g, gamma, mean, var, gx, ggamma, gbeta, eps, backend=None):
    checks.check_array("grad_output", g, getattr(x, "shape", ()))
    checks.check_batchnorm(x, [("weight", gamma)], [("mean", mean, False), ("var", var, False)],
                           [("grad_input", gx, "x"), ("grad_weight", ggamma, "c"),
                            ("grad_bias", gbeta, "c")])
    _pick(backend).batchnorm_backward(x, g, gamma, mean, var, gx, ggamma, gbeta, float(eps))
