"""The compiled backend validates the common call of GEMM and of the streaming kernels in C
(`gemm_if_valid`, `<kernel>_if_valid`, issue 12) instead of running the contract's Python
checker. That is only sound if the C check accepts nothing the checker rejects: hypothesis
draws arrays of every kind (dtypes, shapes, layouts, read-only, overlapping, None) and, each
time the C entry runs the kernel, the checker must accept the same arguments. When it declines,
nothing may have been written."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastnn.backend import checks, compiled, contract

STREAMS = [k for k in contract.KERNELS if k.stream is not None]
DTYPES = [np.float32, np.float32, np.float32, np.float64, np.int32, np.float16]


@st.composite
def arrays(draw, base_shape):
    """An array like base_shape's, or something subtly not."""
    kind = draw(st.sampled_from(["same"] * 5 + ["shape", "ndim", "strided", "fortran",
                                                 "readonly", "misaligned", "list", "none"]))
    dtype = draw(st.sampled_from(DTYPES))
    shape = base_shape
    if kind == "none":
        return None
    if kind == "shape":
        shape = tuple(s + draw(st.integers(-1, 1)) for s in base_shape)
        shape = tuple(max(s, 0) for s in shape)
    if kind == "ndim":
        shape = (int(np.prod(base_shape)),) if len(base_shape) > 1 else base_shape + (1,)
    a = np.arange(int(np.prod(shape)), dtype=np.float64).astype(dtype).reshape(shape)
    if kind == "list":
        return a.tolist()
    if kind == "strided" and a.ndim:
        a = np.repeat(a, 2, axis=-1)[..., ::2]
    if kind == "fortran":
        a = np.asfortranarray(a)
    if kind == "misaligned" and a.size:
        raw = np.zeros(a.nbytes + 1, dtype=np.uint8)
        a = raw[1:].view(a.dtype).reshape(a.shape) if a.dtype.itemsize == 1 else a
    if kind == "readonly":
        a.flags.writeable = False
    return a


@pytest.mark.parametrize("kernel", STREAMS, ids=lambda k: k.name)
@settings(max_examples=60, deadline=None)
@given(data=st.data(), shape=st.sampled_from([(0,), (1,), (7,), (3, 5), (2, 3, 4)]))
def test_streaming_entries_accept_only_what_the_checker_accepts(kernel, data, shape):
    names = [name for name, _ in kernel.stream.arrays]
    args = [np.ones(shape, np.float32)] + [data.draw(arrays(shape), label=n) for n in names[1:]]
    if data.draw(st.booleans(), label="first unusual"):
        args[0] = data.draw(arrays(shape), label=names[0])
    scalars = [0.5 if ctype == "float" else False for _, ctype in kernel.stream.scalars]
    before = [a.copy() if isinstance(a, np.ndarray) else None for a in args]
    ran = compiled.VALIDATED[kernel.name](*args, *scalars)
    if ran:
        getattr(checks, "check_" + kernel.name)(*args, *scalars)  # must not raise
    else:
        for a, b in zip(args, before):
            if b is not None:
                np.testing.assert_array_equal(a, b)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), m=st.integers(0, 5), n=st.integers(0, 5), k=st.integers(0, 5),
       bias=st.booleans(), give_out=st.booleans(), overlap=st.booleans())
def test_gemm_entry_accepts_only_what_the_checker_accepts(data, m, n, k, bias, give_out,
                                                          overlap):
    a = data.draw(arrays((m, k)), label="a")
    b = data.draw(arrays((k, n)), label="b")
    bvec = data.draw(arrays((n,)), label="bias") if bias else None
    out = data.draw(arrays((m, n)), label="out") if give_out else None
    if overlap and isinstance(a, np.ndarray) and a.size and a.dtype == np.float32:
        out = a  # the product may not write over its own input
    before = out.copy() if isinstance(out, np.ndarray) else None
    result = compiled.gemm_if_valid(a, b, out, bvec, False, False)
    if result is not None:
        checks.check_gemm(a, b, result, bvec, False, False)  # must not raise
        if out is not None:
            assert result is out
    elif before is not None:
        np.testing.assert_array_equal(out, before)


@pytest.mark.parametrize("kernel", STREAMS, ids=lambda k: k.name)
def test_streaming_entries_run_the_common_call_like_the_checked_path(kernel):
    rng = np.random.default_rng(0)
    shape = (3, 37)
    arrays_ = [rng.random(shape, dtype=np.float32) + 0.5 for _ in kernel.stream.arrays]
    scalars = [0.25 if ctype == "float" else False for _, ctype in kernel.stream.scalars]
    checked = [a.copy() for a in arrays_]
    assert compiled.VALIDATED[kernel.name](*arrays_, *scalars) is True
    getattr(compiled, kernel.name)(*checked, *scalars)
    for a, b in zip(arrays_, checked):
        np.testing.assert_array_equal(a, b)


