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


def gemm_bias_ok(bias, n):
    """True when bias is absent or a contiguous float32 vector of length n (gemm_operands_ok's
    companion for the bias)."""
    return bias is None or (type(bias) is np.ndarray and bias.dtype == _F32 and bias.ndim == 1
                            and bias.shape[0] == n and bias.flags.c_contiguous)


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


def labels_in_range(labels, n_classes):
    """Whether labels is a C-contiguous int64 vector with every value in [0, n_classes) (the
    hot path of check_labels; an empty vector is)."""
    return (type(labels) is np.ndarray and labels.dtype == np.int64 and labels.ndim == 1
            and labels.flags.c_contiguous
            and (not labels.shape[0] or bool(_labels_in_range(labels, n_classes))))


def check_labels(labels, n_rows, n_classes):
    if labels_in_range(labels, n_classes) and labels.shape[0] == n_rows:
        return  # the hot path; the checks below word the error (or pass other layouts)
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
            raise IndexError(f"Target {bad} is out of bounds.")  # torch's words


# --- convolution, pooling and batch norm: every backend gets the same checked arguments -----
_SHAPE_FIELDS = ("n", "c", "h", "w", "oc", "oh", "ow", "kh", "kw", "sh", "sw", "ph", "pw", "dh",
                 "dw", "groups")


def check_conv_shape(shape, pooling=False):
    """The 16-int geometry tuple ops/conv.py and ops/pool.py build; kernels index with it."""
    if not isinstance(shape, tuple) or len(shape) != 16 or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in shape):
        raise ValueError(f"shape must be a tuple of 16 ints {_SHAPE_FIELDS}, got {shape!r}")
    n, c, h, w, oc, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, groups = shape
    if min(shape) < 0 or min(sh, sw, dh, dw, groups) < 1:
        raise ValueError(f"invalid convolution/pooling shape {shape}")
    if c % groups or oc % groups:
        raise ValueError(f"groups ({groups}) must divide in_channels ({c}) and out_channels "
                         f"({oc})")
    if pooling:
        if oc != c or groups != 1 or min(kh, kw) < 1 or ph > kh // 2 or pw > kw // 2:
            raise ValueError(f"invalid pooling shape {shape}")
        # ceil_mode may add one window that starts inside the input or its left padding
        limit_h = (h + 2 * ph - dh * (kh - 1) - 1 + sh - 1) // sh + 1
        limit_w = (w + 2 * pw - dw * (kw - 1) - 1 + sw - 1) // sw + 1
        if oh > max(limit_h, 0) or ow > max(limit_w, 0):
            raise ValueError(f"pooling output {oh}x{ow} does not fit input {h}x{w} with "
                             f"shape {shape}")
    else:
        want_h = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
        want_w = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
        if (oh, ow) != (max(want_h, 0), max(want_w, 0)):
            raise ValueError(f"convolution output {oh}x{ow} does not match input {h}x{w} with "
                             f"shape {shape} (expected {want_h}x{want_w})")


def check_array(name, array, shape, dtype=_F32, writable=False, optional=False):
    """A C-contiguous array of exactly this dtype and shape (and writable, for outputs)."""
    if array is None and optional:
        return
    if type(array) is not np.ndarray:
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(array).__name__}")
    if array.dtype != dtype or array.shape != tuple(shape) or not array.flags.c_contiguous \
            or not array.flags.aligned:
        raise ValueError(f"{name} must be a C-contiguous {np.dtype(dtype)} array of shape "
                         f"{tuple(shape)}, got {array.dtype} {tuple(array.shape)}"
                         f"{'' if array.flags.c_contiguous else ' (not contiguous)'}")
    if writable and not array.flags.writeable:
        raise ValueError(f"{name} must be writable")


def check_no_overlap(outputs, inputs):
    for out_name, out in outputs:
        if out is None:
            continue
        for in_name, array in inputs:
            if array is not None and np.shares_memory(out, array):
                raise ValueError(f"{out_name} must not overlap {in_name}")


