"""The bfloat16 GEMM (kernels/gemm_bf16.c): operands rounded to bfloat16 (nearest even) as they
are packed, products accumulated in float32 by VDPBF16PS. The oracle is float64 arithmetic on
ml_dtypes' bfloat16 rounding of the operands; every layout the packing routines take, odd sizes,
the epilogue flags, thread counts and the call counter that proves the kernel ran."""
import re

import ml_dtypes
import numpy as np
import pytest

import fastnn
from fastnn import _kernels
from conftest import requires_torch

needs_bf16 = pytest.mark.skipif(not _kernels.bf16_supported(),
                                reason="no AVX512_BF16 on this CPU (the fallback is tested in "
                                       "test_autocast.py)")


def rounded(x):
    return x.astype(ml_dtypes.bfloat16).astype(np.float64)


def expected(a, b, start, bias, relu, accumulate):
    out = rounded(a) @ rounded(b)
    if accumulate:
        out += start
    if bias is not None:
        out += bias
    return np.maximum(out, 0) if relu else out


def layouts(rng, m, k, n):
    """(a, b) pairs: row-major, transposed views (Linear's W^T), and strided slices."""
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    yield a, b
    yield np.ascontiguousarray(a.T).T, np.ascontiguousarray(b.T).T
    wide_a = rng.standard_normal((m, 2 * k), dtype=np.float32)
    wide_b = rng.standard_normal((2 * k, 3 * n), dtype=np.float32)
    yield wide_a[:, ::2], wide_b[::2, ::3]


@needs_bf16
@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (1, 256, 784), (12, 32, 2), (13, 33, 3),
                                   (37, 65, 129), (256, 10, 256), (100, 300, 1000),
                                   (250, 2049, 17)])
def test_matches_float64_on_rounded_operands(m, n, k):
    rng = np.random.default_rng(m * 7 + n * 3 + k)
    start = rng.standard_normal((m, n), dtype=np.float32)
    bias = rng.standard_normal(n, dtype=np.float32)
    for a, b in layouts(rng, m, k, n):
        for relu, accumulate, with_bias in ((False, False, False), (True, True, True),
                                            (True, False, True)):
            out = start.copy()
            bvec = bias if with_bias else None
            assert _kernels.gemm_bf16(a, b, out, bvec, relu, accumulate)
            want = expected(a, b, start, bvec, relu, accumulate)
            # float32 accumulation of exact bf16 x bf16 products: k roundings of float32
            np.testing.assert_allclose(out, want, rtol=1e-5, atol=2e-6 * k ** 0.5 * 4)


@needs_bf16
def test_counts_its_calls_and_gives_the_same_bits_at_any_thread_count():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((300, 513), dtype=np.float32)
    b = rng.standard_normal((513, 200), dtype=np.float32)
    before = _kernels.call_counts()["gemm_bf16"]
    outs = []
    previous = fastnn.get_num_threads()
    try:
        for threads in (1, 2):
            fastnn.set_num_threads(threads)
            out = np.empty((300, 200), np.float32)
            _kernels.gemm_bf16(a, b, out)
            outs.append(out)
    finally:
        fastnn.set_num_threads(previous)
    assert _kernels.call_counts()["gemm_bf16"] == before + 2
    np.testing.assert_array_equal(outs[0], outs[1])


def test_zero_sizes_and_bad_shapes():
    a = np.zeros((0, 5), np.float32)
    b = np.zeros((5, 3), np.float32)
    assert _kernels.gemm_bf16(a, b, np.empty((0, 3), np.float32)) is False
    with pytest.raises(ValueError, match="do not fit"):
        _kernels.gemm_bf16(np.zeros((2, 5), np.float32), b, np.empty((2, 4), np.float32))
    with pytest.raises(ValueError, match="bias"):
        _kernels.gemm_bf16(np.zeros((2, 5), np.float32), b, np.empty((2, 3), np.float32),
                           np.zeros(4, np.float32))
    raw = np.zeros(2 * 5 * 4 + 2, np.uint8)[2:].view(np.float32).reshape(2, 5)
    odd = np.lib.stride_tricks.as_strided(raw, (2, 5), (22, 4))
    with pytest.raises(ValueError, match="whole"):
        _kernels.gemm_bf16(odd, b, np.empty((2, 3), np.float32))


