"""Issue 11: conv, pooling, batch norm and optimizer arguments are checked at the kernel contract
(fastnn/backend/__init__.py), so every backend gets the same exception for the same bad call and
none of them reads or writes past an array. Each case is run on all three backends and must
raise the same exception type with the same message."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import backend
from conftest import BACKENDS

F32 = np.float32
# (n, c, h, w, oc, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, groups): conv 3->4, 3x3, 5x5 input
CONV = (2, 3, 5, 5, 4, 3, 3, 3, 3, 1, 1, 0, 0, 1, 1, 1)
POOL = (2, 3, 4, 4, 3, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1, 1)


def z(*shape, dtype=F32):
    return np.zeros(shape, dtype=dtype)


def readonly(a):
    a.flags.writeable = False
    return a


def conv_args(**change):
    args = dict(x=z(2, 3, 5, 5), w=z(4, 3, 3, 3), bias=z(4), y=z(2, 4, 3, 3), shape=CONV)
    args.update(change)
    return args


BAD_CALLS = {
    "sum of float64": lambda: backend.sum_all(z(5, dtype=np.float64)),
    "sum of a strided view": lambda: backend.sum_all(z(10)[::2]),
    "sum of a transposed matrix": lambda: backend.sum_all(z(4, 6).T),
    "conv bias too short": lambda: backend.conv2d_forward(**conv_args(bias=z(2))),
    "conv bias 2-D": lambda: backend.conv2d_forward(**conv_args(bias=z(4, 1))),
    "conv weight wrong": lambda: backend.conv2d_forward(**conv_args(w=z(4, 3, 3, 2))),
    "conv input too small": lambda: backend.conv2d_forward(**conv_args(x=z(2, 3, 4, 5))),
    "conv input float64": lambda: backend.conv2d_forward(**conv_args(x=z(2, 3, 5, 5,
                                                                         dtype=np.float64))),
    "conv input strided": lambda: backend.conv2d_forward(**conv_args(x=z(2, 3, 5, 10)[..., ::2])),
    "conv output read-only": lambda: backend.conv2d_forward(**conv_args(y=readonly(z(2, 4, 3, 3)))),
    "conv output too big a shape": lambda: backend.conv2d_forward(
        **conv_args(y=z(2, 4, 4, 4), shape=CONV[:5] + (4, 4) + CONV[7:])),
    "conv shape negative": lambda: backend.conv2d_forward(
        **conv_args(shape=(2, 3, 5, 5, 4, 3, 3, 3, 3, 1, 1, -1, 0, 1, 1, 1))),
    "conv shape short": lambda: backend.conv2d_forward(**conv_args(shape=CONV[:15])),
    "conv output aliases input": lambda: _aliased_conv(),
    "conv backward grad_weight wrong": lambda: backend.conv2d_backward(
        z(2, 3, 5, 5), z(4, 3, 3, 3), z(2, 4, 3, 3), None, z(4, 3, 3), None, CONV),
    "conv backward grad_output wrong": lambda: backend.conv2d_backward(
        z(2, 3, 5, 5), z(4, 3, 3, 3), z(2, 4, 3, 2), z(2, 3, 5, 5), None, None, CONV),
    "maxpool indices int32": lambda: backend.maxpool2d_forward(
        z(2, 3, 4, 4), z(2, 3, 2, 2), z(2, 3, 2, 2, dtype=np.int32), POOL),
    "maxpool output too small": lambda: backend.maxpool2d_forward(
        z(2, 3, 4, 4), z(2, 3, 2, 1), z(2, 3, 2, 2, dtype=np.int64), POOL),
    "maxpool shape claims more windows": lambda: backend.maxpool2d_forward(
        z(2, 3, 4, 4), z(2, 3, 9, 9), z(2, 3, 9, 9, dtype=np.int64),
        POOL[:5] + (9, 9) + POOL[7:]),
    "maxpool backward grad_input short": lambda: backend.maxpool2d_backward(
        z(2, 3, 2, 2), z(2, 3, 2, 2, dtype=np.int64), z(2, 3, 4, 3), POOL),
    "maxpool2x2 codes int64": lambda: backend.maxpool2x2_forward(
        z(2, 3, 4, 4), z(2, 3, 2, 2), z(2, 3, 2, 2, dtype=np.int64), POOL),
    "maxpool2x2 codes read-only": lambda: backend.maxpool2x2_forward(
        z(2, 3, 4, 4), z(2, 3, 2, 2), readonly(z(2, 3, 2, 2, dtype=np.uint8)), POOL),
    "maxpool2x2 on 3x3 windows": lambda: backend.maxpool2x2_forward(
        z(2, 3, 4, 4), z(2, 3, 2, 2), z(2, 3, 2, 2, dtype=np.uint8),
        POOL[:7] + (3, 3) + POOL[9:]),
    "maxpool2x2 ceil-mode window past the input": lambda: backend.maxpool2x2_forward(
        z(2, 3, 3, 3), z(2, 3, 2, 2), z(2, 3, 2, 2, dtype=np.uint8), (2, 3, 3, 3, 3, 2, 2) + POOL[7:]),
    "maxpool2x2 backward grad_input short": lambda: backend.maxpool2x2_backward(
        z(2, 3, 2, 2), z(2, 3, 2, 2, dtype=np.uint8), z(2, 3, 4, 3), POOL),
    "avgpool output read-only": lambda: backend.avgpool2d_forward(
        z(2, 3, 4, 4), readonly(z(2, 3, 2, 2)), POOL, True),
    "avgpool backward wrong": lambda: backend.avgpool2d_backward(
        z(2, 3, 2, 3), z(2, 3, 4, 4), POOL, True),
    "batchnorm weight short": lambda: backend.batchnorm_forward(
        z(4, 3, 2, 2), z(2), z(3), z(4, 3, 2, 2), z(3, dtype=np.float64),
        z(3, dtype=np.float64), True, 1e-5),
    "batchnorm stats float32": lambda: backend.batchnorm_forward(
        z(4, 3, 2, 2), z(3), z(3), z(4, 3, 2, 2), z(3), z(3), False, 1e-5),
    "batchnorm output wrong": lambda: backend.batchnorm_forward(
        z(4, 3, 2, 2), z(3), z(3), z(4, 3, 2), z(3, dtype=np.float64),
        z(3, dtype=np.float64), True, 1e-5),
    "batchnorm backward grad short": lambda: backend.batchnorm_backward(
        z(4, 3, 2, 2), z(4, 3, 2), z(3), z(3, dtype=np.float64), z(3, dtype=np.float64),
        z(4, 3, 2, 2), z(3), z(3), 1e-5),
    "lstm xw float64": lambda: backend.lstm_forward(
        z(2, 3, 8, dtype=np.float64), z(2, 8), None, z(3, 2), z(3, 2), z(2, 3, 8), *LSTM_OUT,
        False),
    "lstm w_hh_t transposed": lambda: backend.lstm_forward(
        z(2, 3, 8), z(8, 2).T, None, z(3, 2), z(3, 2), z(2, 3, 8), *LSTM_OUT, False),
    "lstm b_hh short": lambda: backend.lstm_forward(
        z(2, 3, 8), z(2, 8), z(7), z(3, 2), z(3, 2), z(2, 3, 8), *LSTM_OUT, False),
    "lstm gates read-only": lambda: backend.lstm_forward(
        z(2, 3, 8), z(2, 8), None, z(3, 2), z(3, 2), readonly(z(2, 3, 8)), *LSTM_OUT, False),
    "lstm output overlaps cells": lambda: _aliased_lstm(),
    "lstm backward w_hh wrong": lambda: backend.lstm_backward(
        z(2, 3, 2), z(3, 2), z(2, 3, 8), z(2, 3, 2), z(2, 3, 2), z(3, 2), z(2, 8), z(2, 3, 8),
        z(3, 2), False),
    "lstm backward dh overlaps dc": lambda: _aliased_lstm_backward(),
    "lstm cells not 3-D": lambda: backend.lstm_backward(
        z(2, 3, 2), z(3, 2), z(2, 3, 8), z(6, 2), z(2, 3, 2), z(3, 2), z(8, 2), z(2, 3, 8),
        z(3, 2), False),
    "gru b_hh short": lambda: backend.gru_forward(
        z(2, 3, 6), z(2, 6), z(5), z(3, 2), z(2, 3, 6), *GRU_OUT, False),
    "gru h0 read as float64": lambda: backend.gru_forward(
        z(2, 3, 6), z(2, 6), None, z(3, 2, dtype=np.float64), z(2, 3, 6), *GRU_OUT, False),
    "gru output overlaps hn": lambda: _aliased_gru(),
    "gru backward d_hw is d_xw": lambda: _aliased_gru_backward(),
    "gru backward w_hh transposed": lambda: backend.gru_backward(
        z(2, 3, 2), z(2, 3, 6), z(2, 3, 2), z(2, 3, 2), z(2, 6).T, z(2, 3, 6), z(2, 3, 6),
        z(3, 2), False),
    "sgd grad short": lambda: backend.sgd_step(z(10), z(9), lr=0.1),
    "sgd param read-only": lambda: backend.sgd_step(readonly(z(10)), z(10), lr=0.1),
    "sgd momentum buffer read-only": lambda: backend.sgd_step(z(10), z(10), readonly(z(10)),
                                                              lr=0.1, momentum=0.9),
    "adam state short": lambda: backend.adam_step(z(10), z(10), z(10), z(8), None, 0.1, 1.0,
                                                  0.9, 0.999, 1e-8),
    "adagrad state read-only": lambda: backend.adagrad_step(z(10), z(10), readonly(z(10)),
                                                            0.1, 0.0, 1e-10),
    "rmsprop grad strided": lambda: backend.rmsprop_step(z(10), z(20)[::2], z(10), None, None,
                                                         0.1, 0.99, 1e-8, 0.0, 0.0),
}


LSTM_OUT = (z(2, 3, 2), z(2, 3, 2), z(2, 3, 2), z(2, 3, 2))  # cells, tanh_c, h_prev, output


def _aliased_lstm():
    cells = z(2, 3, 2)
    return backend.lstm_forward(z(2, 3, 8), z(2, 8), None, z(3, 2), z(3, 2), z(2, 3, 8), cells,
                                z(2, 3, 2), z(2, 3, 2), cells, False)


def _aliased_lstm_backward():
    dc = z(3, 2)
    return backend.lstm_backward(z(2, 3, 2), dc, z(2, 3, 8), z(2, 3, 2), z(2, 3, 2), z(3, 2),
                                 z(8, 2), z(2, 3, 8), dc, False)


GRU_OUT = (z(2, 3, 2), z(2, 3, 2), z(2, 3, 2))  # hn, h_prev, output


def _aliased_gru():
    hn = z(2, 3, 2)
    return backend.gru_forward(z(2, 3, 6), z(2, 6), None, z(3, 2), z(2, 3, 6), hn, z(2, 3, 2),
                               hn, False)


def _aliased_gru_backward():
    d = z(2, 3, 6)
    return backend.gru_backward(z(2, 3, 2), z(2, 3, 6), z(2, 3, 2), z(2, 3, 2), z(6, 2), d, d,
                                z(3, 2), False)


def _aliased_conv():
    x = z(2, 3, 5, 5)
    return backend.conv2d_forward(x, z(4, 3, 3, 3), None, x.reshape(-1)[:72].reshape(2, 4, 3, 3),
                                  CONV)


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_bad_kernel_arguments_raise_the_same_on_every_backend(case):
    outcomes = []
    for name in BACKENDS:
        with backend.using(name):
            with pytest.raises((ValueError, TypeError, RuntimeError)) as info:
                BAD_CALLS[case]()
        outcomes.append((type(info.value), str(info.value)))
    assert len(set(outcomes)) == 1, outcomes


def test_conv2d_bias_of_the_wrong_length_reads_like_torch(backend_name):
    x, w = fastnn.randn(2, 3, 5, 5), fastnn.randn(4, 3, 3, 3)
    with pytest.raises(RuntimeError, match=r"Given weight of size \[4, 3, 3, 3\], expected bias "
                                           r"to be 1-dimensional with 4 elements, but got bias "
                                           r"of size \[2\] instead"):
        F.conv2d(x, w, fastnn.randn(2))


def test_maxpool_backward_skips_indices_outside_the_plane(backend_name):
    """Indices come from forward, but a caller can hand the kernel any: none is followed out of
    the input plane (the gradient of such a window is dropped)."""
    gy = np.ones((1, 1, 2, 2), F32)
    idx = np.array([0, 15, 16, -1], dtype=np.int64).reshape(1, 1, 2, 2)
    gx = np.full((1, 1, 4, 4), 7, F32)
    backend.maxpool2d_backward(gy, idx, gx, (1, 1, 4, 4, 1, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1, 1))
    assert gx.reshape(-1)[0] == 1 and gx.reshape(-1)[15] == 1 and gx.sum() == 2


def test_every_backend_provides_every_declared_kernel():
    from fastnn.backend import contract
    for name in BACKENDS:
        module = backend.get(name)
        assert not getattr(module, "FALLBACK", ()), name
        for kernel in contract.NAMES:
            assert callable(getattr(module, kernel)), (name, kernel)


def test_a_backend_missing_a_kernel_fails_to_load_unless_it_lists_the_fallback(monkeypatch):
    import sys
    import types
    fake = types.ModuleType("fastnn_fake_backend")
    fake.NAME = "fake"
    monkeypatch.setitem(sys.modules, "fastnn_fake_backend", fake)
    monkeypatch.setitem(backend._MODULES, "fake", "fastnn_fake_backend")
    with pytest.raises(ImportError, match="provides no gemm, relu_forward"):
        backend.get("fake")
    fake.FALLBACK = backend.KERNELS
    with pytest.warns(RuntimeWarning, match="runs gemm, .* on the numpy reference"):
        backend.get("fake")
    try:
        with backend.using("fake"):
            out = backend.gemm(np.ones((2, 3), F32), np.ones((3, 4), F32))
        assert out.tolist() == [[3.0] * 4] * 2
        assert backend._tables["fake"]["gemm"] is backend.get("numpy").gemm
    finally:
        backend._loaded.pop("fake", None)
        backend._tables.pop("fake", None)


def test_streaming_wrappers_are_generated_from_the_contract():
    from fastnn import _kernels
    from fastnn.backend import contract
    for kernel in contract.KERNELS:
        if kernel.stream is not None:
            assert getattr(_kernels, kernel.name).__doc__ == kernel.doc
    with pytest.raises(ValueError, match="sgd_step: grad has 9 elements, expected 10"):
        _kernels.sgd_step(z(10), z(9), None, 0.1, 0.0, 0.0, 0.0, False, False)
    with pytest.raises(ValueError, match="read-only"):
        _kernels.relu_forward(z(4), readonly(z(4)))
    with pytest.raises(ValueError, match="sum_all: out has 2 elements, expected 1"):
        _kernels.sum_all(z(4), z(2))


def _message(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001
        return type(exc).__name__, str(exc)
    return None


@pytest.mark.parametrize("case", ["size", "dtype", "type"])
def test_assigning_a_mismatched_grad_raises_like_torch(case):
    """An optimizer kernel reads .grad as the parameter's size and dtype: a mismatch is refused
    when it is assigned, with torch's exception and words."""
    torch = pytest.importorskip("torch")
    values = {"size": lambda m: m.ones(4, 3), "dtype": lambda m: m.ones(3, 4, dtype=m.float64),
              "type": lambda m: np.ones((3, 4), np.float32)}

    def assign(m):
        p = m.zeros(3, 4, requires_grad=True)
        p.grad = values[case](m)
    ours, theirs = _message(lambda: assign(fastnn)), _message(lambda: assign(torch))
    assert ours[0] == theirs[0]
    assert theirs[1].startswith(ours[1].split(" (defaults")[0][:60])


