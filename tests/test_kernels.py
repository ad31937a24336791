"""Every kernel on every backend against the NumPy reference: random shapes including 1,
primes, sizes off every block boundary, zero-size dimensions, non-contiguous and transposed
operands; plus proof that the compiled kernels (and each instruction set) actually ran."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastnn
from fastnn import _kernels, backend
from fastnn.backend import reference

from conftest import BACKENDS

# 1, primes, the micro-tile sizes +-1 (MR 4/6/12, NR 16/32), AVX2's KC 256 +- 1 and zero (AVX-512's
# KC of 1024 is crossed in test_gemm_each_instruction_set).
EDGE_SIZES = [0, 1, 2, 3, 5, 7, 11, 12, 13, 16, 17, 31, 32, 33, 97, 255, 256, 257]
dims = st.sampled_from(EDGE_SIZES) | st.integers(0, 70)
ISAS = [isa for isa in ("generic", "avx2", "avx512") if _kernels.isa_supported(isa)]


def layout(array, kind):
    """The same values in another memory layout: C order, Fortran order, or a strided view."""
    if kind == "c":
        return np.ascontiguousarray(array)
    if kind == "f":
        return np.asfortranarray(array)
    padded = np.zeros((array.shape[0], array.shape[1] * 2 + 1), dtype=array.dtype)
    padded[:, 1::2][:, : array.shape[1]] = array
    view = padded[:, 1::2][:, : array.shape[1]]
    assert not view.flags.c_contiguous or array.size <= 1
    return view


def gemm_tolerance(k):
    return 1e-5 * max(k, 1) ** 0.5 * 10


@pytest.mark.parametrize("name", BACKENDS)
@settings(max_examples=40, deadline=None)
@given(m=dims, n=dims, k=dims, la=st.sampled_from("cfs"), lb=st.sampled_from("cfs"),
       bias=st.booleans(), relu=st.booleans(), accumulate=st.booleans(), seed=st.integers(0, 9))
def test_gemm_matches_reference(name, m, n, k, la, lb, bias, relu, accumulate, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    bvec = rng.standard_normal(n, dtype=np.float32) if bias else None
    start = rng.standard_normal((m, n), dtype=np.float32)
    expected = reference.gemm(a, b, start.copy(), bvec, relu, accumulate)
    out = start.copy()
    backend.gemm(layout(a, la), layout(b, lb), out, bvec, relu, accumulate, backend=name)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=gemm_tolerance(k))


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("shape", [(1, 1, 1), (13, 33, 257), (12, 32, 256), (11, 31, 255),
                                   (97, 5, 300), (256, 10, 256), (300, 300, 600), (25, 545, 40),
                                   (13, 33, 1025), (14, 70, 2049)])  # K past one and two KC
@pytest.mark.parametrize("a_layout", "cfs")
def test_gemm_each_instruction_set(isa, shape, a_layout):
    # AVX-512 reads A in place with its strides, AVX2 and generic pack it (kernels/gemm.c)
    m, n, k = shape
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    w = rng.standard_normal((n, k), dtype=np.float32)
    previous = _kernels.isa_active()
    try:
        _kernels.isa_force(isa)
        assert _kernels.isa_active() == isa
        out = backend.gemm(layout(a, a_layout), w.T, backend="cython")  # x @ W^T, as Linear
    finally:
        _kernels.isa_force(previous)
    np.testing.assert_allclose(out, a.astype(np.float64) @ w.T.astype(np.float64),
                               rtol=1e-4, atol=gemm_tolerance(k))


def test_unsupported_instruction_set_is_refused():
    with pytest.raises(ValueError, match="unknown instruction set"):
        _kernels.isa_force("sse9")
    for isa in ("avx2", "avx512"):
        if not _kernels.isa_supported(isa):
            with pytest.raises(RuntimeError, match="does not support"):
                _kernels.isa_force(isa)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_gemm_same_bits_for_any_thread_count(threads):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((301, 517), dtype=np.float32)
    b = rng.standard_normal((517, 263), dtype=np.float32)
    fastnn.set_num_threads(1)
    single = backend.gemm(a, b, backend="cython")
    fastnn.set_num_threads(threads)
    runs = [backend.gemm(a, b, backend="cython") for _ in range(3)]
    for out in runs:
        np.testing.assert_array_equal(out, single)


def test_gemm_negative_and_zero_strides():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((40, 30), dtype=np.float32)[::-1, ::-2]
    b = np.broadcast_to(rng.standard_normal((1, 9), dtype=np.float32), (15, 9))
    for name in BACKENDS:
        out = backend.gemm(a, b, backend=name)
        np.testing.assert_allclose(out, a @ b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", BACKENDS)
@settings(max_examples=25, deadline=None)
@given(n=st.sampled_from([0, 1, 7, 16, 17, 1000, 1 << 18, (1 << 18) + 3]), seed=st.integers(0, 5))
def test_relu_matches_reference(name, n, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n, dtype=np.float32)
    x[: min(n, 3)] = [0.0, -0.0, np.nan][: min(n, 3)]
    gy = rng.standard_normal(n, dtype=np.float32)
    y = backend.relu_forward(x, backend=name)
    np.testing.assert_array_equal(y, reference.relu_forward(x, np.empty_like(x)))
    gx = backend.relu_backward(x, gy, backend=name)
    np.testing.assert_array_equal(gx, reference.relu_backward(x, gy, np.empty_like(x)))


@pytest.mark.parametrize("name", BACKENDS)
@settings(max_examples=25, deadline=None)
@given(n=st.sampled_from([0, 1, 63, 64, 65, 4095, 4097, 1 << 18, (1 << 18) + 3, 3 << 19]),
       seed=st.integers(0, 5))
def test_sum_all_matches_reference(name, n, seed):
    """The full sum against the exact (float64) sum rounded once: within the float32 lanes'
    rounding, which is bounded by the sum of magnitudes, not the (cancelling) result."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) + 0.5).astype(np.float32)
    got = backend.sum_all(x, backend=name)
    want = reference.sum_all(x, np.empty(1, np.float32))[0]
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-6 * np.abs(x).sum() / 64 + 1e-6)


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("rows, width", [(0, 5), (5, 0), (1, 1), (1, 300), (7, 13),
                                         (6400, 498), ((1 << 18) + 3, 1)])