def test_gemm_entry_runs_the_common_call_like_the_checked_path():
    rng = np.random.default_rng(0)
    a, w = rng.random((5, 40), dtype=np.float32), rng.random((9, 40), dtype=np.float32)
    bias = rng.random(9, dtype=np.float32)
    fast = compiled.gemm_if_valid(a, w.T, None, bias, True, False)
    checked = compiled.gemm(a, w.T, np.empty((5, 9), np.float32), bias, True, False)
    np.testing.assert_array_equal(fast, checked)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), m=st.integers(0, 5), n=st.integers(0, 5), want_bias=st.booleans())
def test_relu_backward_bias_entry_accepts_only_what_the_checker_accepts(data, m, n, want_bias):
    y = data.draw(arrays((m, n)), label="y")
    g = data.draw(arrays((m, n)), label="grad_out")
    result = compiled.relu_backward_bias_new(y, g, want_bias)
    if result is not None:
        out, bias_grad = result
        assert (bias_grad is not None) == want_bias
        checks.check_relu_backward_bias(y, g, out, bias_grad)  # must not raise


def test_relu_backward_bias_entry_runs_like_the_checked_path():
    rng = np.random.default_rng(0)
    y = np.maximum(rng.standard_normal((7, 37), dtype=np.float32), 0)
    g = rng.standard_normal((7, 37), dtype=np.float32)
    out, bias_grad = compiled.relu_backward_bias_new(y, g, True)
    checked_out, checked_bias = np.empty_like(y), np.empty(37, np.float32)
    compiled.relu_backward_bias(y, g, checked_out, checked_bias)
    np.testing.assert_array_equal(out, checked_out)
    np.testing.assert_array_equal(bias_grad, checked_bias)
    assert compiled.relu_backward_bias_new(y, g, False)[1] is None


@settings(max_examples=100, deadline=None)
@given(data=st.data(), count=st.integers(0, 3),
       shapes=st.lists(st.sampled_from([(0,), (1,), (7,), (3, 5)]), min_size=3, max_size=3))
def test_sgd_steps_entry_runs_all_or_nothing(data, count, shapes):
    """One call updates every (param, grad) pair exactly as sgd_step does each, or, when any
    pair is not the common call, returns False having written nothing."""
    params = [np.arange(int(np.prod(s)), dtype=np.float32).reshape(s) + 1 for s in shapes[:count]]
    grads = [data.draw(arrays(p.shape), label=f"grad {i}") for i, p in enumerate(params)]
    before = [p.copy() for p in params]
    if compiled.sgd_steps_if_valid(params, grads, 0.5, 0.25):
        for p, g, b in zip(params, grads, before):
            checks.check_sgd_step(b, g, None, 0.5, 0.25, 0.0, 0.0, False, False)
            compiled.sgd_step(b, g, None, 0.5, 0.25, 0.0, 0.0, False, False)
            np.testing.assert_array_equal(p, b)
    else:
        for p, b in zip(params, before):
            np.testing.assert_array_equal(p, b)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), shape=st.sampled_from([(0,), (1,), (7,), (3, 5), (2, 3, 4), (70,),
                                              (3, 65)]), out_kind=st.sampled_from(
    ["ok", "ok", "float64", "two", "readonly", "list", "same"]))
def test_sum_entry_accepts_only_what_the_checker_accepts(data, shape, out_kind):
    """sum_all_if_valid sums only what the checker accepts, with the checked kernel's bits,
    and writes nothing when it declines."""
    x = data.draw(arrays(shape), label="x")
    out = {"ok": np.full(1, 7.0, np.float32), "float64": np.full(1, 7.0),
           "two": np.full(2, 7.0, np.float32), "list": [7.0],
           "readonly": np.full(1, 7.0, np.float32),
           "same": x.reshape(-1)[-1:] if isinstance(x, np.ndarray) and x.size else None}[out_kind]
    if out_kind == "readonly":
        out.flags.writeable = False
    before = out.copy() if isinstance(out, np.ndarray) else None
    if compiled.VALIDATED["sum_all"](x, out):
        checks.check_sum_all(x, out)  # must not raise
        want = np.empty(1, np.float32)
        compiled.sum_all(x, want)
        assert out.tobytes() == want.tobytes()
    elif before is not None:
        np.testing.assert_array_equal(out, before)


def test_sum_entry_declines_what_the_checker_refuses():
    out = np.empty(1, np.float32)
    for x in (np.ones(8, np.float64), np.ones((4, 4), np.float32)[:, ::2],
              np.asfortranarray(np.ones((3, 4), np.float32)), [1.0, 2.0], None):
        assert compiled.VALIDATED["sum_all"](x, out) is False