@pytest.mark.parametrize("which", ["weight", "bias", "running_mean", "running_var"])
def test_batch_norm_parameter_sizes_raise_like_torch(backend_name, which):
    torch = pytest.importorskip("torch")

    def call(m):
        args = dict(weight=m.ones(3), bias=m.zeros(3), running_mean=m.zeros(3),
                    running_var=m.ones(3))
        args[which] = m.ones(2)
        m.nn.functional.batch_norm(m.ones(4, 3, 2, 2), args["running_mean"],
                                   args["running_var"], args["weight"], args["bias"],
                                   training=which in ("weight", "bias"))
    assert _message(lambda: call(fastnn)) == _message(lambda: call(torch))


def test_the_c_overlap_check_answers_as_np_shares_memory():
    """_kernels.first_overlap (the recurrent kernels' checker, over contiguous byte spans)
    against its NumPy reference: disjoint, touching, overlapping, empty and None arrays, with
    outputs against inputs and against later outputs."""
    from fastnn import _kernels
    from fastnn.backend.checks import first_overlap_numpy
    block = np.zeros((6, 4))
    rows = [block[i:i + 1] for i in range(6)]
    cases = [
        ([("out", rows[0])], [("a", rows[1]), ("b", None)]),
        ([("out", block[:2])], [("a", block[1:3])]),
        ([("out", rows[2]), ("out2", block[2:4])], [("a", rows[5])]),
        ([("out", rows[2]), ("out2", rows[3])], [("a", block[:0]), ("b", np.zeros(3))]),
        ([("out", None), ("out2", block)], [("a", rows[4])]),
        ([("out", block[:0])], [("a", block)]),
    ]
    for outputs, inputs in cases:
        assert _kernels.first_overlap(outputs, inputs) == first_overlap_numpy(outputs, inputs)
    assert [first_overlap_numpy(*c) for c in cases] == [
        None, ("out", "a"), ("out", "out2"), None, ("out2", "a"), None]
    with pytest.raises(ValueError, match="C-contiguous"):
        _kernels.first_overlap([("out", block[:, :2])], [])