def test_fill_rows_matches_reference(name, rows, width):
    """Every row its value, NaN and infinities included, on both sides of the threaded size;
    on the compiled backend the call counter proves the C kernel ran, at 1 and 2 threads."""
    rng = np.random.default_rng(rows + width)
    values = rng.standard_normal(rows, dtype=np.float32)
    values[: min(rows, 3)] = [np.nan, np.inf, -0.0][: min(rows, 3)]
    want = reference.fill_rows(values, np.empty((rows, width), np.float32))
    threads = fastnn.get_num_threads()
    try:
        for count in (1, 2):
            fastnn.set_num_threads(count)
            calls = _kernels.call_counts()["fill_rows"]
            out = np.full((rows, width), 7.0, np.float32)
            assert backend.fill_rows(values, out, backend=name) is out
            np.testing.assert_array_equal(out, want)
            assert _kernels.call_counts()["fill_rows"] == calls + (name == "cython")
    finally:
        fastnn.set_num_threads(threads)


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("shape, dtype", [((0,), np.float32), ((1,), np.float32),
                                          ((7, 13), np.float64), ((3,), np.uint8),
                                          ((64, 100, 498), np.float32),
                                          (((1 << 18) + 3,), np.float32), ((1 << 17, 5), np.int64),
                                          ((5, 1 << 15), np.bool_)])
def test_copy_array_matches_reference(name, shape, dtype):
    """Every byte copied, from read-only sources too, below and past the threaded size (1 MiB)
    and at sizes that are not whole cache lines; the compiled counter proves the C kernel ran."""
    rng = np.random.default_rng(sum(shape))
    source = (rng.standard_normal(shape) * 100).astype(dtype)
    if dtype == np.float32 and source.size >= 3:
        source.reshape(-1)[:3] = [np.nan, -np.inf, -0.0]
    source.flags.writeable = False
    threads = fastnn.get_num_threads()
    try:
        for count in (1, 2):
            fastnn.set_num_threads(count)
            calls = _kernels.call_counts()["copy_array"]
            out = np.full(shape, 7, dtype)
            assert backend.copy_array(source, out, backend=name) is out
            assert out.tobytes() == source.tobytes()
            assert _kernels.call_counts()["copy_array"] == calls + (name == "cython")
    finally:
        fastnn.set_num_threads(threads)


