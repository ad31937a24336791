"""The few-row GEMM path (kernels/gemm_small.c): M <= 16 rows (up to 64 where the operand read
again per block of rows or columns fits in L2, kernels/gemm_small.h) read B in place, in the dot form
(B = W^T, Linear's forward) or the axpy form (B with contiguous rows, the backward products).
Every instruction set, every remainder of the register blocks, the epilogue flags, strided
operands, thread counts; and proof that the path ran (its call counter)."""
import numpy as np
import pytest

import fastnn
from fastnn import _kernels, backend

ISAS = [isa for isa in ("generic", "avx2", "avx512") if _kernels.isa_supported(isa)]
SMALL_M_MAX = 16
SMALL_M_WIDE = 64  # float32 only, while M * K (dot form) or K * N (axpy form) <= 256 Ki floats
REREAD_FLOATS = 256 * 1024


@pytest.fixture
def isa_forced(request):
    previous = _kernels.isa_active()
    _kernels.isa_force(request.param)
    yield request.param
    _kernels.isa_force(previous)


def expected(a, b, start, bias, relu, accumulate):
    out = a.astype(np.float64) @ b.astype(np.float64)
    if accumulate:
        out += start
    if bias is not None:
        out += bias
    return np.maximum(out, 0) if relu else out


def small_calls():
    return _kernels.call_counts()["gemm_small"]


@pytest.mark.parametrize("isa_forced", ISAS, indirect=True)
@pytest.mark.parametrize("m", [1, 2, 3, 4, 5, 7, 16, 17, 34, 64])
@pytest.mark.parametrize("n", [1, 3, 8, 17, 63, 65, 256])
@pytest.mark.parametrize("k", [1, 5, 16, 17, 100, 784])
def test_dot_and_axpy_forms_match_float64(isa_forced, m, n, k):
    rng = np.random.default_rng(m * 1000 + n * 10 + k)
    a = rng.standard_normal((m, k), dtype=np.float32)
    w = rng.standard_normal((n, k), dtype=np.float32)  # dot form: a @ w.T
    b = rng.standard_normal((k, n), dtype=np.float32)  # axpy form: a @ b
    bias = rng.standard_normal(n, dtype=np.float32)
    start = rng.standard_normal((m, n), dtype=np.float32)
    tol = 1e-5 * 10 * max(k, 1) ** 0.5
    for rhs in (w.T, b):
        for relu, accumulate, with_bias in ((False, False, False), (True, True, True),
                                            (True, False, True), (False, True, False)):
            out = start.copy()
            bvec = bias if with_bias else None
            backend.gemm(a, rhs, out, bvec, relu, accumulate, backend="cython")
            np.testing.assert_allclose(out, expected(a, rhs, start, bvec, relu, accumulate),
                                       rtol=1e-4, atol=tol)


@pytest.mark.parametrize("isa_forced", ISAS, indirect=True)
def test_the_small_path_runs_for_few_rows_only(isa_forced):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((256, 784), dtype=np.float32)
    for m, runs_small in ((1, True), (SMALL_M_MAX, True), (SMALL_M_MAX + 1, True),
                          (32, True), (SMALL_M_WIDE, True), (SMALL_M_WIDE + 1, False)):
        x = rng.standard_normal((m, 784), dtype=np.float32)
        before = small_calls()
        backend.gemm(x, w.T, backend="cython")          # Linear forward: dot form
        backend.gemm(x[:, :256], w, backend="cython")   # input gradient g @ W: axpy form
        assert (small_calls() - before == 2) == runs_small, m


@pytest.mark.parametrize("isa_forced", ISAS, indirect=True)
def test_wide_small_path_only_while_the_reread_operand_fits_in_l2(isa_forced):
    """Beyond 16 rows the dot form reads all of A again per 4 rows of W and the axpy form all
    of B per 4 rows of A: past REREAD_FLOATS that streams from memory, and the blocked path
    runs instead (an im2col convolution's product, 32 x 288 @ 288 x 100352, would otherwise
    stream 115 MB eight times). Up to 16 rows the small path runs whatever the size."""
    rng = np.random.default_rng(3)
    k_big = REREAD_FLOATS // 32 + 1
    for m, k, runs_small in ((32, REREAD_FLOATS // 32, True), (32, k_big, False),
                             (16, k_big, True)):
        x = rng.standard_normal((m, k), dtype=np.float32)
        w = rng.standard_normal((8, k), dtype=np.float32)
        before = small_calls()
        out = backend.gemm(x, w.T, backend="cython")    # dot form, re-reads x: m * k floats
        assert (small_calls() - before == 1) == runs_small, (m, k)
        np.testing.assert_allclose(out, x.astype(np.float64) @ w.T, rtol=1e-4, atol=1e-2)
    n_big = REREAD_FLOATS // 64 + 16
    for m, n, runs_small in ((32, REREAD_FLOATS // 64, True), (32, n_big, False),
                             (16, n_big, True)):
        g = rng.standard_normal((m, 64), dtype=np.float32)
        b = rng.standard_normal((64, n), dtype=np.float32)
        before = small_calls()
        out = backend.gemm(g, b, backend="cython")      # axpy form, re-reads b: 64 * n floats
        assert (small_calls() - before == 1) == runs_small, (m, n)
        np.testing.assert_allclose(out, g.astype(np.float64) @ b, rtol=1e-4, atol=1e-3)


def test_axpy_tail_writes_only_its_columns():
    # N not a multiple of the vector: the last block is moved back to end at N and must store
    # only the new lanes, from B's own columns (NaN past the end of each row would show).
    rng = np.random.default_rng(1)
    for n in (16, 17, 31, 33, 70):
        a = rng.standard_normal((3, 20), dtype=np.float32)
        b = np.zeros((20, n + 5), dtype=np.float32)
        b[:, :n] = rng.standard_normal((20, n), dtype=np.float32)
        b[:, n:] = np.nan  # past the end of each row: must never be read into a stored lane
        out = np.ones((3, n), dtype=np.float32)
        backend.gemm(a, b[:, :n], out, accumulate=True, backend="cython")
        np.testing.assert_allclose(out, 1.0 + a.astype(np.float64) @ b[:, :n], rtol=1e-5,
                                   atol=1e-5)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_small_path_same_bits_for_any_thread_count(threads):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 1500), dtype=np.float32)
    w = rng.standard_normal((999, 1500), dtype=np.float32)  # enough work to split the columns
    g = rng.standard_normal((5, 999), dtype=np.float32)
    with fastnn.num_threads(1):
        single = (backend.gemm(x, w.T, backend="cython"), backend.gemm(g, w, backend="cython"))
    with fastnn.num_threads(threads):
        for _ in range(3):
            np.testing.assert_array_equal(backend.gemm(x, w.T, backend="cython"), single[0])
            np.testing.assert_array_equal(backend.gemm(g, w, backend="cython"), single[1])