def test_round_is_nearest_even_with_specials():
    values = np.array([1.0, 1.00390625, 1.01171875, -2.5e-3, 3.4e38, np.inf, -np.inf, 0.0,
                       -0.0, 1e-30, 65504.0, 1 + 2 ** -8, 1 + 3 * 2 ** -8], np.float32)
    out = np.empty_like(values)
    _kernels.bf16_round(values, out)
    np.testing.assert_array_equal(out, values.astype(ml_dtypes.bfloat16).astype(np.float32))
    nan = np.array([np.nan], np.float32)
    _kernels.bf16_round(nan, nan)
    assert np.isnan(nan[0])
    denormal = np.array([1e-40, -1e-40], np.float32)
    _kernels.bf16_round(denormal, denormal)  # flushed to signed zero, as VCVTNEPS2BF16
    assert denormal[0] == 0 and np.signbit(denormal[1])


@pytest.mark.parametrize("n", [0, 1, 15, 16, 17, 1000])
def test_storage_conversions_match_ml_dtypes_bit_for_bit(n):
    rng = np.random.default_rng(n)
    x = (rng.standard_normal(n) * 10.0 ** rng.integers(-44, 38, n)).astype(np.float32)
    specials = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -1e-40, 3.39e38,
                         1.00390625, 1.01171875], np.float32)
    x[:min(n, len(specials))] = specials[:n]
    payload = np.array([0x7f800001, 0xff812345, 0x7fbfffff], np.uint32).view(np.float32)
    x[len(specials):len(specials) + 3] = payload[:max(0, min(3, n - len(specials)))]
    bits = np.empty(n, np.uint16)
    _kernels.f32_to_bf16(x, bits)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(bits, x.astype(ml_dtypes.bfloat16).view(np.uint16))
    back = np.empty(n, np.float32)
    _kernels.bf16_to_f32(bits, back)
    np.testing.assert_array_equal(back.view(np.uint32), bits.astype(np.uint32) << 16)


def test_tensor_casts_use_the_same_rounding_for_any_layout():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((7, 9), dtype=np.float32)
    for view in (x, x.T, x[::2, 1::3]):
        t = fastnn.from_numpy(view)
        b = t.bfloat16()
        np.testing.assert_array_equal(b.numpy().view(np.uint16),
                                      view.astype(ml_dtypes.bfloat16).view(np.uint16))
        np.testing.assert_array_equal(b.float().numpy(),
                                      view.astype(ml_dtypes.bfloat16).astype(np.float32))


@needs_bf16
@pytest.mark.parametrize("m", [1, 5, 16])
def test_few_rows_read_the_weights_in_place_on_any_thread_count(m):
    """At most 16 rows (autocast inference) the weights are rounded as they are read, not
    packed (gemm_small.c's bfloat16 variant): the same values as the oracle, the same bits on
    1 and 2 threads, for W^T (dot form) and row-major B (axpy form)."""
    rng = np.random.default_rng(m)
    a = rng.standard_normal((m, 784), dtype=np.float32)
    w = rng.standard_normal((300, 784), dtype=np.float32)
    bias = rng.standard_normal(300, dtype=np.float32)
    for b in (w.T, np.ascontiguousarray(w.T)):
        outs = []
        previous = fastnn.get_num_threads()
        small_before = _kernels.call_counts()["gemm_small"]
        try:
            for threads in (1, 2):
                fastnn.set_num_threads(threads)
                out = np.empty((m, 300), np.float32)
                _kernels.gemm_bf16(a, b, out, bias, True, False)
                outs.append(out)
        finally:
            fastnn.set_num_threads(previous)
        assert _kernels.call_counts()["gemm_small"] == small_before + 2
        np.testing.assert_array_equal(outs[0], outs[1])
        np.testing.assert_allclose(outs[0], expected(a, b, None, bias, True, False),
                                   rtol=1e-5, atol=1e-4)


@needs_bf16
def test_seventeen_rows_and_more_take_the_packed_bfloat16_path():
    """The float32 few-row kernels go on to 64 rows (gemm_small.h); the bfloat16 variant stops
    at 16: it multiplies in float32 FMAs, while VDPBF16PS on packed panels does twice the
    arithmetic per instruction (autocast's batch-32 forward)."""
    rng = np.random.default_rng(17)
    a = rng.standard_normal((17, 784), dtype=np.float32)
    w = rng.standard_normal((256, 784), dtype=np.float32)
    small_before = _kernels.call_counts()["gemm_small"]
    bf16_before = _kernels.call_counts()["gemm_bf16"]
    out = np.empty((17, 256), np.float32)
    assert _kernels.gemm_bf16(a, w.T, out, None, False, False)
    assert _kernels.call_counts()["gemm_small"] == small_before
    assert _kernels.call_counts()["gemm_bf16"] == bf16_before + 1
    np.testing.assert_allclose(out, expected(a, w.T, None, None, False, False), rtol=1e-5,
                               atol=2e-6 * 784 ** 0.5 * 4)


