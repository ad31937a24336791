"""One kernel contract, three backends.

The kernels are declared once, in fastnn/backend/contract.py (name, parameters, what each
computes). A backend is a module with one function per declared kernel, taking exactly the
declared parameters and writing results into the given output arrays, or listing the kernel in
its FALLBACK tuple to use the NumPy reference (stated in a warning when the backend loads):

    cython   the compiled C kernels (kernels/), the default
    numba    the same algorithms with @njit
    numpy    the readable reference and the tests' oracle

Every call goes through the entry points below: they allocate the outputs, run
`checks.check_<kernel>(*args)` (shapes, dtypes, layouts, writability, overlaps, label ranges,
with PyTorch's messages where PyTorch has them), and only then call the backend. So no backend
ever sees an unchecked argument, and a bad call raises the same exception on all three. (The
compiled backend validates the common call in C first, `gemm_if_valid` and the `*_if_valid`
entries: they accept exactly what the checkers accept and hand anything else to them.)

The active backend is process-wide (`use`, FASTNN_BACKEND), with a per-thread override
(`using`); the thread count is process-wide on every backend (fastnn.set_num_threads).
"""
import contextlib
import importlib
import os
import threading
import warnings

import numpy as np

from fastnn import dtypes
from fastnn.backend import checks, contract, reference_rnn

KERNELS = contract.NAMES
# Each kernel's checker, resolved once (a missing one fails at import, not at the first call).
_CHECKERS = {k.name: getattr(checks, k.checker) for k in contract.KERNELS}
_MODULES = {
    "cython": "fastnn.backend.compiled",
    "numba": "fastnn.backend.numba_backend",
    "numpy": "fastnn.backend.reference",
}
_loaded = {}
_tables = {}  # backend name -> {kernel name: implementation}
_active = None  # the process-wide backend (use())
_scoped = threading.local()  # a per-thread override (using())
_validated = {}  # backend name -> {kernel: entry validating its own arguments}, see get()


def names():
    """Every backend name fastnn knows, whether or not it can load here."""
    return list(_MODULES)


def get(name):
    """The backend module called `name` (imported on first use)."""
    if name not in _MODULES:
        raise ValueError(f"unknown backend {name!r}; expected one of {names()}")
    if name not in _loaded:
        module = importlib.import_module(_MODULES[name])
        fallback = tuple(getattr(module, "FALLBACK", ()))
        missing = [k for k in KERNELS if k not in fallback and not callable(getattr(module, k, None))]
        if missing:
            raise ImportError(f"backend {name!r} provides no {', '.join(missing)}: implement "
                              f"them or list them in its FALLBACK tuple")
        reference = get("numpy") if fallback else None
        _tables[name] = {k: getattr(reference if k in fallback else module, k) for k in KERNELS}
        # A backend may validate the common call itself, in C, more cheaply than the checkers
        # (the compiled backend's `<kernel>_if_valid`): such an entry runs the kernel and
        # returns True, or returns False having done nothing, and _call goes the checked way.
        _validated[name] = dict(getattr(module, "VALIDATED", {}))
        if fallback:
            warnings.warn(f"backend {name!r} runs {', '.join(fallback)} on the numpy reference",
                          RuntimeWarning, stacklevel=2)
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


def _call(kernel, backend, *args):
    """The one way into a backend: the kernel's checker, then its implementation (or the
    backend's own validating entry, for a call it vouches for)."""
    name = _pick(backend).NAME
    validated = _validated[name].get(kernel)
    if validated is not None and validated(*args):
        return None
    _CHECKERS[kernel](*args)
    return _tables[name][kernel](*args)


def _prechecked(kernel, backend):
    """The kernel itself, for an entry point that has established everything its checker asks
    (with outputs it allocated): the call skips only the repeated checks."""
    return _tables[_pick(backend).NAME][kernel]


# --- the checked entry points every op uses ------------------------------------------------

def gemm(a, b, out=None, bias=None, relu=False, accumulate=False, backend=None):
    """out = a @ b (+ out if accumulate) (+ bias) (then ReLU); a and b may have any strides."""
    module = _pick(backend)
    if module.NAME == "cython":  # the common call, validated in C (see gemm_if_valid)
        done = module.gemm_if_valid(a, b, out, bias, bool(relu), bool(accumulate))
        if done is not None:
            return done
    if out is None and checks.gemm_operands_ok(a, b):
        out = np.empty((a.shape[0], b.shape[1]), dtype=np.float32)
    _call("gemm", module.NAME, a, b, out, bias, bool(relu), bool(accumulate))
    return out


def product(a, b, out=None, bias=None, accumulate=False, backend=None):
    """a @ b (+ bias), into out or added to it: the GEMM kernel for float32 arrays, NumPy's
    product for float64 ones (a model.double()), which the kernels do not take."""
    if a.dtype == np.float32:
        return gemm(a, b, out=out, bias=bias, accumulate=accumulate, backend=backend)
    return reference_rnn.numpy_mm(a, b, out=out, bias=bias, accumulate=accumulate)


