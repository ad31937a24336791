"""Property-based fuzzing of every checked kernel entry point (fastnn/backend/__init__.py) on
all three backends (issue 11). Hypothesis draws shapes (0, 1, primes, large), dtypes (float16/
32/64, ints, bool), layouts (non-contiguous, negative strides, broadcast zero strides,
read-only, outputs overlapping inputs), NaN/inf values and label ranges. Every case must either
give the reference's result on every backend, or raise the same exception, with the same
message, on every backend. Under `make sanitize` these run with AddressSanitizer loaded and
NUMBA_BOUNDSCHECK=1, so a read or write out of bounds fails the run even if no value shows it.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastnn.nn.functional as F
import fastnn
from fastnn import backend

from conftest import BACKENDS

FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SIZES = [0, 1, 2, 3, 5, 7, 13, 31, 97]
LARGE = [1000, (1 << 17) + 3]  # past the kernels' parallel thresholds
DTYPES = [np.float32] * 6 + [np.float16, np.float64, np.int32, np.int64, np.bool_]
LAYOUTS = ["c"] * 4 + ["transposed", "strided", "negative", "broadcast", "readonly"]


def _values(draw, shape, dtype, special):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = rng.standard_normal(shape) * 3
    if special and values.size:
        flat = values.reshape(-1)
        for _ in range(draw(st.integers(1, 3))):
            flat[draw(st.integers(0, flat.size - 1))] = draw(
                st.sampled_from([np.nan, np.inf, -np.inf, 1e30, -0.0]))
    if dtype == np.bool_:
        return values > 0
    with np.errstate(invalid="ignore", over="ignore"):
        return values.astype(dtype)


def _layout(values, layout):
    """The same values (or a broadcast of one row of them) in another memory layout."""
    if layout == "transposed" and values.ndim >= 2:
        return np.ascontiguousarray(np.swapaxes(values, -1, -2)).swapaxes(-1, -2)
    if layout == "strided" and values.ndim >= 1:
        wide = np.zeros(values.shape[:-1] + (values.shape[-1] * 2,), values.dtype)
        wide[..., ::2] = values
        return wide[..., ::2]
    if layout == "negative" and values.ndim >= 1:
        return np.ascontiguousarray(values[..., ::-1])[..., ::-1]
    if layout == "broadcast" and values.ndim >= 1 and values.size:
        return np.broadcast_to(values[..., :1], values.shape)
    if layout == "readonly":
        values = values.copy()
        values.flags.writeable = False
    return values


@st.composite
def array(draw, shape, dtypes=DTYPES, layouts=LAYOUTS, special=True):
    dtype = draw(st.sampled_from(dtypes))
    return _layout(_values(draw, shape, dtype, special and draw(st.booleans())),
                   draw(st.sampled_from(layouts)))


def _copy(value):
    if isinstance(value, np.ndarray):
        copy = np.array(value, copy=True)  # same dtype and shape, C order, writable...
        if not value.flags.writeable:
            copy.flags.writeable = False  # ... unless the original was read-only
        if value.strides and 0 in value.strides and value.size > 1:
            copy = np.broadcast_to(copy.reshape(-1)[:1].reshape((1,) * value.ndim), value.shape)
        return copy
    if isinstance(value, fastnn.Tensor):
        return fastnn.tensor(value.numpy().copy())
    return value


def outcome(call, args):
    """('ok', results) or ('raised', type, message) for call(*fresh copies of args)."""
    fresh = [_copy(a) for a in args]
    try:
        result = call(*fresh)
    except Exception as exc:  # noqa: BLE001 -- comparing whatever each backend raises
        return ("raised", type(exc), str(exc))
    arrays = [a for a in fresh if isinstance(a, np.ndarray)]
    if isinstance(result, tuple):
        arrays += list(result)
    elif result is not None:
        arrays.append(result)
    return ("ok", [None if a is None else np.asarray(getattr(a, "_data", a)) for a in arrays])


def same_everywhere(call, *args, rtol=2e-4, atol=2e-4):
    """Run on every backend; all must raise alike or all agree with the reference."""
    results = {}
    for name in BACKENDS:
        with backend.using(name):
            results[name] = outcome(call, args)
    ref = results["numpy"]
    for name, got in results.items():
        assert got[0] == ref[0], (name, got, ref)
        if got[0] == "raised":
            assert got[1:] == ref[1:], (name, got[1:], ref[1:])
        else:
            for g, r in zip(got[1], ref[1]):
                if r is None:
                    assert g is None
                    continue
                assert g.shape == r.shape and g.dtype == r.dtype, name
                if r.dtype.kind == "f":
                    np.testing.assert_allclose(g, r, rtol=rtol, atol=atol, equal_nan=True,
                                               err_msg=name)
                else:
                    np.testing.assert_array_equal(g, r, err_msg=name)
    return ref


# --- the entry points -----------------------------------------------------------------------
@FUZZ
@given(st.data())
def test_gemm(data):
    m, k, n = (data.draw(st.sampled_from(SIZES + [64])) for _ in range(3))
    k2 = data.draw(st.sampled_from([k, k, k, k + 1]))
    a = data.draw(array((m, k)))
    b = data.draw(array((k2, n)))
    how = data.draw(st.sampled_from(["fresh", "out", "overlap", "bias", "bad bias"]))
    if how == "fresh":
        same_everywhere(lambda a, b: backend.gemm(a, b), a, b)
    elif how == "out":
        out = data.draw(array((m, n), layouts=["c", "c", "strided", "readonly"]))
        same_everywhere(lambda a, b, out: backend.gemm(a, b, out, accumulate=True), a, b, out)
    elif how == "overlap":
        same_everywhere(lambda a, b: backend.gemm(a, b, a[:, :n] if a.shape[1] >= n else a), a, b)
    else:
        size = n if how == "bias" else n + 1
        bias = data.draw(array((size,)))
        same_everywhere(lambda a, b, bias: backend.gemm(a, b, bias=bias, relu=True), a, b, bias)


@FUZZ
@given(st.data())
def test_relu(data):
    n = data.draw(st.sampled_from(SIZES + LARGE))
    x = data.draw(array((n,)))
    g = data.draw(array((data.draw(st.sampled_from([n, n, n + 1])),)))
    same_everywhere(lambda x: backend.relu_forward(x), x)
    same_everywhere(lambda x, g: backend.relu_backward(x, g), x, g)
    rows, cols = data.draw(st.sampled_from(SIZES)), data.draw(st.sampled_from(SIZES))
    y = data.draw(array((rows, cols)))
    gy = data.draw(array((rows, data.draw(st.sampled_from([cols, cols, cols + 1])))))
    same_everywhere(lambda y, gy: backend.relu_backward_bias(y, gy), y, gy)


@FUZZ
@given(st.data())
def test_copy_array(data):
    """A byte copy: every dtype and layout of source and out at sizes past its threaded one,
    out of another dtype or shape refused alike everywhere."""
    n = data.draw(st.sampled_from(SIZES + LARGE))
    source = data.draw(array((n,)))
    out = data.draw(array((data.draw(st.sampled_from([n, n, n + 1])),),
                          layouts=["c"] * 4 + ["negative", "readonly"], special=False))

    def copy(source, out):
        out = np.array(out) if out.flags.writeable else out  # each backend its own array
        return backend.copy_array(source, out)
    same_everywhere(copy, source, out, rtol=0, atol=0)


@FUZZ
@given(st.data())
def test_fill_rows(data):
    """Rows filled with their values: the sizes past its parallel threshold, and every dtype
    and layout of values and out (out must be a C-contiguous writable float32 matrix, values
    float32 of its height, with the same error elsewhere)."""
    rows = data.draw(st.sampled_from(SIZES + LARGE[:1]))
    width = data.draw(st.sampled_from(SIZES + [300]))
    values = data.draw(array((data.draw(st.sampled_from([rows, rows, rows + 1])),)))
    out = data.draw(array((rows, width), layouts=["c"] * 4 + ["transposed", "readonly"],
                          special=False))

    def fill(values, out):
        out = np.array(out) if out.flags.writeable else out  # each backend its own matrix
        return backend.fill_rows(values, out)
    same_everywhere(fill, values, out, rtol=0, atol=0)


@FUZZ
@given(st.data())
def test_sum_all(data):
    """The full sum: any rank, the sizes past its parallel threshold, and every dtype and
    layout (only C-contiguous float32 is accepted, with the same error elsewhere). The
    tolerance is the float32 lanes' rounding against the reference's exact sum."""
    rank = data.draw(st.integers(0, 3))
    shape = tuple(data.draw(st.sampled_from(SIZES)) for _ in range(rank))
    if data.draw(st.booleans()):
        shape = (data.draw(st.sampled_from(LARGE + [1 << 19])),)
    x = data.draw(array(shape))
    same_everywhere(lambda x: backend.sum_all(x), x, rtol=1e-5, atol=2e-3)


@FUZZ
@given(st.data())
def test_softmax_cross_entropy(data):
    n, c = data.draw(st.sampled_from(SIZES + [300])), data.draw(st.sampled_from(SIZES + [1000]))
    logits = data.draw(array((n, c)))
    label_dtype = data.draw(st.sampled_from([np.int64] * 4 + [np.int32, np.uint8, np.float32]))
    low = data.draw(st.sampled_from([0, 0, 0, -1, -(2**40)]))
    high = data.draw(st.sampled_from([max(c, 1)] * 3 + [c + 1, 2**40]))
    labels = np.random.default_rng(n + c).integers(low, high, n)
    with np.errstate(invalid="ignore"):
        labels = labels.astype(label_dtype)
    rows = data.draw(st.sampled_from([n, n, n + 1]))
    if rows != n:
        labels = np.resize(labels, rows)
    same_everywhere(lambda x, y: backend.softmax_cross_entropy(x, y, True, 0.5), logits, labels)


OPTIMIZER_CALLS = {
    "sgd": (2, lambda p, g, s: backend.sgd_step(p, g, s[0], lr=0.1, weight_decay=0.01,
                                               momentum=0.9, nesterov=True)),
    "adam": (3, lambda p, g, s: backend.adam_step(p, g, s[0], s[1], s[2], 0.01, 1.1, 0.9,
                                                  0.999, 1e-8, 0.01, 0.999)),
    "adagrad": (1, lambda p, g, s: backend.adagrad_step(p, g, s[0], 0.01, 0.01, 1e-10)),
    "rmsprop": (3, lambda p, g, s: backend.rmsprop_step(p, g, s[0], None, s[2], 0.01, 0.99,
                                                        1e-8, 0.01, 0.9)),
    "adadelta": (2, lambda p, g, s: backend.adadelta_step(p, g, s[0], s[1], 1.0, 0.9, 1e-6,
                                                          0.01)),
    "adamax": (2, lambda p, g, s: backend.adamax_step(p, g, s[0], s[1], 0.02, 0.9, 0.999, 1e-8,
                                                      0.01)),
    "nadam": (2, lambda p, g, s: backend.nadam_step(p, g, s[0], s[1], 0.01, 0.02, 0.9, 0.999,
                                                    1.5, 1e-8, 0.01, 0.999)),
    "radam": (2, lambda p, g, s: backend.radam_step(p, g, s[0], s[1], 0.01, 0.3, True, 0.9,
                                                    0.999, 1e-8, 0.01, 0.999)),
}


@FUZZ
@given(st.data(), st.sampled_from(list(OPTIMIZER_CALLS)))
def test_optimizer_updates(data, name):
    n = data.draw(st.sampled_from(SIZES + LARGE))
    count, call = OPTIMIZER_CALLS[name]
    param = data.draw(array((n,), special=False))
    grad = data.draw(array((data.draw(st.sampled_from([n, n, n, n - 1 if n else 1])),)))
    states = [np.abs(data.draw(array((n,), special=False,
                                     layouts=["c"] * 6 + ["strided", "readonly"])))
              for _ in range(count)]
    same_everywhere(lambda p, g, *s: call(p, g, s), param, grad, *states)


@st.composite
def conv_case(draw):
    n, c = draw(st.sampled_from([0, 1, 2, 3])), draw(st.sampled_from([1, 2, 3, 4]))
    groups = draw(st.sampled_from([1, 1, 1, 2]))
    oc = draw(st.sampled_from([1, 2, 4, 6]))
    h, w = draw(st.sampled_from([1, 2, 5, 7, 9])), draw(st.sampled_from([1, 3, 6, 8]))
    k = draw(st.sampled_from([1, 2, 3]))
    x = draw(array((n, c, h, w), dtypes=[np.float32] * 5 + [np.float64, np.int64]))
    weight = draw(array((oc, max(c // groups, 1) + draw(st.sampled_from([0, 0, 0, 1])), k, k),
                        dtypes=[np.float32]))
    bias = draw(st.one_of(st.none(), array((draw(st.sampled_from([oc, oc, oc + 1, 1])),),
                                           dtypes=[np.float32])))
    params = dict(stride=draw(st.sampled_from([1, 1, 2, 3])),
                  padding=draw(st.sampled_from([0, 0, 1, 2])),
                  dilation=draw(st.sampled_from([1, 1, 2])), groups=groups)
    return x, weight, bias, params


def _conv(x, w, b, params):
    xt = fastnn.tensor(x, requires_grad=x.dtype.kind == "f")
    wt = fastnn.tensor(w, requires_grad=True)
    bt = None if b is None else fastnn.tensor(b, requires_grad=True)
    y = F.conv2d(xt, wt, bt, **params)
    (y * y).sum().backward()
    return y.detach().numpy(), wt.grad.numpy(), None if bt is None else bt.grad.numpy()


@FUZZ
@given(conv_case())
def test_conv2d_forward_and_backward(case):
    x, w, b, params = case
    same_everywhere(lambda x, w, b: _conv(x, w, b, params), x, w, b, rtol=1e-3, atol=1e-3)


@FUZZ
@given(st.data())
def test_pooling_forward_and_backward(data):
    shape = tuple(data.draw(st.sampled_from(s)) for s in ([0, 1, 2], [1, 3], [1, 2, 5, 8],
                                                          [1, 4, 7]))
    x = data.draw(array(shape, dtypes=[np.float32] * 5 + [np.float64]))
    kernel = data.draw(st.sampled_from([1, 2, 3]))
    params = dict(stride=data.draw(st.sampled_from([None, 1, 2])),
                  padding=data.draw(st.sampled_from([0, 0, 1])),
                  ceil_mode=data.draw(st.booleans()))
    kind = data.draw(st.sampled_from(["max", "max", "avg"]))
    # without indices, 2x2 windows of stride 2 keep one-byte window codes
    # (maxpool2x2_forward/backward) instead of int64 indices (maxpool2d_forward/backward)
    indices = kind == "max" and data.draw(st.booleans())

    def pool(x):
        xt = fastnn.tensor(x, requires_grad=True)
        if kind == "max":
            y = F.max_pool2d(xt, kernel, return_indices=indices, **params)
            y, idx = y if indices else (y, None)
        else:
            y, idx = F.avg_pool2d(xt, kernel, **params), None
        (y * y).sum().backward()
        return y.detach().numpy(), xt.grad.numpy(), None if idx is None else idx.numpy()
    same_everywhere(pool, x, rtol=1e-3, atol=1e-3)


@FUZZ
@given(st.data())
def test_batch_norm_forward_and_backward(data):
    shape = (data.draw(st.sampled_from([0, 1, 2, 5])), data.draw(st.sampled_from([1, 3])),
             data.draw(st.sampled_from([1, 4])), data.draw(st.sampled_from([1, 3])))
    x = data.draw(array(shape, dtypes=[np.float32] * 5 + [np.float64], special=False))
    c = data.draw(st.sampled_from([shape[1], shape[1], shape[1] + 1]))
    training = data.draw(st.booleans())

    def bn(x):
        xt = fastnn.tensor(x, requires_grad=True)
        weight = fastnn.ones(c, requires_grad=True)
        mean, var = fastnn.zeros(c), fastnn.ones(c)
        y = F.batch_norm(xt, mean, var, weight, fastnn.zeros(c), training=training)
        (y * y).sum().backward()
        return y.detach().numpy(), weight.grad.numpy()
    same_everywhere(bn, x, rtol=1e-3, atol=1e-3)


@FUZZ
@given(st.data())
def test_lstm_forward_and_backward(data):
    """The LSTM time loop's kernels: drawn sizes, dtypes and layouts for the inputs, outputs of
    the right or a wrong size, NaN/inf in the gate inputs."""
    steps, batch, hidden = (data.draw(st.sampled_from(s)) for s in ([0, 1, 3], [0, 1, 2, 5],
                                                                      [0, 1, 3, 17]))
    out_hidden = data.draw(st.sampled_from([hidden] * 4 + [hidden + 1]))
    f32 = [np.float32] * 5 + [np.float64]
    xw = data.draw(array((steps, batch, 4 * hidden), dtypes=f32))
    w_hh_t = data.draw(array((hidden, 4 * hidden), dtypes=f32, special=False))
    b_hh = data.draw(st.none() | array((4 * hidden,), dtypes=f32, special=False))
    h0, c0 = (data.draw(array((batch, hidden), dtypes=f32, special=False)) for _ in range(2))
    grad_out = data.draw(array((steps, batch, hidden), dtypes=f32, special=False))
    reverse = data.draw(st.booleans())

    def run(xw, w_hh_t, b_hh, h0, c0, grad_out):
        gates = np.zeros((steps, batch, 4 * out_hidden), np.float32)
        cells, tanh_c, h_prev, output = (np.zeros((steps, batch, out_hidden), np.float32)
                                         for _ in range(4))
        backend.lstm_forward(xw, w_hh_t, b_hh, h0, c0, gates, cells, tanh_c, h_prev, output,
                             reverse)
        dc, dh = np.ones((batch, hidden), np.float32), np.zeros((batch, hidden), np.float32)
        d_gates = np.zeros_like(gates)
        w_hh = np.ascontiguousarray(np.asarray(w_hh_t, np.float32).T)
        backend.lstm_backward(grad_out, dc, gates, cells, tanh_c, np.ascontiguousarray(c0),
                              w_hh, d_gates, dh, reverse)
        return gates, cells, output, d_gates, dc, dh
    same_everywhere(run, xw, w_hh_t, b_hh, h0, c0, grad_out, rtol=1e-4, atol=1e-5)


@FUZZ
@given(st.data())
def test_gru_forward_and_backward(data):
    """The GRU time loop's kernels, drawn as the LSTM's above."""
    steps, batch, hidden = (data.draw(st.sampled_from(s)) for s in ([0, 1, 3], [0, 1, 2, 5],
                                                                      [0, 1, 3, 17]))
    out_hidden = data.draw(st.sampled_from([hidden] * 4 + [hidden + 1]))
    f32 = [np.float32] * 5 + [np.float64]
    xw = data.draw(array((steps, batch, 3 * hidden), dtypes=f32))
    w_hh_t = data.draw(array((hidden, 3 * hidden), dtypes=f32, special=False))
    b_hh = data.draw(st.none() | array((3 * hidden,), dtypes=f32, special=False))
    h0 = data.draw(array((batch, hidden), dtypes=f32, special=False))
    grad_out = data.draw(array((steps, batch, hidden), dtypes=f32, special=False))
    reverse = data.draw(st.booleans())

    def run(xw, w_hh_t, b_hh, h0, grad_out):
        gates = np.zeros((steps, batch, 3 * out_hidden), np.float32)
        hn, h_prev, output = (np.zeros((steps, batch, out_hidden), np.float32) for _ in range(3))
        backend.gru_forward(xw, w_hh_t, b_hh, h0, gates, hn, h_prev, output, reverse)
        d_xw, d_hw = np.zeros_like(gates), np.zeros_like(gates)
        dh = np.zeros((batch, hidden), np.float32)
        w_hh = np.ascontiguousarray(np.asarray(w_hh_t, np.float32).T)
        backend.gru_backward(grad_out, gates, hn, h_prev, w_hh, d_xw, d_hw, dh, reverse)
        return gates, output, d_xw, d_hw, dh
    same_everywhere(run, xw, w_hh_t, b_hh, h0, grad_out, rtol=1e-4, atol=1e-5)


def test_the_fuzz_covers_every_kernel():
    """A new kernel in the contract needs a fuzz case here."""
    from fastnn.backend import contract
    covered = {"gemm", "sum_all", "fill_rows", "copy_array", "relu_forward", "relu_backward", "relu_backward_bias",
               "softmax_cross_entropy", "sgd_step", "adam_step", "adagrad_step", "rmsprop_step",
               "conv2d_forward", "conv2d_backward", "maxpool2d_forward", "maxpool2d_backward",
               "maxpool2x2_forward", "maxpool2x2_backward",
               "avgpool2d_forward", "avgpool2d_backward", "batchnorm_forward",
               "batchnorm_backward", "adadelta_step", "adamax_step", "nadam_step",
               "radam_step", "lstm_forward", "lstm_backward", "gru_forward",
               "gru_backward"}
    assert set(contract.NAMES) == covered


@pytest.mark.parametrize("name", BACKENDS)
def test_nan_and_inf_flow_through_like_the_reference(name):
    x = np.array([[np.nan, 1.0, -np.inf], [np.inf, 2.0, 0.0]], np.float32)
    with backend.using(name):
        relu = backend.relu_forward(x)
        losses, _ = backend.softmax_cross_entropy(x, np.array([1, 1]), True)
    np.testing.assert_array_equal(relu, [[np.nan, 1.0, 0.0], [np.inf, 2.0, 0.0]])
    assert np.isnan(losses).all()