@needs_bf16
@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (5, 7, 3), (13, 33, 35), (37, 65, 129),
                                   (100, 300, 1000), (30, 40, 4099),
                                   # K even: row-major A read in place, with edge panels
                                   # of 1, 4, 8 and 11 rows packed, at any width
                                   (12, 32, 2), (13, 40, 64), (20, 17, 30), (23, 256, 784),
                                   (256, 256, 784), (30, 600, 64),
                                   # rows 4 KiB apart (K = 2048): packed, as they would
                                   # share an L1 set
                                   (13, 40, 2048)])
def test_bfloat16_storage_operands_match_the_rounding_path(m, n, k):
    """gemm_bf16_storage (operands already in bfloat16 storage, as torch's bfloat16 tensors) on
    every packing layout: the float64 oracle on the same values; a float32 out, and a bfloat16
    out that is the float32 result rounded to nearest even (one K block: rounded tile by tile;
    K = 4099 spans several blocks); the epilogue flags."""
    rng = np.random.default_rng(m + 2 * n + 3 * k)
    bias = rng.standard_normal(n, dtype=np.float32)
    start = rng.standard_normal((m, n), dtype=np.float32)
    for a, b in layouts(rng, m, k, n):
        a16, b16 = a.astype(ml_dtypes.bfloat16), b.astype(ml_dtypes.bfloat16)
        for relu, with_bias, accumulate in ((False, False, False), (True, True, False),
                                            (False, True, True)):
            bvec = bias if with_bias else None
            out = start.copy()
            assert _kernels.gemm_bf16_storage(a16.view(np.uint16), b16.view(np.uint16), out,
                                              bvec, relu, accumulate)
            want = expected(a, b, start, bvec, relu, accumulate)
            np.testing.assert_allclose(out, want, rtol=1e-5, atol=2e-6 * k ** 0.5 * 4)
            if accumulate:
                with pytest.raises(ValueError, match="uint16 without accumulate"):
                    _kernels.gemm_bf16_storage(a16.view(np.uint16), b16.view(np.uint16),
                                               np.empty((m, n), np.uint16), bvec, relu, True)
                continue
            out16 = np.empty((m, n), ml_dtypes.bfloat16)
            assert _kernels.gemm_bf16_storage(a16.view(np.uint16), b16.view(np.uint16),
                                              out16.view(np.uint16), bvec, relu)
            np.testing.assert_array_equal(out16.view(np.uint16),
                                          out.astype(ml_dtypes.bfloat16).view(np.uint16))


@needs_bf16
def test_bfloat16_tensor_matmul_packs_the_stored_values():
    """fastnn.matmul of two bfloat16 tensors runs gemm_bf16_storage and returns torch's
    bfloat16 result (float32 sums rounded once); the backward gives bfloat16 gradients."""
    rng = np.random.default_rng(5)
    a = fastnn.tensor(rng.standard_normal((40, 70), dtype=np.float32)).bfloat16()
    b = fastnn.tensor(rng.standard_normal((70, 30), dtype=np.float32)).bfloat16()
    a.requires_grad_(True)
    before = _kernels.call_counts()["gemm_bf16"]
    y = fastnn.matmul(a, b)
    assert _kernels.call_counts()["gemm_bf16"] == before + 1
    assert y.dtype == fastnn.bfloat16 and y.shape == (40, 30)
    want = (a.detach().float().numpy().astype(np.float64) @ b.float().numpy()).astype(np.float32)
    np.testing.assert_allclose(y.detach().float().numpy(), want, rtol=8e-3, atol=1e-2)
    y.float().sum().backward()
    assert a.grad.dtype == fastnn.bfloat16 and a.grad.shape == (40, 70)
    np.testing.assert_allclose(a.grad.float().numpy(),
                               np.broadcast_to(b.float().numpy().sum(1), (40, 70)),
                               rtol=8e-3, atol=1e-2)