def gemm_bf16(a, b, out=None, bias=None, relu=False, accumulate=False, backend=None):
    """out = bf16(a) @ bf16(b) (+ out if accumulate) (+ bias) (then ReLU), accumulated in
    float32: autocast's matmul. The compiled backend on a CPU with AVX512_BF16 rounds the
    operands while packing them (kernels/gemm_bf16.c); elsewhere rounded copies go through
    the float32 GEMM, which forms the same products (a bf16 x bf16 product is exact in
    float32) in another summation order. Same checks, same errors as gemm."""
    module = _pick(backend)
    if out is None and checks.gemm_operands_ok(a, b):
        # a new out for checked operands and bias: nothing to overlap, nothing else to check
        # (check_gemm was a third of autocast's batch-1 Linear)
        out = np.empty((a.shape[0], b.shape[1]), dtype=np.float32)
        if not checks.gemm_bias_ok(bias, b.shape[1]):
            checks.check_gemm(a, b, out, bias, bool(relu), bool(accumulate))
    else:
        checks.check_gemm(a, b, out, bias, bool(relu), bool(accumulate))
    if module.NAME == "cython" and module.gemm_bf16(a, b, out, bias, bool(relu),
                                                    bool(accumulate)):
        return out
    return gemm(round_bf16(a), round_bf16(b), out, bias, relu, accumulate, backend=module.NAME)


def gemm_bf16_storage(a, b, out=None, bias=None, relu=False, accumulate=False, backend=None):
    """out = a @ b (+ out if accumulate) (+ bias) (then ReLU) for 2-D a and b in bfloat16
    storage, accumulated in float32: torch's CPU bfloat16 matmul. out may be float32, or
    bfloat16 (rounded to nearest even, as torch's result; not with accumulate); None gives a
    bfloat16 result where the kernel runs, else a float32 one. The compiled backend with
    AVX512_BF16 packs the bfloat16 values as they are, with nothing to round and half the
    bytes to read, and rounds each finished tile of C; elsewhere their float32 widening
    (exact) goes through the float32 GEMM."""
    bf16 = dtypes.bfloat16.numpy
    for name, x in (("a", a), ("b", b)):
        if not isinstance(x, np.ndarray) or x.dtype != bf16 or x.ndim != 2:
            raise TypeError(f"gemm_bf16_storage: {name} must be a 2-D bfloat16 array")
    module = _pick(backend)
    native = module.NAME == "cython" and module.bf16_supported()
    if out is None and a.shape[1] == b.shape[0] and not accumulate:
        # a new out: the kernel wrapper's own shape checks suffice (~15 us of checks and a
        # float32 stand-in were 10% of a 256x784x256 product)
        out = np.empty((a.shape[0], b.shape[1]), bf16 if native else np.float32)
    else:
        stand_in = out
        if isinstance(out, np.ndarray) and out.dtype == bf16:
            if accumulate:
                raise ValueError("gemm_bf16_storage: a bfloat16 out cannot be accumulated into")
            if out.flags.writeable and out.flags.c_contiguous:  # float32 checks on its shape
                stand_in = np.empty(out.shape, np.float32)
        checks.check_gemm(np.broadcast_to(np.float32(0), a.shape),
                          np.broadcast_to(np.float32(0), b.shape), stand_in, bias, bool(relu),
                          bool(accumulate))
        checks.check_no_overlap([("out", out)], [("a", a), ("b", b)])
    if native and module.gemm_bf16_storage(a.view(np.uint16), b.view(np.uint16),
                                           out.view(np.uint16) if out.dtype == bf16 else out,
                                           bias, bool(relu), bool(accumulate)):
        return out
    from fastnn.ops.convert import convert
    result = gemm(convert(a, np.float32), convert(b, np.float32),
                  out if out.dtype == np.float32 else None, bias, relu, accumulate,
                  backend=module.NAME)
    if out.dtype != np.float32:
        out[...] = convert(result, bf16)
    return out


def bf16_native():
    """Whether gemm_bf16 runs on bfloat16 dot-product instructions here (show_config)."""
    module = _active_module()
    return module.NAME == "cython" and module.bf16_supported()


def round_bf16(x):
    """x (float32) rounded to bfloat16, nearest even, as a float32 array (in C where built)."""
    from fastnn import dtypes
    from fastnn.ops.convert import rounded
    return rounded(np.asarray(x), dtypes.bfloat16.numpy)


def sum_all(x, backend=None):
    """The sum of every element of a C-contiguous float32 array, as a float32 scalar (blocks
    of 4096 in float32, float64 across them: kernels/reduce.c)."""
    out = np.empty(1, dtype=np.float32)
    _call("sum_all", backend, x, out)
    return out[0]