def test_copy_array_refuses_what_it_cannot_write():
    source = np.arange(12, dtype=np.float32).reshape(3, 4)
    with pytest.raises(ValueError, match="out must be C-contiguous"):
        backend.copy_array(source, np.zeros((4, 3), np.float32).T)
    with pytest.raises(ValueError, match="source must be C-contiguous"):
        backend.copy_array(source.T, np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"out is float64 \(3, 4\), expected float32 \(3, 4\)"):
        backend.copy_array(source, np.zeros((3, 4), np.float64))
    with pytest.raises(ValueError, match="expected float32"):
        backend.copy_array(source, np.zeros((4, 3), np.float32))
    with pytest.raises(TypeError, match="numpy.ndarray"):
        backend.copy_array([1.0], np.zeros(1, np.float32))
    read_only = np.zeros((3, 4), np.float32)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="out must be writable"):
        backend.copy_array(source, read_only)
    with pytest.raises(ValueError, match="out must not overlap source"):
        flat = np.arange(12, dtype=np.float32)
        backend.copy_array(flat[:6], flat[3:9])
    with pytest.raises(ValueError, match="copy_array: source bytes has 4 elements, expected 8"):
        _kernels.copy_array(np.zeros(4, np.uint8), np.zeros(8, np.uint8))


def test_tensor_of_a_large_array_is_a_threaded_copy_of_it():
    """fastnn.tensor(array) of 1 MiB or more copies on the kernel (each thread its half, as the
    kernels that read it next: issue 12); below it and across dtypes NumPy converts."""
    x = np.random.default_rng(0).standard_normal((64, 100, 498), dtype=np.float32)
    calls = _kernels.call_counts()["copy_array"]
    t = fastnn.tensor(x, requires_grad=True)
    assert _kernels.call_counts()["copy_array"] == calls + 1
    assert not np.shares_memory(t.detach().numpy(), x) and np.array_equal(t.detach().numpy(), x)
    assert t.requires_grad and t.dtype == fastnn.float32
    assert fastnn.tensor(x, dtype=fastnn.float64).dtype == fastnn.float64
    fastnn.tensor(x[:, :, ::2])  # strided: NumPy's copy
    fastnn.tensor(x[:1, :1])  # small: NumPy's copy
    assert _kernels.call_counts()["copy_array"] == calls + 1
    c = t.clone()  # clone and contiguous() copy a dense tensor on the kernel too
    assert _kernels.call_counts()["copy_array"] == calls + 2
    assert np.array_equal(c.detach().numpy(), x) and c.grad_fn is not None


def test_fill_rows_refuses_what_it_cannot_write():
    values = np.ones(4, np.float32)
    with pytest.raises(ValueError, match="out must be C-contiguous"):
        backend.fill_rows(values, np.zeros((5, 4), np.float32).T)
    with pytest.raises(ValueError, match="values"):
        backend.fill_rows(np.ones(3, np.float32), np.zeros((4, 2), np.float32))
    with pytest.raises((TypeError, ValueError), match="float32"):
        backend.fill_rows(values.astype(np.float64), np.zeros((4, 2), np.float32))
    read_only = np.zeros((4, 2), np.float32)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="out"):
        backend.fill_rows(values, read_only)
    with pytest.raises(ValueError, match="fill_rows: values has 3 elements, expected 4"):
        _kernels.fill_rows(np.ones(3, np.float32), np.zeros((4, 2), np.float32))


@pytest.mark.parametrize("isa", [i for i in ("generic", "avx2", "avx512")
                                 if _kernels.isa_supported(i)])