@pytest.mark.parametrize("isa", [i for i in ("generic", "avx2", "avx512") if _kernels.isa_supported(i)])
def test_bfloat16_storage_gemm_on_every_instruction_set(isa):
    """backend.gemm_bf16_storage where the kernel runs (AVX512_BF16) and where it falls back to
    the float32 GEMM on the widened values: the same products, a bfloat16 or float32 out, and
    the checks' errors for a float32 operand or a mismatched out."""
    from fastnn import backend
    rng = np.random.default_rng(6)
    a = rng.standard_normal((33, 50), dtype=np.float32).astype(ml_dtypes.bfloat16)
    b = rng.standard_normal((50, 20), dtype=np.float32).astype(ml_dtypes.bfloat16)
    want = a.astype(np.float64) @ b.astype(np.float64)
    previous = _kernels.isa_active()
    try:
        _kernels.isa_force(isa)
        out = backend.gemm_bf16_storage(a, b)
        assert out.shape == (33, 20)
        np.testing.assert_allclose(out.astype(np.float32), want, rtol=8e-3, atol=2e-2)
        out32 = backend.gemm_bf16_storage(a, b, np.empty((33, 20), np.float32))
        np.testing.assert_allclose(out32, want, rtol=1e-5, atol=1e-4)
        with pytest.raises(TypeError, match="bfloat16"):
            backend.gemm_bf16_storage(a.astype(np.float32), b)
        with pytest.raises(ValueError):
            backend.gemm_bf16_storage(a, b, np.empty((33, 21), np.float32))
    finally:
        _kernels.isa_force(previous)


@requires_torch
def test_bfloat16_tensor_matmul_matches_torch():
    """x @ w on bfloat16 tensors against torch.matmul on the same bfloat16 tensors: the
    result's dtype, its values (float32 sums rounded once to bfloat16: at most one bfloat16
    step apart where the summation orders differ) and the gradients of both operands."""
    import torch
    rng = np.random.default_rng(7)
    a = rng.standard_normal((37, 70), dtype=np.float32)
    b = rng.standard_normal((70, 45), dtype=np.float32)
    g = rng.standard_normal((37, 45), dtype=np.float32)
    fa, fb = (fastnn.tensor(v).bfloat16().requires_grad_(True) for v in (a, b))
    ta, tb = (torch.tensor(v).bfloat16().requires_grad_(True) for v in (a, b))
    fy, ty = fastnn.matmul(fa, fb), torch.matmul(ta, tb)
    assert fy.dtype == fastnn.bfloat16 and ty.dtype == torch.bfloat16
    want = ty.detach().float().numpy()
    np.testing.assert_allclose(fy.detach().float().numpy(), want, rtol=2 ** -7, atol=1e-2)
    fy.backward(fastnn.tensor(g).bfloat16())
    ty.backward(torch.tensor(g).bfloat16())
    for ours, theirs in ((fa, ta), (fb, tb)):
        assert ours.grad.dtype == fastnn.bfloat16
        np.testing.assert_allclose(ours.grad.float().numpy(), theirs.grad.float().numpy(),
                                   rtol=2 ** -7, atol=1e-2)


@needs_bf16
@pytest.mark.parametrize("offset", [0, 1])
def test_bfloat16_out_rounds_specials_and_any_operand_alignment(offset):
    """The bfloat16 result is rounded in registers tile by tile: inf, NaN (inf * 0 and
    inf - inf), ties and values near the largest finite bfloat16 round as ml_dtypes rounds the
    float32 result, on edge tiles (33 columns) too. The operands start 2 bytes past a 4-byte
    boundary (offset 1) or on one: pair words read in place need the boundary."""
    rng = np.random.default_rng(11)
    m, k, n = 29, 64, 33
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    a[0, 0], b[0, :2] = np.inf, (1.0, 0.0)       # C[0,0] inf, C[0,1] NaN (inf * 0)
    a[1, :2], b[:2, 2] = (np.inf, np.inf), (1.0, -1.0)  # C[1,2] inf - inf
    a[2, :] = 0.0
    # C[2,3] = 2^127 (1.9921875 + 0.75 / 128): a float32 past the halfway point between the
    # largest finite bfloat16 (2^127 * 1.9921875) and 2^128, so its bfloat16 is inf
    a[2, :2], b[:2, 3] = (2.0 ** 127, 2.0 ** 120), (1.9921875, 0.75)
    a16 = np.empty((m, k + 1), ml_dtypes.bfloat16)[:, offset:offset + k]
    b16 = np.empty((k, n + 1), ml_dtypes.bfloat16)[:, offset:offset + n]
    a16[...], b16[...] = a, b
    out = np.empty((m, n), np.float32)
    out16 = np.empty((m, n), ml_dtypes.bfloat16)
    with np.errstate(invalid="ignore"):
        want = rounded(a) @ rounded(b)
    assert _kernels.gemm_bf16_storage(a16.view(np.uint16), b16.view(np.uint16), out)
    assert _kernels.gemm_bf16_storage(a16.view(np.uint16), b16.view(np.uint16),
                                      out16.view(np.uint16))
    np.testing.assert_array_equal(out16.view(np.uint16),
                                  out.astype(ml_dtypes.bfloat16).view(np.uint16))
    assert np.isposinf(out[0, 0]) and np.isnan(out[0, 1]) and np.isnan(out[1, 2])
    assert np.isposinf(out16.astype(np.float32)[2, 3])
    np.testing.assert_allclose(out[3:], want[3:], rtol=1e-5, atol=1e-3)  # ordinary rows