def _conv_arrays(shape):
    n, c, h, w, oc, oh, ow, kh, kw = shape[:9]
    return (n, c, h, w), (oc, c // shape[15], kh, kw), (n, oc, oh, ow)


def check_conv2d_forward(x, w, bias, y, shape, relu=False):
    check_conv_shape(shape)
    xs, ws, ys = _conv_arrays(shape)
    check_array("input", x, xs)
    check_array("weight", w, ws)
    if bias is not None and (type(bias) is not np.ndarray or bias.shape != (ws[0],)):
        got = list(getattr(bias, "shape", ()))
        raise RuntimeError(f"Given weight of size {list(ws)}, expected bias to be 1-dimensional "
                           f"with {ws[0]} elements, but got bias of size {got} instead")
    check_array("bias", bias, (ws[0],), optional=True)
    check_array("output", y, ys, writable=True)
    check_no_overlap([("output", y)], [("input", x), ("weight", w), ("bias", bias)])


def check_conv2d_backward(x, w, gy, gx, gw, gb, shape, relu_output):
    check_conv_shape(shape)
    xs, ws, ys = _conv_arrays(shape)
    check_array("input", x, xs)
    check_array("weight", w, ws)
    check_array("grad_output", gy, ys)
    check_array("relu_output", relu_output, ys, optional=True)
    check_array("grad_input", gx, xs, writable=True, optional=True)
    check_array("grad_weight", gw, ws, writable=True, optional=True)
    check_array("grad_bias", gb, (ws[0],), writable=True, optional=True)
    inputs = [("input", x), ("weight", w), ("grad_output", gy), ("relu_output", relu_output)]
    outputs = [("grad_input", gx), ("grad_weight", gw), ("grad_bias", gb)]
    check_no_overlap(outputs, inputs)
    for i in range(len(outputs)):
        check_no_overlap(outputs[i:i + 1], outputs[i + 1:])


def _pool_arrays(shape):
    n, c, h, w, _, oh, ow = shape[:7]
    return (n, c, h, w), (n, c, oh, ow)


def _check_maxpool_forward(x, y, argmax, shape, name, dtype):
    """The arrays of a max pooling forward, whose argmax (`name`) is int64 indices or uint8
    window codes."""
    xs, ys = _pool_arrays(shape)
    check_array("input", x, xs)
    check_array("output", y, ys, writable=True)
    check_array(name, argmax, ys, dtype=dtype, writable=True)
    check_no_overlap([("output", y), (name, argmax)], [("input", x)])
    check_no_overlap([("output", y)], [(name, argmax)])


def _check_maxpool_backward(gy, argmax, gx, shape, name, dtype):
    xs, ys = _pool_arrays(shape)
    check_array("grad_output", gy, ys)
    check_array(name, argmax, ys, dtype=dtype)
    check_array("grad_input", gx, xs, writable=True)
    check_no_overlap([("grad_input", gx)], [("grad_output", gy), (name, argmax)])


def check_maxpool2d_forward(x, y, idx, shape):
    check_conv_shape(shape, pooling=True)
    _check_maxpool_forward(x, y, idx, shape, "indices", np.int64)


def check_maxpool2d_backward(gy, idx, gx, shape):
    """The indices are range-checked where they are used (each backend skips, never follows,
    an index outside the input plane)."""
    check_conv_shape(shape, pooling=True)
    _check_maxpool_backward(gy, idx, gx, shape, "indices", np.int64)


def is_2x2_pooling(shape):
    """The window-code kernels' case: 2x2 windows, stride 2, no padding or dilation, every
    window inside the input."""
    n, c, h, w, _, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, _ = shape
    return (kh, kw, sh, sw, ph, pw, dh, dw) == (2, 2, 2, 2, 0, 0, 1, 1) and 2 * oh <= h \
        and 2 * ow <= w


def _check_2x2(shape):
    check_conv_shape(shape, pooling=True)
    if not is_2x2_pooling(shape):
        raise ValueError(f"window codes need 2x2 windows of stride 2 without padding or "
                         f"dilation inside the input, got shape {shape}")


def check_maxpool2x2_forward(x, y, code, shape):
    _check_2x2(shape)
    _check_maxpool_forward(x, y, code, shape, "codes", np.uint8)


def check_maxpool2x2_backward(gy, code, gx, shape):
    """A code above 3 is handled where it is used (each backend sends it nowhere)."""
    _check_2x2(shape)
    _check_maxpool_backward(gy, code, gx, shape, "codes", np.uint8)


def check_avgpool2d(x, y, shape, x_name, y_name):
    check_conv_shape(shape, pooling=True)
    xs, ys = _pool_arrays(shape)
    if x_name == "grad_output":  # backward: grad_output has the output's shape
        xs, ys = ys, xs
    check_array(x_name, x, xs)
    check_array(y_name, y, ys, writable=True)
    check_no_overlap([(y_name, y)], [(x_name, x)])


def check_batchnorm(x, per_channel, stats, outputs):
    """x: (N, C, ...) float32; per_channel: [(name, float32 (C,) or None)]; stats: [(name,
    float64 (C,))]; outputs: [(name, array or None, shape 'x' or 'c', float32)]."""
    if type(x) is not np.ndarray or x.ndim < 2:
        raise ValueError(f"batch_norm: input must be an array with a channel dimension, got "
                         f"shape {tuple(getattr(x, 'shape', ()))}")
    check_array("input", x, x.shape)
    c = x.shape[1]
    for name, array in per_channel:
        check_array(name, array, (c,), optional=True)
    for name, array, writable in stats:
        check_array(name, array, (c,), dtype=np.float64, writable=writable)
    inputs = [("input", x)] + [(n, a) for n, a in per_channel]
    for name, array, kind in outputs:
        check_array(name, array, x.shape if kind == "x" else (c,), writable=True, optional=True)
    written = [(n, a) for n, a, _ in outputs]
    check_no_overlap(written, inputs)
    for i in range(len(written)):
        check_no_overlap(written[i:i + 1], written[i + 1:])


def check_avgpool2d_forward(x, y, shape, count_include_pad):
    check_avgpool2d(x, y, shape, "input", "output")


def check_avgpool2d_backward(gy, gx, shape, count_include_pad):
    check_avgpool2d(gy, gx, shape, "grad_output", "grad_input")


def check_batchnorm_forward(x, gamma, beta, y, mean, var, training, eps):
    check_batchnorm(x, [("weight", gamma), ("bias", beta)],
                    [("mean", mean, bool(training)), ("var", var, bool(training))],
                    [("output", y, "x")])


def check_batchnorm_backward(x, g, gamma, mean, var, gx, ggamma, gbeta, eps):
    check_array("grad_output", g, getattr(x, "shape", ()))
    check_batchnorm(x, [("weight", gamma)], [("mean", mean, False), ("var", var, False)],
                    [("grad_input", gx, "x"), ("grad_weight", ggamma, "c"),
                     ("grad_bias", gbeta, "c")])


# --- the checkers of the other kernels (fastnn/backend/contract.py names them) -------------
def _gemm_output_ok(a, b, out, bias):
    return (type(out) is np.ndarray and out.dtype == _F32 and out.shape == (a.shape[0], b.shape[1])
            and out.flags.c_contiguous and out.flags.writeable
            and not np.may_share_memory(out, a) and not np.may_share_memory(out, b)
            and (bias is None or (type(bias) is np.ndarray and bias.dtype == _F32
                                  and bias.shape == (b.shape[1],) and bias.flags.c_contiguous)))


def check_gemm(a, b, out, bias, relu, accumulate):
    if not gemm_operands_ok(a, b):
        check_gemm_operands(a, b)
    if not _gemm_output_ok(a, b, out, bias):
        if out is None:
            raise TypeError("out must be a numpy.ndarray, got None")
        check_gemm_output(a, b, out, bias)


def check_relu_forward(x, out):
    if not elementwise_ok((x,), out):
        check_elementwise([("input", x)], out)


def check_relu_backward(x, grad_out, out):
    if not elementwise_ok((x, grad_out), out):
        check_elementwise([("input", x), ("grad_output", grad_out)], out)


def check_sum_all(x, out):
    require_float32("input", x)
    if not x.flags.c_contiguous:
        raise ValueError("input must be C-contiguous")
    check_array("out", out, (1,), writable=True)
    check_no_overlap([("out", out)], [("input", x)])


def check_fill_rows(values, out):
    require_float32("values", values)
    require_rank("values", values, 1)
    require_float32("out", out)
    require_rank("out", out, 2)
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous")
    check_array("values", values, (out.shape[0],))
    check_array("out", out, out.shape, writable=True)
    check_no_overlap([("out", out)], [("values", values)])


def check_copy_array(source, out):
    for name, array in (("source", source), ("out", out)):
        if type(array) is not np.ndarray:
            raise TypeError(f"{name} must be a numpy.ndarray, got {type(array).__name__}")
        if not array.flags.c_contiguous:
            raise ValueError(f"{name} must be C-contiguous")
    if source.dtype != out.dtype or source.shape != out.shape:
        raise ValueError(f"copy_array: out is {out.dtype} {tuple(out.shape)}, expected "
                         f"{source.dtype} {tuple(source.shape)} as the source")
    if not out.flags.writeable:
        raise ValueError("out must be writable")
    check_no_overlap([("out", out)], [("source", source)])


def check_relu_backward_bias(y, grad_out, out, bias_grad):
    require_float32("input", y)
    require_rank("input", y, 2)
    check_relu_backward(y, grad_out, out)
    check_array("bias_grad", bias_grad, (y.shape[1],), writable=True, optional=True)
    check_no_overlap([("out", out), ("bias_grad", bias_grad)],
                     [("input", y), ("grad_output", grad_out)])


def check_softmax_cross_entropy(logits, labels, losses, grad, grad_scale):
    require_float32("input", logits)
    require_rank("input", logits, 2)
    n, c = logits.shape
    if c == 0 and n:
        raise ValueError("input must have at least one class")
    check_array("input", logits, (n, c))
    check_labels(labels, n, c)
    check_array("target", labels, (n,), dtype=np.int64)
    check_array("losses", losses, (n,), writable=True)
    check_array("grad", grad, (n, c), writable=True, optional=True)
    check_no_overlap([("losses", losses), ("grad", grad)], [("input", logits)])


def _check_update(param, arrays):
    """An optimizer update: param and its state are written in place, so all must be writable
    C-contiguous arrays of param's floating dtype and shape; the gradient is read only."""
    if type(param) is not np.ndarray or param.dtype.kind != "f":
        raise TypeError(f"param must be a floating numpy.ndarray, got "
                        f"{getattr(param, 'dtype', type(param).__name__)}")
    check_array("param", param, param.shape, dtype=param.dtype, writable=True)
    for name, array, written, optional in arrays:
        check_array(name, array, param.shape, dtype=param.dtype, writable=written,
                    optional=optional)


def check_sgd_step(param, grad, buf, *hyperparameters):
    _check_update(param, [("grad", grad, False, False), ("momentum_buffer", buf, True, True)])


def check_adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *hyperparameters):
    _check_update(param, [("grad", grad, False, False), ("exp_avg", exp_avg, True, False),
                          ("exp_avg_sq", exp_avg_sq, True, False),
                          ("max_exp_avg_sq", max_exp_avg_sq, True, True)])