def copy_array(source, out, backend=None):
    """out[...] = source for C-contiguous arrays of one dtype and shape, split over the
    threads as the row kernels split their rows (kernels/copy.c)."""
    _call("copy_array", backend, source, out)
    return out


def fill_rows(values, out, backend=None):
    """out[i, :] = values[i] for a C-contiguous float32 matrix out (the gradient of a global
    average pooling: kernels/reduce.c, threaded)."""
    _call("fill_rows", backend, values, out)
    return out


def relu_forward(x, out=None, backend=None):
    out = np.empty_like(x) if out is None and isinstance(x, np.ndarray) else out
    _call("relu_forward", backend, x, out)
    return out


def relu_backward(x, grad_out, out=None, backend=None):
    out = np.empty_like(x) if out is None and isinstance(x, np.ndarray) else out
    _call("relu_backward", backend, x, grad_out, out)
    return out


def relu_backward_bias(y, grad_out, want_bias=True, backend=None):
    """(grad_out masked by y > 0, its column sums or None): a Linear+ReLU epilogue's backward."""
    module = _pick(backend)
    if module.NAME == "cython":  # the common call, validated in C (relu_backward_bias_new)
        done = module.relu_backward_bias_new(y, grad_out, bool(want_bias))
        if done is not None:
            return done
    checks.require_float32("input", y)
    checks.require_rank("input", y, 2)
    out = np.empty_like(y, order="C")
    bias_grad = np.empty(y.shape[1], dtype=np.float32) if want_bias else None
    _call("relu_backward_bias", module.NAME, y, grad_out, out, bias_grad)
    return out, bias_grad


def softmax_cross_entropy(logits, labels, want_grad=True, grad_scale=1.0, backend=None):
    """Per-row losses, and (if want_grad) grad_scale * (softmax - onehot), in one fused pass."""
    checks.require_float32("input", logits)
    checks.require_rank("input", logits, 2)
    logits = np.ascontiguousarray(logits)
    n, c = logits.shape
    if c == 0 and n:
        raise ValueError("input must have at least one class")
    checks.check_labels(labels, n, c)
    labels = np.ascontiguousarray(labels, dtype=np.int64)
    # outputs are allocated here, so they have the right shape, dtype and layout
    losses = np.empty(n, dtype=np.float32)
    grad = np.empty_like(logits) if want_grad else None
    # Everything check_softmax_cross_entropy asks is established above (contiguous float32
    # logits, labels in range as int64, fresh outputs), so the kernel is called without it:
    # the checker ran 4 of the 20 us of a batch-1 cross_entropy.
    _prechecked("softmax_cross_entropy", backend)(logits, labels, losses, grad, float(grad_scale))
    return losses, grad


def _update_backend(backend, param):
    """float32 parameters run on the chosen backend; other floating dtypes (float64/float16
    parameters, which the kernels do not take) on the NumPy reference. The update's checker
    (run by _call) requires every array to have the parameter's dtype."""
    return backend if getattr(param, "dtype", None) == np.float32 else "numpy"


def sgd_step(param, grad, buf=None, lr=0.1, weight_decay=0.0, momentum=0.0, dampening=0.0,
             nesterov=False, first=False, backend=None):
    """One SGD update of `param` in place (torch.optim.SGD's rule); buf is the momentum buffer."""
    _call("sgd_step", _update_backend(backend, param), param, grad, buf, float(lr),
          float(weight_decay), float(momentum), float(dampening), bool(nesterov), bool(first))


def sgd_steps(params, grads, lr, weight_decay, backend=None):
    """Plain SGD (no momentum) of every params[i] (float32 arrays) by grads[i], in place, in one
    compiled call: True when done, False (nothing done) where that call does not apply, and
    the caller updates them one by one with sgd_step."""
    module = _pick(backend)
    return module.NAME == "cython" and module.sgd_steps_if_valid(params, grads, float(lr),
                                                                 float(weight_decay))


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step_size, inv_bc2_sqrt,
              beta1, beta2, eps, l2=0.0, decay=1.0, backend=None):
    _call("adam_step", _update_backend(backend, param), param, grad, exp_avg, exp_avg_sq,
          max_exp_avg_sq, float(step_size), float(inv_bc2_sqrt), float(beta1), float(beta2),
          float(eps), float(l2), float(decay))


def adagrad_step(param, grad, state_sum, clr, weight_decay, eps, backend=None):
    _call("adagrad_step", _update_backend(backend, param), param, grad, state_sum, float(clr),
          float(weight_decay), float(eps))


def rmsprop_step(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                 weight_decay, momentum, backend=None):
    _call("rmsprop_step", _update_backend(backend, param), param, grad, square_avg, grad_avg,
          momentum_buffer, float(lr), float(alpha), float(eps), float(weight_decay),
          float(momentum))