def test_strided_operands_take_the_right_form():
    rng = np.random.default_rng(2)
    big = rng.standard_normal((40, 900), dtype=np.float32)
    a = big[:3, ::3]                      # rows not contiguous: no dot form, axpy or blocked
    w = rng.standard_normal((50, 300), dtype=np.float32)
    b_rows = np.tile(big, (8, 1))[:300, 100:150]  # contiguous rows, a row stride: axpy form
    for rhs in (w.T, b_rows, w.T[:, ::2], np.asfortranarray(b_rows)):
        out = backend.gemm(a, rhs, backend="cython")
        np.testing.assert_allclose(out, a.astype(np.float64) @ rhs, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("row_stride", [512, 1024, 1040, 2048])
@pytest.mark.parametrize("threads", [1, 2])
def test_packed_path_with_row_strides_that_alias_in_l1(row_stride, threads):
    """Rows of A a multiple of 2 KiB apart are packed rather than read in place (gemm.c,
    rows_alias_in_l1); both ways against float64."""
    rng = np.random.default_rng(row_stride)
    a = rng.standard_normal((100, row_stride)).astype(np.float32)[:, :300]
    b = rng.standard_normal((300, 200)).astype(np.float32)
    previous = fastnn.get_num_threads()
    fastnn.set_num_threads(threads)
    try:
        got = backend.gemm(a, b)
    finally:
        fastnn.set_num_threads(previous)
    np.testing.assert_allclose(got, a.astype(np.float64) @ b, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("isa_forced", ISAS, indirect=True)
@pytest.mark.parametrize("m", [1, 2, 17, 65, 300])
@pytest.mark.parametrize("k", [1, 15, 16, 100, 784])
def test_matrix_times_vector_reads_the_matrix_in_place(isa_forced, m, k):
    """N == 1 (torch.mv, torch.dot, d2l's A[:, j] = mv(B, C[:, j])) runs as the transposed
    one-row product c^T = b^T A^T on the few-row kernels (gemm.c, matrix_vector): the dot form
    over A's rows, with a strided b copied first, or the axpy form over A's columns. A bias,
    takes the general path (the outputs are C-contiguous, so c has unit stride). All against float64."""
    rng = np.random.default_rng(m * 100 + k)
    a = rng.standard_normal((m, k), dtype=np.float32)
    cols = rng.standard_normal((k, 3), dtype=np.float32)
    start = rng.standard_normal((m, 1), dtype=np.float32)
    for lhs in (a, np.asfortranarray(a), np.repeat(a, 2, axis=1)[:, ::2]):
        for rhs in (cols[:, 1:2], np.ascontiguousarray(cols[:, 1:2])):
            for relu, accumulate in ((False, False), (True, True), (True, False)):
                out = start.copy()
                before = small_calls()
                backend.gemm(lhs, rhs, out, None, relu, accumulate, backend="cython")
                np.testing.assert_allclose(out, expected(lhs, rhs, start, None, relu, accumulate),
                                           rtol=1e-4, atol=1e-5 * 10 * k ** 0.5)
                in_place = k >= 16 and (lhs.strides[1] == 4 or (lhs.strides[0] == 4 and m >= 16))
                if in_place:
                    assert small_calls() - before == 1, (lhs.strides, rhs.strides)
    bias = rng.standard_normal(1, dtype=np.float32)  # one bias for every row: general path
    out = backend.gemm(a, cols[:, :1], None, bias, True, backend="cython")
    np.testing.assert_allclose(out, expected(a, cols[:, :1], None, bias, True, False),
                               rtol=1e-4, atol=1e-5 * 10 * k ** 0.5)


def test_mv_and_dot_on_matrix_columns():
    b = fastnn.randn(256, 256)
    c = fastnn.randn(256, 256)
    before = small_calls()
    column = fastnn.mv(b, c[:, 7])
    single = fastnn.dot(b[3, :], c[:, 7])
    assert small_calls() - before == 2
    exact = b.numpy().astype(np.float64) @ c.numpy()[:, 7].astype(np.float64)
    np.testing.assert_allclose(column.numpy(), exact, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(single.item(), exact[3], rtol=1e-4, atol=1e-4)