def check_adagrad_step(param, grad, state_sum, *hyperparameters):
    _check_update(param, [("grad", grad, False, False), ("state_sum", state_sum, True, False)])


def check_rmsprop_step(param, grad, square_avg, grad_avg, momentum_buffer, *hyperparameters):
    _check_update(param, [("grad", grad, False, False), ("square_avg", square_avg, True, False),
                          ("grad_avg", grad_avg, True, True),
                          ("momentum_buffer", momentum_buffer, True, True)])


def check_adadelta_step(param, grad, square_avg, acc_delta, *hyperparameters):
    _check_update(param, [("grad", grad, False, False), ("square_avg", square_avg, True, False),
                          ("acc_delta", acc_delta, True, False)])


def check_adamax_step(param, grad, exp_avg, exp_inf, *hyperparameters):
    _check_update(param, [("grad", grad, False, False), ("exp_avg", exp_avg, True, False),
                          ("exp_inf", exp_inf, True, False)])


def check_nadam_step(param, grad, exp_avg, exp_avg_sq, *hyperparameters):
    check_adam_step(param, grad, exp_avg, exp_avg_sq, None)


def check_radam_step(param, grad, exp_avg, exp_avg_sq, *hyperparameters):
    check_adam_step(param, grad, exp_avg, exp_avg_sq, None)