def adadelta_step(param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay,
                  backend=None):
    _call("adadelta_step", _update_backend(backend, param), param, grad, square_avg, acc_delta,
          float(lr), float(rho), float(eps), float(weight_decay))


def adamax_step(param, grad, exp_avg, exp_inf, clr, beta1, beta2, eps, weight_decay,
                backend=None):
    _call("adamax_step", _update_backend(backend, param), param, grad, exp_avg, exp_inf,
          float(clr), float(beta1), float(beta2), float(eps), float(weight_decay))


def nadam_step(param, grad, exp_avg, exp_avg_sq, grad_coef, avg_coef, beta1, beta2, inv_bc2,
               eps, weight_decay, decay=1.0, backend=None):
    _call("nadam_step", _update_backend(backend, param), param, grad, exp_avg, exp_avg_sq,
          float(grad_coef), float(avg_coef), float(beta1), float(beta2), float(inv_bc2),
          float(eps), float(weight_decay), float(decay))


def radam_step(param, grad, exp_avg, exp_avg_sq, step_size, rect_scale, rectified, beta1, beta2,
               eps, weight_decay, decay=1.0, backend=None):
    _call("radam_step", _update_backend(backend, param), param, grad, exp_avg, exp_avg_sq,
          float(step_size), float(rect_scale), bool(rectified), float(beta1), float(beta2),
          float(eps), float(weight_decay), float(decay))


def conv2d_forward(x, w, bias, y, shape, relu=False, backend=None):
    _call("conv2d_forward", backend, x, w, bias, y, shape, bool(relu))


def conv2d_backward(x, w, gy, gx, gw, gb, shape, relu_output=None, backend=None):
    _call("conv2d_backward", backend, x, w, gy, gx, gw, gb, shape, relu_output)


def maxpool2d_forward(x, y, idx, shape, backend=None):
    _call("maxpool2d_forward", backend, x, y, idx, shape)


def maxpool2d_backward(gy, idx, gx, shape, backend=None):
    _call("maxpool2d_backward", backend, gy, idx, gx, shape)


def maxpool2x2_forward(x, y, code, shape, backend=None):
    _call("maxpool2x2_forward", backend, x, y, code, shape)


def maxpool2x2_backward(gy, code, gx, shape, backend=None):
    _call("maxpool2x2_backward", backend, gy, code, gx, shape)


def avgpool2d_forward(x, y, shape, count_include_pad, backend=None):
    _call("avgpool2d_forward", backend, x, y, shape, bool(count_include_pad))


def avgpool2d_backward(gy, gx, shape, count_include_pad, backend=None):
    _call("avgpool2d_backward", backend, gy, gx, shape, bool(count_include_pad))


def batchnorm_forward(x, gamma, beta, y, mean, var, training, eps, backend=None):
    """training: the batch's mean and biased variance are written into mean/var (float64);
    otherwise they are read from them."""
    _call("batchnorm_forward", backend, x, gamma, beta, y, mean, var, bool(training), float(eps))


def batchnorm_backward(x, g, gamma, mean, var, gx, ggamma, gbeta, eps, backend=None):
    _call("batchnorm_backward", backend, x, g, gamma, mean, var, gx, ggamma, gbeta, float(eps))


def lstm_forward(xw, w_hh_t, b_hh, h0, c0, gates, cells, tanh_c, h_prev, output, reverse,
                 backend=None):
    """An LSTM layer's forward time loop into the given arrays (contract.py's lstm_forward)."""
    _call("lstm_forward", backend, xw, w_hh_t, b_hh, h0, c0, gates, cells, tanh_c, h_prev,
          output, bool(reverse))


def lstm_backward(grad_out, dc, gates, cells, tanh_c, c0, w_hh, d_gates, dh, reverse,
                  backend=None):
    """Backpropagation through lstm_forward's loop (contract.py's lstm_backward)."""
    _call("lstm_backward", backend, grad_out, dc, gates, cells, tanh_c, c0, w_hh, d_gates, dh,
          bool(reverse))


def gru_forward(xw, w_hh_t, b_hh, h0, gates, hn, h_prev, output, reverse, backend=None):
    """A GRU layer's forward time loop into the given arrays (contract.py's gru_forward)."""
    _call("gru_forward", backend, xw, w_hh_t, b_hh, h0, gates, hn, h_prev, output, bool(reverse))


def gru_backward(grad_out, gates, hn, h_prev, w_hh, d_xw, d_hw, dh, reverse, backend=None):
    """Backpropagation through gru_forward's loop (contract.py's gru_backward)."""
    _call("gru_backward", backend, grad_out, gates, hn, h_prev, w_hh, d_xw, d_hw, dh,
          bool(reverse))