@pytest.mark.parametrize("bias", [np.ones(5, np.float32), np.ones(4, np.float64),
                                  np.ones(8, np.float32)[::2], np.ones((1, 4), np.float32)])
def test_autocast_gemm_refuses_a_bad_bias_as_gemm_does(bias):
    """backend.gemm_bf16 with a new out skips the full checks only for a float32 vector bias of
    the right length: any other bias gets gemm's own error (type and words)."""
    from fastnn import backend
    a, b = np.ones((2, 3), np.float32), np.ones((3, 4), np.float32)
    with pytest.raises((TypeError, ValueError, RuntimeError)) as want:
        backend.gemm(a, b, None, bias)
    with pytest.raises(type(want.value), match=re.escape(str(want.value))):
        backend.gemm_bf16(a, b, None, bias)


@needs_bf16
@pytest.mark.parametrize("m", [1, 12, 13, 20, 25])
def test_in_place_a_reads_nothing_past_its_last_row(m):
    """Row-major bfloat16 A (K even) is read in place, its edge panel packed: A ends
    right before a page the process cannot read, so one read past its last row would crash."""
    import ctypes
    import mmap
    k, n = 64, 40
    page = mmap.PAGESIZE
    size = 2 * page + m * k * 2
    pages = (size + page - 1) // page * page
    buffer = mmap.mmap(-1, pages)
    base = ctypes.addressof(ctypes.c_char.from_buffer(buffer))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    assert libc.mprotect(base + pages - page, page, 0) == 0  # PROT_NONE: the guard page
    try:
        end = pages - page
        a16 = np.frombuffer(buffer, np.uint16, count=m * k, offset=end - m * k * 2).reshape(m, k)
        rng = np.random.default_rng(m)
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        a16[...] = a.astype(ml_dtypes.bfloat16).view(np.uint16)
        b16 = b.astype(ml_dtypes.bfloat16)
        out = np.empty((m, n), np.float32)
        assert _kernels.gemm_bf16_storage(a16, b16.view(np.uint16), out)
        want = a16.view(ml_dtypes.bfloat16).astype(np.float64) @ b16.astype(np.float64)
        np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-4)
    finally:
        libc.mprotect(base + pages - page, page, 3)  # readable again before the unmap
        del a16
        buffer.close()


@needs_bf16
@pytest.mark.parametrize("m,n,k", [(37, 600, 130), (13, 1100, 67), (250, 700, 2048),
                                   (40, 640, 4099)])
def test_a_packed_once_for_the_team_gives_the_same_bits(m, n, k):
    """At 2 threads a wide product splits only N; with one K block (K <= 2048) the team packs
    A once into shared micro-panels (gemm_bf16_run) unless A is read in place (bfloat16
    storage, K even). Every layout of A, odd K and an edge panel (m % 12): the bits of the
    1-thread product; K = 4099 (several blocks) keeps per-thread packing."""
    rng = np.random.default_rng(m + n + k)
    previous = fastnn.get_num_threads()
    try:
        for a, b in layouts(rng, m, k, n):
            a16, b16 = a.astype(ml_dtypes.bfloat16), b.astype(ml_dtypes.bfloat16)
            results = []
            for threads in (1, 2):
                fastnn.set_num_threads(threads)
                out, out_s = np.empty((m, n), np.float32), np.empty((m, n), np.float32)
                assert _kernels.gemm_bf16(a, b, out)
                assert _kernels.gemm_bf16_storage(a16.view(np.uint16), b16.view(np.uint16), out_s)
                results.append((out, out_s))
            np.testing.assert_array_equal(results[0][0], results[1][0])
            np.testing.assert_array_equal(results[0][1], results[1][1])
            np.testing.assert_allclose(results[1][0], expected(a, b, None, None, False, False),
                                       rtol=1e-5, atol=2e-6 * k ** 0.5 * 4)
    finally:
        fastnn.set_num_threads(previous)