def _rnn_sizes(name, array):
    """(L, N, H) from the (L, N, H) array (cells, hn) that sizes a recurrent kernel's call."""
    if type(array) is not np.ndarray:
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(array).__name__}")
    require_rank(name, array, 3)
    return array.shape


def _check_rnn_arrays(inputs, outputs, optional=()):
    """Every (name, array, shape) as check_array, all float32 or all float64 (the first
    output's dtype); outputs writable, overlapping neither each other nor any input (the
    kernels read inputs while writing outputs)."""
    dtype = np.float64 if getattr(outputs[0][1], "dtype", None) == np.float64 else _F32
    for name, array, shape in inputs:
        check_array(name, array, shape, dtype, optional=name in optional)
    for name, array, shape in outputs:
        check_array(name, array, shape, dtype, writable=True)
    named = [(name, array) for name, array, _ in outputs]
    found = _first_overlap(named, [(name, array) for name, array, _ in inputs])
    if found is not None:
        raise ValueError(f"{found[0]} must not overlap {found[1]}")


def first_overlap_numpy(outputs, inputs):
    """(output, other) names of the first output meeting an input or a later output, else
    None, by np.shares_memory: _kernels.first_overlap's reference, used where the kernels are
    not built."""
    for k, (out_name, out) in enumerate(outputs):
        for name, array in inputs + outputs[k + 1:]:
            if out is not None and array is not None and np.shares_memory(out, array):
                return out_name, name
    return None