def test_sum_all_same_bits_on_every_thread_count_and_instruction_set(isa):
    """The compiled sum cuts the array into 64 fixed parts and sums each part's 64 lanes in a
    fixed order, so neither the thread count nor the instruction set changes a bit; the call
    and ISA counters prove the kernel ran. 1e8 then 3 million ones: a float32 running sum loses
    every one (1e8's spacing is 8), this sum at most the 63 that share the big value's lane."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3 << 19) + 5).astype(np.float32)
    previous, threads = _kernels.isa_active(), fastnn.get_num_threads()
    bits = set()
    try:
        _kernels.isa_force(isa)
        for count in (1, 2):
            fastnn.set_num_threads(count)
            calls, runs = _kernels.call_counts()["sum"], _kernels.isa_call_counts()[isa]
            bits.add(backend.sum_all(x, backend="cython").tobytes())
            assert _kernels.call_counts()["sum"] == calls + 1
            assert _kernels.isa_call_counts()[isa] > runs
    finally:
        _kernels.isa_force(previous)
        fastnn.set_num_threads(threads)
    assert len(bits) == 1
    ones = np.ones(3_000_001, np.float32)
    ones[0] = 1e8
    assert abs(float(backend.sum_all(ones, backend="cython")) - (1e8 + 3_000_000)) <= 64
    assert np.cumsum(ones, dtype=np.float32)[-1] == np.float32(1e8)


@pytest.mark.parametrize("name", BACKENDS)
@settings(max_examples=25, deadline=None)
@given(rows=dims, cols=dims, want_bias=st.booleans(), seed=st.integers(0, 5))
def test_relu_backward_bias_matches_reference(name, rows, cols, want_bias, seed):
    rng = np.random.default_rng(seed)
    y = np.maximum(rng.standard_normal((rows, cols), dtype=np.float32), 0)
    g = rng.standard_normal((rows, cols), dtype=np.float32)
    out, bias_grad = backend.relu_backward_bias(y, g, want_bias, backend=name)
    np.testing.assert_array_equal(out, np.where(y > 0, g, 0))
    if want_bias:
        np.testing.assert_allclose(bias_grad, out.astype(np.float64).sum(axis=0), rtol=1e-5,
                                   atol=1e-5)
    else:
        assert bias_grad is None


@pytest.mark.parametrize("name", BACKENDS)
def test_relu_gradient_is_zero_at_zero(name):
    x = np.array([-1.0, 0.0, 2.0], dtype=np.float32)
    gx = backend.relu_backward(x, np.ones(3, np.float32), backend=name)
    np.testing.assert_array_equal(gx, [0.0, 0.0, 1.0])


@pytest.mark.parametrize("name", BACKENDS)
@settings(max_examples=30, deadline=None)
@given(n=st.sampled_from([0, 1, 2, 3, 17, 256, 300]), c=st.sampled_from([1, 2, 10, 33, 1000]),
       scale=st.sampled_from([1.0, 0.5, 1e4]), want_grad=st.booleans(), seed=st.integers(0, 5))
def test_softmax_cross_entropy_matches_reference(name, n, c, scale, want_grad, seed):
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal((n, c)) * scale).astype(np.float32)
    labels = rng.integers(0, c, n)
    losses, grad = backend.softmax_cross_entropy(logits, labels, want_grad, 1.0 / max(n, 1),
                                                 backend=name)
    ref_losses, ref_grad = backend.softmax_cross_entropy(logits, labels, want_grad,
                                                         1.0 / max(n, 1), backend="numpy")
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-5, atol=1e-4)
    if want_grad:
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-4, atol=1e-6)
    else:
        assert grad is None


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("big", [100.0, 1000.0, 1e4, -1e4])
def test_softmax_cross_entropy_is_stable_for_huge_logits(name, big):
    logits = np.array([[big, 0.0, -1.0], [0.0, big, big]], dtype=np.float32)
    labels = np.array([0, 2])
    losses, grad = backend.softmax_cross_entropy(logits, labels, True, 1.0, backend=name)
    assert np.all(np.isfinite(losses)) and np.all(np.isfinite(grad))
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    expected = np.log(np.exp(shifted).sum(axis=1)) - shifted[[0, 1], labels]
    np.testing.assert_allclose(losses, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", BACKENDS)
def test_softmax_cross_entropy_nan_logits_give_nan_not_a_crash(name):
    logits = np.array([[np.nan, 1.0], [1.0, 2.0]], dtype=np.float32)
    losses, grad = backend.softmax_cross_entropy(logits, np.array([0, 1]), True, 1.0, backend=name)
    assert np.isnan(losses[0]) and np.isfinite(losses[1])
    assert np.all(np.isnan(grad[0])) and np.all(np.isfinite(grad[1]))


def test_compiled_kernels_actually_ran():
    """Through the public API: a silent fallback to NumPy would leave the counters unchanged."""
    backend.use("cython")
    before = _kernels.call_counts()
    net = fastnn.nn.Sequential(fastnn.nn.Linear(8, 5), fastnn.nn.ReLU(), fastnn.nn.Linear(5, 3))
    loss = fastnn.nn.functional.cross_entropy(net(fastnn.randn(4, 8)), fastnn.tensor([0, 1, 2, 0]))
    loss.backward()
    after = _kernels.call_counts()
    assert after["gemm"] - before["gemm"] >= 2 + 3  # 2 forward, >= 3 backward products
    # Sequential fuses Linear+ReLU: the ReLU runs in the GEMM epilogue, its backward here
    assert after["relu_backward_bias"] > before["relu_backward_bias"]
    assert after["softmax_cross_entropy"] > before["softmax_cross_entropy"]
    x = fastnn.randn(10, requires_grad=True)
    fastnn.relu(x).sum().backward()
    final = _kernels.call_counts()
    assert final["relu_forward"] > after["relu_forward"]
    assert final["relu_backward"] > after["relu_backward"]
    assert fastnn.config.config()["instruction_set"] == _kernels.isa_best()


def test_numba_backend_runs_numba_code():
    from fastnn.backend import numba_gemm
    out = backend.gemm(np.ones((2, 3), np.float32), np.ones((3, 4), np.float32), backend="numba")
    assert numba_gemm._tile.signatures, "the njit GEMM was never compiled"
    np.testing.assert_array_equal(out, np.full((2, 4), 3.0, np.float32))


@pytest.mark.parametrize("threads", [1, 2])
def test_numba_serial_and_parallel_paths_agree(threads):
    # small work runs on the calling thread, large work in a prange over row or column blocks
    module = backend.get("numba")
    rng = np.random.default_rng(2)
    a = rng.standard_normal((130, 200), dtype=np.float32)
    b = rng.standard_normal((200, 150), dtype=np.float32)
    assert 2 * a.shape[0] * a.shape[1] * b.shape[1] >= module._PARALLEL_MIN_FLOPS
    fastnn.set_num_threads(threads)
    out = backend.gemm(a, b, backend="numba")
    np.testing.assert_allclose(out, a.astype(np.float64) @ b, rtol=1e-4, atol=1e-3)
    # B given transposed is packed panel by panel, split over its rows or columns
    for bt in (np.ascontiguousarray(b.T), np.ascontiguousarray(b[:, :67].T)):
        bias = rng.standard_normal(bt.shape[0], dtype=np.float32)
        out = backend.gemm(a, bt.T, bias=bias, relu=True, backend="numba")
        expected = np.maximum(a.astype(np.float64) @ bt.T + bias, 0)
        np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-3)
    y = rng.standard_normal((600, 300), dtype=np.float32)
    g = rng.standard_normal((600, 300), dtype=np.float32)
    assert y.size >= module._PARALLEL_MIN_ELEMENTS
    grad, bias = backend.relu_backward_bias(y, g, backend="numba")
    np.testing.assert_array_equal(grad, np.where(y > 0, g, 0))
    np.testing.assert_allclose(bias, grad.sum(0), rtol=1e-5, atol=1e-4)
    for n in (1000, module._PARALLEL_MIN_ELEMENTS + 17):  # every optimizer, with its options
        p0, g0 = rng.standard_normal(n, dtype=np.float32), rng.standard_normal(n, dtype=np.float32)
        results = {}
        for name in ("numba", "numpy"):
            p, buf = p0.copy(), np.zeros(n, np.float32)
            backend.sgd_step(p, g0, buf, 0.1, 1e-3, 0.9, 0.0, True, False, backend=name)
            state = [np.full(n, 0.1, np.float32) for _ in range(3)]
            backend.adam_step(p, g0, *state, 1e-3, 1.2, 0.9, 0.999, 1e-8, 1e-2, 1.0,
                              backend=name)
            backend.adagrad_step(p, g0, np.full(n, 0.1, np.float32), 0.01, 1e-3, 1e-10,
                                 backend=name)
            square, average, momentum = (np.full(n, v, np.float32) for v in (0.5, 0.1, 0.0))
            backend.rmsprop_step(p, g0, square, average, momentum, 0.01, 0.9, 1e-8, 1e-3, 0.5,
                                 backend=name)
            results[name] = p
        np.testing.assert_allclose(results["numba"], results["numpy"], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("c", [1, 2, 7, 8, 9, 15, 16, 17, 33, 1000])
def test_softmax_cross_entropy_each_instruction_set(isa, c):
    rng = np.random.default_rng(c)
    logits = (rng.standard_normal((37, c)) * 30).astype(np.float32)
    logits[0, 0] = -np.inf  # exp underflows to exactly 0
    logits[1, :] = 1e4
    labels = rng.integers(0, c, 37)
    labels[0] = c - 1 if c > 1 else 0
    previous = _kernels.isa_active()
    try:
        _kernels.isa_force(isa)
        losses, grad = backend.softmax_cross_entropy(logits, labels, True, 0.25, backend="cython")
    finally:
        _kernels.isa_force(previous)
    ref_losses, ref_grad = backend.softmax_cross_entropy(logits, labels, True, 0.25,
                                                         backend="numpy")
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-5, atol=1e-7)


STREAMING = {  # name -> (call(backend), the arrays it writes)
    "relu_forward": lambda a, b: backend.relu_forward(a["x"], backend=b),
    "relu_backward": lambda a, b: backend.relu_backward(a["x"], a["g"], backend=b),
    "relu_backward_bias": lambda a, b: backend.relu_backward_bias(a["x2"], a["g2"], backend=b),
    "sgd": lambda a, b: backend.sgd_step(a["p"], a["g"], a["buf"], lr=0.1, weight_decay=0.01,
                                         momentum=0.9, nesterov=True, backend=b),
    "adam": lambda a, b: backend.adam_step(a["p"], a["g"], a["m"], a["v"], a["vmax"], 0.01,
                                           1.1, 0.9, 0.999, 1e-8, 0.01, 0.999, backend=b),
    "adagrad": lambda a, b: backend.adagrad_step(a["p"], a["g"], a["v"], 0.01, 0.01, 1e-10,
                                                 backend=b),
    "adadelta": lambda a, b: backend.adadelta_step(a["p"], a["g"], a["v"], a["vmax"], 1.0, 0.9,
                                                   1e-6, 0.01, backend=b),
    "adamax": lambda a, b: backend.adamax_step(a["p"], a["g"], a["m"], a["v"], 0.02, 0.9, 0.999,
                                               1e-8, 0.01, backend=b),
    "nadam": lambda a, b: backend.nadam_step(a["p"], a["g"], a["m"], a["v"], 0.01, 0.02, 0.9,
                                             0.999, 1.5, 1e-8, 0.01, 0.999, backend=b),
    "radam": lambda a, b: backend.radam_step(a["p"], a["g"], a["m"], a["v"], 0.01, 0.3, True,
                                             0.9, 0.999, 1e-8, 0.01, 0.999, backend=b),
    "rmsprop": lambda a, b: backend.rmsprop_step(a["p"], a["g"], a["v"], a["ga"], a["buf"], 0.01,
                                                 0.99, 1e-8, 0.01, 0.9, backend=b),
}


def _streaming_arrays(n, seed=0):
    rng = np.random.default_rng(seed)
    f = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    return dict(x=f(n), g=f(n), x2=f(max(n // 8, 1), 8), g2=f(max(n // 8, 1), 8), p=f(n),
                buf=f(n), m=f(n), v=np.abs(f(n)) + 1, vmax=np.abs(f(n)),
                ga=f(n) * 0.1)  # centered RMSprop: v - ga^2 stays well away from 0


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("kernel", list(STREAMING))
@pytest.mark.parametrize("n", [1, 17, 1000, 300_001])  # the last one runs on the threads
def test_streaming_kernels_each_instruction_set(isa, kernel, n):
    """ReLU and the optimizer updates follow isa_force like GEMM: the forced variant is the
    one that runs (its counter moves), and it agrees with the reference."""
    ours, ref = _streaming_arrays(n), _streaming_arrays(n)
    previous = _kernels.isa_active()
    try:
        _kernels.isa_force(isa)
        before = _kernels.isa_call_counts()
        result = STREAMING[kernel](ours, "cython")
        after = _kernels.isa_call_counts()
    finally:
        _kernels.isa_force(previous)
    assert after[isa] > before[isa]
    assert all(after[other] == before[other] for other in after if other != isa)
    expected = STREAMING[kernel](ref, "numpy")
    if result is not None:
        for got, want in zip(result if isinstance(result, tuple) else (result,),
                             expected if isinstance(expected, tuple) else (expected,)):
            if want is not None:
                np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    for name in ours:
        np.testing.assert_allclose(ours[name], ref[name], rtol=2e-5, atol=1e-6, err_msg=name)