try:
    from fastnn._kernels import first_overlap as _first_overlap
except ImportError:
    _first_overlap = first_overlap_numpy


def check_lstm_forward(xw, w_hh_t, b_hh, h0, c0, gates, cells, tanh_c, h_prev, output, reverse):
    steps, batch, hidden = _rnn_sizes("cells", cells)
    _check_rnn_arrays(
        [("xw", xw, (steps, batch, 4 * hidden)), ("w_hh_t", w_hh_t, (hidden, 4 * hidden)),
         ("b_hh", b_hh, (4 * hidden,)), ("h0", h0, (batch, hidden)), ("c0", c0, (batch, hidden))],
        [("gates", gates, (steps, batch, 4 * hidden)), ("cells", cells, cells.shape),
         ("tanh_c", tanh_c, cells.shape), ("h_prev", h_prev, cells.shape),
         ("output", output, cells.shape)], optional=("b_hh",))


def check_lstm_backward(grad_out, dc, gates, cells, tanh_c, c0, w_hh, d_gates, dh, reverse):
    steps, batch, hidden = _rnn_sizes("cells", cells)
    _check_rnn_arrays(
        [("grad_out", grad_out, cells.shape), ("gates", gates, (steps, batch, 4 * hidden)),
         ("cells", cells, cells.shape), ("tanh_c", tanh_c, cells.shape),
         ("c0", c0, (batch, hidden)), ("w_hh", w_hh, (4 * hidden, hidden))],
        [("dc", dc, (batch, hidden)), ("d_gates", d_gates, (steps, batch, 4 * hidden)),
         ("dh", dh, (batch, hidden))])


def check_gru_forward(xw, w_hh_t, b_hh, h0, gates, hn, h_prev, output, reverse):
    steps, batch, hidden = _rnn_sizes("hn", hn)
    _check_rnn_arrays(
        [("xw", xw, (steps, batch, 3 * hidden)), ("w_hh_t", w_hh_t, (hidden, 3 * hidden)),
         ("b_hh", b_hh, (3 * hidden,)), ("h0", h0, (batch, hidden))],
        [("gates", gates, (steps, batch, 3 * hidden)), ("hn", hn, hn.shape),
         ("h_prev", h_prev, hn.shape), ("output", output, hn.shape)], optional=("b_hh",))


def check_gru_backward(grad_out, gates, hn, h_prev, w_hh, d_xw, d_hw, dh, reverse):
    steps, batch, hidden = _rnn_sizes("hn", hn)
    _check_rnn_arrays(
        [("grad_out", grad_out, hn.shape), ("gates", gates, (steps, batch, 3 * hidden)),
         ("hn", hn, hn.shape), ("h_prev", h_prev, hn.shape),
         ("w_hh", w_hh, (3 * hidden, hidden))],
        [("d_xw", d_xw, (steps, batch, 3 * hidden)), ("d_hw", d_hw, (steps, batch, 3 * hidden)),
         ("dh", dh, (batch, hidden))])
