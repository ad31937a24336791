"""The Numba backend: the same kernels as kernels/*.c, written with @njit.

Explicit float32 signatures (so accumulators are not promoted and the compiled code is what we
test), `cache=True` so only the first process pays for compilation, and fastmath limited to
{'contract'} (FMA contraction) because the softmax relies on inf/NaN semantics that full
fastmath would let LLVM break (the GEMM's dot products also allow reassociation, see _GEMM).
`prange` loops write disjoint output rows.
"""
import numba
import numpy as np
from numba import boolean, float32, float64, int64, njit, prange, void

NAME = "numba"
FASTMATH = {"contract"}
_COMMON = dict(cache=True, fastmath=FASTMATH, nogil=True)

_M = float32[:, ::1]
# The GEMM alone may reassociate: its sums are reordered into vector lanes either way, and
# without reassoc LLVM will not vectorise a reduction.
_GEMM = dict(cache=True, fastmath={"contract", "reassoc"}, nogil=True)
# Columns of out per pass over a thread's rows: 63 rows of B^T at K 784 are 200 KiB, so the
# block of B^T stays in L2 while every 5-row block of A streams past it.
_COL_BLOCK = 63


@njit(void(_M, _M, _M, int64, int64), **_GEMM)
def _dot_5x3(a, bt, out, i0, j0):
    """out[i0:i0+5, j0:j0+3] = a[i0:i0+5] @ bt[j0:j0+3].T as 15 dot products in one k loop.

    Numba cannot hold a register tile across a k loop the way the C micro-kernel does when k is
    the outer loop (LLVM keeps such accumulators in memory). With k as the inner loop of dot
    products over contiguous rows, it can: LLVM vectorises the 15 reductions into 15 vector
    accumulators, and each vector loaded from A feeds 3 FMAs, each from B^T 5. On one Zen 5
    core at 256x784x256 this ran at ~205 GFLOP/s, 4x4 at 160-195, 4x5 and 5x4 at 180-205, and
    the best k-outer (row-streaming) form at ~110."""
    a0, a1, a2, a3, a4 = a[i0], a[i0 + 1], a[i0 + 2], a[i0 + 3], a[i0 + 4]
    b0, b1, b2 = bt[j0], bt[j0 + 1], bt[j0 + 2]
    s00 = s01 = s02 = np.float32(0.0)
    s10 = s11 = s12 = np.float32(0.0)
    s20 = s21 = s22 = np.float32(0.0)
    s30 = s31 = s32 = np.float32(0.0)
    s40 = s41 = s42 = np.float32(0.0)
    for k in range(a.shape[1]):
        x0, x1, x2, x3, x4 = a0[k], a1[k], a2[k], a3[k], a4[k]
        y0, y1, y2 = b0[k], b1[k], b2[k]
        s00 += x0 * y0
        s01 += x0 * y1
        s02 += x0 * y2
        s10 += x1 * y0
        s11 += x1 * y1
        s12 += x1 * y2
        s20 += x2 * y0
        s21 += x2 * y1
        s22 += x2 * y2
        s30 += x3 * y0
        s31 += x3 * y1
        s32 += x3 * y2
        s40 += x4 * y0
        s41 += x4 * y1
        s42 += x4 * y2
    o0, o1, o2, o3, o4 = out[i0], out[i0 + 1], out[i0 + 2], out[i0 + 3], out[i0 + 4]
    o0[j0], o0[j0 + 1], o0[j0 + 2] = s00, s01, s02
    o1[j0], o1[j0 + 1], o1[j0 + 2] = s10, s11, s12
    o2[j0], o2[j0 + 1], o2[j0 + 2] = s20, s21, s22
    o3[j0], o3[j0 + 1], o3[j0 + 2] = s30, s31, s32
    o4[j0], o4[j0 + 1], o4[j0 + 2] = s40, s41, s42


_DOT_ROWS, _DOT_COLS = 5, 3  # the block _dot_5x3 computes


@njit(void(_M, _M, _M, int64, int64, int64, int64), **_GEMM)
def _dot_edges(a, bt, out, i0, i1, j0, j1):
    """out[i0:i1, j0:j1] one dot product at a time: the rows and columns past the 4x4 blocks."""
    for i in range(i0, i1):
        a_row, o_row = a[i], out[i]
        for j in range(j0, j1):
            b_row = bt[j]
            total = np.float32(0.0)
            for k in range(a.shape[1]):
                total += a_row[k] * b_row[k]
            o_row[j] = total


@njit(void(_M, _M, _M, _M, float32[::1], boolean, boolean, boolean, int64, int64, int64, int64),
      **_COMMON)
def _gemm_block(a, bt, out, start, bias, has_bias, relu, accumulate, i0, i1, j0, j1):
    """out[i0:i1, j0:j1] = (start if accumulate) + a @ bt.T (+ bias) (ReLU): one thread's share
    of the product (the split points are multiples of the block except at the edges)."""
    full_rows = i0 + (i1 - i0) // _DOT_ROWS * _DOT_ROWS
    full_cols = j0 + (j1 - j0) // _DOT_COLS * _DOT_COLS
    for c0 in range(j0, j1, _COL_BLOCK):
        c1 = min(j1, c0 + _COL_BLOCK)
        c1_full = min(c1, full_cols)
        for r in range(i0, full_rows, _DOT_ROWS):
            for c in range(c0, c1_full, _DOT_COLS):
                _dot_5x3(a, bt, out, r, c)
        _dot_edges(a, bt, out, full_rows, i1, c0, c1_full)
    _dot_edges(a, bt, out, i0, i1, full_cols, j1)
    for i in range(i0, i1):
        row = out[i, j0:j1]
        for j in range(j1 - j0):
            v = row[j]
            if accumulate:
                v += start[i, j0 + j]
            if has_bias:
                v += bias[j0 + j]
            if relu and v <= 0.0:
                v = np.float32(0.0)
            row[j] = v


@njit(void(_M, _M, _M, _M, float32[::1], boolean, boolean, boolean, int64, boolean), parallel=True,
      **_COMMON)
def _gemm_parallel(a, bt, out, start, bias, has_bias, relu, accumulate, parts, split_rows):
    m, n = a.shape[0], bt.shape[0]
    unit = _DOT_ROWS if split_rows else _DOT_COLS  # whole blocks per thread
    blocks = ((m if split_rows else n) + unit - 1) // unit
    for part in prange(parts):
        lo, hi = blocks * part // parts * unit, blocks * (part + 1) // parts * unit
        if split_rows:
            _gemm_block(a, bt, out, start, bias, has_bias, relu, accumulate, min(m, lo),
                        min(m, hi), 0, n)
        else:
            _gemm_block(a, bt, out, start, bias, has_bias, relu, accumulate, 0, m, min(n, lo),
                        min(n, hi))


_ROWS = 4  # rows of out per _rows_times_b call


@njit(void(_M, _M, _M, int64), **_COMMON)
def _rows_times_b(a, b, out, i0):
    """out[i0:i0+4] += a[i0:i0+4] @ b, four rows of A by four rows of B at a time (the k-outer
    form, for products whose B rows are contiguous: see _dot_form for when it is used).

    16 scalars of A stay in (broadcast) registers while the j loop, which LLVM vectorises, reads
    4 rows of B and updates 4 rows of C in memory: each loaded element of C takes 4 FMAs and
    each of B 4. With Numba 0.68 (LLVM 22) on Zen 5, at the MLP's g^T @ x (256x256x784),
    interleaved in one process: 4x4 117 GFLOP/s, 6x4 78-99 (three of its 24 broadcasts spill),
    8x4 92, 5x4 104, 4x6 105. The rows are sliced afresh for each k step: with the row views
    hoisted out of the k loop, the code ran at ~110 (6 rows, Numba 0.60)."""
    kd = a.shape[1]
    n = b.shape[1]
    k = 0
    while k + 4 <= kd:
        b0, b1, b2, b3 = b[k, :n], b[k + 1, :n], b[k + 2, :n], b[k + 3, :n]
        a00, a01, a02, a03 = a[i0, k], a[i0, k + 1], a[i0, k + 2], a[i0, k + 3]
        a10, a11, a12, a13 = a[i0 + 1, k], a[i0 + 1, k + 1], a[i0 + 1, k + 2], a[i0 + 1, k + 3]
        a20, a21, a22, a23 = a[i0 + 2, k], a[i0 + 2, k + 1], a[i0 + 2, k + 2], a[i0 + 2, k + 3]
        a30, a31, a32, a33 = a[i0 + 3, k], a[i0 + 3, k + 1], a[i0 + 3, k + 2], a[i0 + 3, k + 3]
        c0, c1, c2, c3 = out[i0, :n], out[i0 + 1, :n], out[i0 + 2, :n], out[i0 + 3, :n]
        for j in range(n):
            x0, x1, x2, x3 = b0[j], b1[j], b2[j], b3[j]
            c0[j] += a00 * x0 + a01 * x1 + a02 * x2 + a03 * x3
            c1[j] += a10 * x0 + a11 * x1 + a12 * x2 + a13 * x3
            c2[j] += a20 * x0 + a21 * x1 + a22 * x2 + a23 * x3
            c3[j] += a30 * x0 + a31 * x1 + a32 * x2 + a33 * x3
        k += 4
    while k < kd:
        brow = b[k]
        for i in range(_ROWS):
            aik = a[i0 + i, k]
            crow = out[i0 + i]
            for j in range(n):
                crow[j] += aik * brow[j]
        k += 1


@njit(void(_M, _M, _M, float32[::1], boolean, boolean, boolean, int64, int64), **_COMMON)
def _gemm_blocks_nn(a, b, out, bias, has_bias, relu, accumulate, blk0, blk1):
    """Row blocks [blk0, blk1) of out = a @ b (_ROWS rows each) in the k-outer form."""
    m, k_dim = a.shape
    n = b.shape[1]
    for blk in range(blk0, blk1):
        i0 = blk * _ROWS
        i1 = min(i0 + _ROWS, m)
        if not accumulate:
            for i in range(i0, i1):
                out[i, :] = 0
        if i1 - i0 == _ROWS:
            _rows_times_b(a, b, out, i0)
        else:  # the last rows
            for i in range(i0, i1):
                crow = out[i]
                for k in range(k_dim):
                    aik = a[i, k]
                    brow = b[k]
                    for j in range(n):
                        crow[j] += aik * brow[j]
        for i in range(i0, i1):
            crow = out[i]
            for j in range(n):
                v = crow[j]
                if has_bias:
                    v += bias[j]
                if relu and v <= 0.0:
                    v = np.float32(0.0)
                crow[j] = v


@njit(void(_M, _M, _M, float32[::1], boolean, boolean, boolean, int64), parallel=True,
      **_COMMON)
def _gemm_parallel_nn(a, b, out, bias, has_bias, relu, accumulate, parts):
    n_blocks = (a.shape[0] + _ROWS - 1) // _ROWS
    for part in prange(parts):
        _gemm_blocks_nn(a, b, out, bias, has_bias, relu, accumulate, n_blocks * part // parts,
                        n_blocks * (part + 1) // parts)


_SUM_PARTS, _SUM_BLOCK, _SUM_LANES = 64, 4096, 64


@njit(float64(float32[::1], int64, int64), **_COMMON)
def _sum_part(x, lo, hi):
    """kernels/sum_ranges.h's part: 64 float32 lanes over blocks of 4096, the lane sums of each
    block in float64 (here in lane order rather than pairwise: the tests compare with the
    reference's tolerance, not bits)."""
    total = 0.0
    i = lo
    lane = np.zeros(_SUM_LANES, np.float32)
    while i + _SUM_LANES <= hi:
        stop = i + _SUM_BLOCK if i + _SUM_BLOCK <= hi else hi - (hi - i) % _SUM_LANES
        lane[:] = 0.0
        while i < stop:
            block = x[i:i + _SUM_LANES]
            for j in range(_SUM_LANES):
                lane[j] += block[j]
            i += _SUM_LANES
        for j in range(_SUM_LANES):
            total += np.float64(lane[j])
    while i < hi:
        total += np.float64(x[i])
        i += 1
    return total


@njit(float64(float32[::1]), **_COMMON)
def _sum_serial(x):
    n = x.shape[0]
    total = 0.0
    for p in range(_SUM_PARTS):
        total += _sum_part(x, n * p // _SUM_PARTS, n * (p + 1) // _SUM_PARTS)
    return total


@njit(float64(float32[::1], int64), parallel=True, **_COMMON)
def _sum_parallel(x, threads):
    n = x.shape[0]
    parts = np.zeros(_SUM_PARTS, np.float64)
    for t in prange(threads):
        for p in range(_SUM_PARTS * t // threads, _SUM_PARTS * (t + 1) // threads):
            parts[p] = _sum_part(x, n * p // _SUM_PARTS, n * (p + 1) // _SUM_PARTS)
    total = 0.0
    for p in range(_SUM_PARTS):
        total += parts[p]
    return total


def sum_all(x, out):
    flat = _input(x).reshape(-1)
    n = flat.shape[0]
    threads = _parts(n, _PARALLEL_MIN_ELEMENTS, n)
    total = _sum_serial(flat) if threads == 1 else _sum_parallel(flat, threads)
    out[0] = np.float32(total)
    return out


@njit(void(float32[::1], float32[::1]), parallel=True, **_COMMON)
def _relu_forward(x, out):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = np.float32(0.0) if v <= 0.0 else v


@njit(void(float32[::1], float32[::1], float32[::1]), parallel=True, **_COMMON)
def _relu_backward(x, grad_out, out):
    for i in prange(x.shape[0]):
        out[i] = grad_out[i] if x[i] > 0.0 else np.float32(0.0)


@njit(void(_M, _M, _M, float32[::1], boolean, int64, int64), **_COMMON)
def _relu_backward_bias_cols(y, grad_out, out, bias_grad, want_bias, j0, j1):
    """Columns [j0, j1): rows outer so the branch-free j loops vectorise; each column sums in
    row order, as in the C kernel. The loops index slices from 0: with range(j0, j1) Numba
    cannot rule out a negative index (which wraps around), and the select it adds kept LLVM
    from vectorising."""
    width = j1 - j0
    for i in range(y.shape[0]):
        y_row, g_row, o_row = y[i, j0:j1], grad_out[i, j0:j1], out[i, j0:j1]
        for j in range(width):
            o_row[j] = g_row[j] if y_row[j] > 0.0 else np.float32(0.0)
    if want_bias:
        b = bias_grad[j0:j1]
        for j in range(width):
            b[j] = 0.0
        for i in range(y.shape[0]):
            o_row = out[i, j0:j1]
            for j in range(width):
                b[j] += o_row[j]


@njit(void(_M, _M, _M, float32[::1], boolean, int64), parallel=True, **_COMMON)
def _relu_backward_bias_parallel(y, grad_out, out, bias_grad, want_bias, parts):
    cols = y.shape[1]
    col_blocks = (cols + 15) // 16  # one range of whole 16-column blocks per thread
    for part in prange(parts):
        _relu_backward_bias_cols(y, grad_out, out, bias_grad, want_bias,
                                 min(cols, col_blocks * part // parts * 16),
                                 min(cols, col_blocks * (part + 1) // parts * 16))


@njit(int64(float32[:, ::1], int64[::1], float32[::1], float32[:, ::1], boolean, float32),
      parallel=True, locals={"total": float64}, **_COMMON)
def _softmax_cross_entropy(x, labels, losses, grad, want_grad, scale):
    n_rows, n_classes = x.shape
    bad = 0
    for i in prange(n_rows):
        row_max = np.float32(-np.inf)
        has_nan = False
        for k in range(n_classes):
            v = x[i, k]
            if v > row_max:
                row_max = v
            if v != v:
                has_nan = True
        if has_nan:
            row_max = np.float32(np.nan)
        total = 0.0
        for k in range(n_classes):
            e = np.exp(x[i, k] - row_max)
            if want_grad:
                grad[i, k] = e
            total += e
        y = labels[i]
        out_of_range = y < 0 or y >= n_classes
        xy = np.nan if out_of_range else np.float64(x[i, y])
        losses[i] = np.float32(np.log(total) + np.float64(row_max) - xy)
        if want_grad:
            r = np.float32(scale / total)
            for k in range(n_classes):
                grad[i, k] *= r
            if not out_of_range:
                grad[i, y] -= scale
        if out_of_range:
            bad += 1
    return bad


_F = float32[::1]
# Each optimizer update comes as a serial kernel over [lo, hi) (indexing slices from 0, which
# LLVM vectorises) and a prange over ranges of it: Numba's parallel launch took ~19 us a call at
# 2 threads, 18 ms of a 2-thread MLP epoch spent on four small tensors a step.
_SGD = (_F, _F, _F, boolean, float32, float32, float32, float32, boolean, boolean)


@njit(void(*_SGD, int64, int64), **_COMMON)
def _sgd_range(param, grad, buf, has_buf, lr, wd, momentum, dampening, nesterov, first, lo, hi):
    p, g = param[lo:hi], grad[lo:hi]
    b_ = buf[lo:hi] if has_buf else buf
    for i in range(hi - lo):
        d = g[i] + wd * p[i]
        if has_buf:
            b = d if first else momentum * b_[i] + (np.float32(1.0) - dampening) * d
            b_[i] = b
            d = d + momentum * b if nesterov else b
        p[i] -= lr * d


@njit(void(*_SGD, int64), parallel=True, **_COMMON)
def _sgd_parallel(param, grad, buf, has_buf, lr, wd, momentum, dampening, nesterov, first, parts):
    n = param.shape[0]
    for part in prange(parts):
        _sgd_range(param, grad, buf, has_buf, lr, wd, momentum, dampening, nesterov, first,
                   n * part // parts, n * (part + 1) // parts)


_ADAM = (_F, _F, _F, _F, _F, boolean, float32, float32, float32, float32, float32, float32,
         float32)


@njit(void(*_ADAM, int64, int64), **_COMMON)
def _adam_range(p, g, m, v, vmax, amsgrad, step_size, inv_bc2_sqrt, b1, b2, eps, l2, decay, lo,
                hi):
    p, g, m, v = p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi]
    vmax = vmax[lo:hi] if amsgrad else vmax
    for i in range(hi - lo):
        gi = g[i] + l2 * p[i]
        mi = b1 * m[i] + (np.float32(1.0) - b1) * gi
        vi = b2 * v[i] + (np.float32(1.0) - b2) * gi * gi
        m[i] = mi
        v[i] = vi
        second = vi
        if amsgrad:
            second = max(vmax[i], vi)
            vmax[i] = second
        p[i] = p[i] * decay - step_size * mi / (np.sqrt(second) * inv_bc2_sqrt + eps)


@njit(void(*_ADAM, int64), parallel=True, **_COMMON)
def _adam_parallel(p, g, m, v, vmax, amsgrad, step_size, inv_bc2_sqrt, b1, b2, eps, l2, decay,
                   parts):
    n = p.shape[0]
    for part in prange(parts):
        _adam_range(p, g, m, v, vmax, amsgrad, step_size, inv_bc2_sqrt, b1, b2, eps, l2, decay,
                    n * part // parts, n * (part + 1) // parts)


_ADAGRAD = (_F, _F, _F, float32, float32, float32)


@njit(void(*_ADAGRAD, int64, int64), **_COMMON)
def _adagrad_range(p, g, state_sum, clr, wd, eps, lo, hi):
    p, g, state_sum = p[lo:hi], g[lo:hi], state_sum[lo:hi]
    for i in range(hi - lo):
        gi = g[i] + wd * p[i]
        si = state_sum[i] + gi * gi
        state_sum[i] = si
        p[i] -= clr * gi / (np.sqrt(si) + eps)


@njit(void(*_ADAGRAD, int64), parallel=True, **_COMMON)
def _adagrad_parallel(p, g, state_sum, clr, wd, eps, parts):
    n = p.shape[0]
    for part in prange(parts):
        _adagrad_range(p, g, state_sum, clr, wd, eps, n * part // parts, n * (part + 1) // parts)


_RMSPROP = (_F, _F, _F, _F, _F, boolean, boolean, float32, float32, float32, float32, float32)


@njit(void(*_RMSPROP, int64, int64), **_COMMON)
def _rmsprop_range(p, g, sq, ga, buf, centered, has_momentum, lr, alpha, eps, wd, momentum, lo,
                   hi):
    p, g, sq = p[lo:hi], g[lo:hi], sq[lo:hi]
    ga = ga[lo:hi] if centered else ga
    buf = buf[lo:hi] if has_momentum else buf
    one = np.float32(1.0)
    for i in range(hi - lo):
        gi = g[i] + wd * p[i]
        si = alpha * sq[i] + (one - alpha) * gi * gi
        sq[i] = si
        var = si
        if centered:
            ai = alpha * ga[i] + (one - alpha) * gi
            ga[i] = ai
            var = si - ai * ai
        avg = np.sqrt(var) + eps
        if has_momentum:
            bi = momentum * buf[i] + gi / avg
            buf[i] = bi
            p[i] -= lr * bi
        else:
            p[i] -= lr * gi / avg


@njit(void(*_RMSPROP, int64), parallel=True, **_COMMON)
def _rmsprop_parallel(p, g, sq, ga, buf, centered, has_momentum, lr, alpha, eps, wd, momentum,
                      parts):
    n = p.shape[0]
    for part in prange(parts):
        _rmsprop_range(p, g, sq, ga, buf, centered, has_momentum, lr, alpha, eps, wd, momentum,
                       n * part // parts, n * (part + 1) // parts)


_NO_BIAS = np.zeros(0, dtype=np.float32)
_NO_GRAD = np.zeros((0, 0), dtype=np.float32)


def _input(array):
    """A C-contiguous writable view or copy: the njit signatures take mutable C arrays, and
    the kernels read rows, so strided, transposed or read-only operands are copied once."""
    array = np.ascontiguousarray(array)
    return array if array.flags.writeable else array.copy()


# Numba's parallel launch costs tens of microseconds (50 us against 7 us of work for the MLP's
# 256x256 ReLU backward), so products and passes below these sizes run on the calling thread.
_PARALLEL_MIN_FLOPS = 1 << 21
_PARALLEL_MIN_ELEMENTS = 1 << 17


def threads_now():
    """fastnn's thread count (process-wide, as the compiled backend's), applied to Numba's, which
    is per Python thread: a thread that never called fastnn.set_num_threads would otherwise run
    Numba's parallel kernels on all cores while the compiled ones use the set count."""
    from fastnn import threads
    n = min(threads.get_num_threads(), numba.config.NUMBA_NUM_THREADS)
    if numba.get_num_threads() != n:
        numba.set_num_threads(n)
    return n


def _parts(work, minimum, units):
    if work < minimum:
        return 1
    return max(1, min(threads_now(), units))


# The dot-product form needs K long enough to fill its vector lanes and to amortise the
# horizontal sums: at K 10 (the MLP's output-layer input gradient) it was 4x slower than the
# k-outer form.
_DOT_MIN_K = 64


def _dot_form(a, b):
    """Whether to run a @ b as dot products of rows of A and rows of B^T: when B comes
    transposed (x @ W^T, Linear's forward: no copy needed) and K is long enough. Otherwise the
    k-outer form, which beat the dot form on every other layout measured (with the copy either
    form then needs): 142 vs 119 GFLOP/s on g^T @ x, 155 vs 130 on g @ W, one Zen 5 core."""
    return a.shape[1] >= _DOT_MIN_K and b.T.flags.c_contiguous


def gemm(a, b, out, bias=None, relu=False, accumulate=False):
    bias = None if bias is None else _input(bias)
    has_bias = bias is not None
    bias = bias if has_bias else _NO_BIAS
    m, k = a.shape
    n = b.shape[1]
    parts = _parts(2 * m * k * n, _PARALLEL_MIN_FLOPS, (max(m, n) + 3) // 4)
    if _dot_form(a, b):
        a, bt = _input(a), _input(b.T)
        start = out.copy() if accumulate else _NO_GRAD
        if parts == 1:
            _gemm_block(a, bt, out, start, bias, has_bias, relu, accumulate, 0, m, 0, n)
        else:
            # Split the wider side, as the C driver does. For x @ W^T that gives each thread
            # half of W's rows: the halves the next update writes, which then stay in one
            # core's cache (rows of out split: both cores read all of W, and the update's
            # writes invalidated it in the other one).
            _gemm_parallel(a, bt, out, start, bias, has_bias, relu, accumulate, parts, m > n)
    else:
        a, b = _input(a), _input(b)
        blocks = (m + _ROWS - 1) // _ROWS
        parts = min(parts, blocks)
        if parts == 1:
            _gemm_blocks_nn(a, b, out, bias, has_bias, relu, accumulate, 0, blocks)
        else:
            _gemm_parallel_nn(a, b, out, bias, has_bias, relu, accumulate, parts)
    return out


def relu_forward(x, out):
    _relu_forward(_input(x).reshape(-1), out.reshape(-1))
    return out


def relu_backward(x, grad_out, out):
    _relu_backward(_input(x).reshape(-1), _input(grad_out).reshape(-1), out.reshape(-1))
    return out


def relu_backward_bias(y, grad_out, out, bias_grad):
    want_bias = bias_grad is not None
    y, grad_out = _input(y), _input(grad_out)
    bias_grad = bias_grad if want_bias else _NO_BIAS
    parts = _parts(y.size, _PARALLEL_MIN_ELEMENTS, (y.shape[1] + 15) // 16)
    if parts == 1:
        _relu_backward_bias_cols(y, grad_out, out, bias_grad, want_bias, 0, y.shape[1])
    else:
        _relu_backward_bias_parallel(y, grad_out, out, bias_grad, want_bias, parts)
    return out


def softmax_cross_entropy(logits, labels, losses, grad, grad_scale):
    want_grad = grad is not None
    bad = _softmax_cross_entropy(_input(logits), _input(labels), losses, grad if want_grad else _NO_GRAD,
                                 want_grad, np.float32(grad_scale))
    if bad:
        raise IndexError(f"{bad} target labels were out of range inside the kernel")
    return bad


def _elementwise(serial, parallel, n, *args):
    """Run an update kernel on the calling thread, or over threads once n is large."""
    parts = _parts(n, _PARALLEL_MIN_ELEMENTS, n)
    if parts == 1:
        serial(*args, 0, n)
    else:
        parallel(*args, parts)


def sgd_step(param, grad, buf, lr, weight_decay, momentum, dampening, nesterov, first):
    has_buf = buf is not None
    f = np.float32
    _elementwise(_sgd_range, _sgd_parallel, param.size, param.reshape(-1),
                 _input(grad).reshape(-1), buf.reshape(-1) if has_buf else _NO_BIAS, has_buf,
                 f(lr), f(weight_decay), f(momentum), f(dampening), nesterov, first)


def _flat_or_empty(a):
    return _NO_BIAS if a is None else a.reshape(-1)


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step_size, inv_bc2_sqrt, beta1,
              beta2, eps, l2, decay):
    f = np.float32
    _elementwise(_adam_range, _adam_parallel, param.size, param.reshape(-1),
                 _input(grad).reshape(-1), exp_avg.reshape(-1), exp_avg_sq.reshape(-1),
                 _flat_or_empty(max_exp_avg_sq), max_exp_avg_sq is not None, f(step_size),
                 f(inv_bc2_sqrt), f(beta1), f(beta2), f(eps), f(l2), f(decay))


def adagrad_step(param, grad, state_sum, clr, weight_decay, eps):
    f = np.float32
    _elementwise(_adagrad_range, _adagrad_parallel, param.size, param.reshape(-1),
                 _input(grad).reshape(-1), state_sum.reshape(-1), f(clr), f(weight_decay), f(eps))


def rmsprop_step(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                 weight_decay, momentum):
    f = np.float32
    _elementwise(_rmsprop_range, _rmsprop_parallel, param.size, param.reshape(-1),
                 _input(grad).reshape(-1), square_avg.reshape(-1), _flat_or_empty(grad_avg),
                 _flat_or_empty(momentum_buffer), grad_avg is not None,
                 momentum_buffer is not None, f(lr), f(alpha), f(eps), f(weight_decay),
                 f(momentum))


_ADADELTA = (_F, _F, _F, _F, float32, float32, float32, float32)


@njit(void(*_ADADELTA, int64, int64), **_COMMON)
def _adadelta_range(p, g, sq, acc, lr, rho, eps, wd, lo, hi):
    p, g, sq, acc = p[lo:hi], g[lo:hi], sq[lo:hi], acc[lo:hi]
    for i in range(hi - lo):
        gi = g[i] + wd * p[i]
        si = rho * sq[i] + (1 - rho) * gi * gi
        sq[i] = si
        delta = np.sqrt(acc[i] + eps) / np.sqrt(si + eps) * gi
        acc[i] = rho * acc[i] + (1 - rho) * delta * delta
        p[i] -= lr * delta


@njit(void(*_ADADELTA, int64), parallel=True, **_COMMON)
def _adadelta_parallel(p, g, sq, acc, lr, rho, eps, wd, parts):
    n = p.shape[0]
    for part in prange(parts):
        _adadelta_range(p, g, sq, acc, lr, rho, eps, wd, n * part // parts,
                        n * (part + 1) // parts)


def adadelta_step(param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay):
    f = np.float32
    _elementwise(_adadelta_range, _adadelta_parallel, param.size, param.reshape(-1),
                 _input(grad).reshape(-1), square_avg.reshape(-1), acc_delta.reshape(-1), f(lr),
                 f(rho), f(eps), f(weight_decay))


_ADAMAX = (_F, _F, _F, _F, float32, float32, float32, float32, float32)


@njit(void(*_ADAMAX, int64, int64), **_COMMON)
def _adamax_range(p, g, m, u, clr, b1, b2, eps, wd, lo, hi):
    p, g, m, u = p[lo:hi], g[lo:hi], m[lo:hi], u[lo:hi]
    for i in range(hi - lo):
        gi = g[i] + wd * p[i]
        mi = b1 * m[i] + (1 - b1) * gi
        ui = max(b2 * u[i], abs(gi) + eps)
        m[i] = mi
        u[i] = ui
        p[i] -= clr * mi / ui


@njit(void(*_ADAMAX, int64), parallel=True, **_COMMON)
def _adamax_parallel(p, g, m, u, clr, b1, b2, eps, wd, parts):
    n = p.shape[0]
    for part in prange(parts):
        _adamax_range(p, g, m, u, clr, b1, b2, eps, wd, n * part // parts,
                      n * (part + 1) // parts)


def adamax_step(param, grad, exp_avg, exp_inf, clr, beta1, beta2, eps, weight_decay):
    f = np.float32
    _elementwise(_adamax_range, _adamax_parallel, param.size, param.reshape(-1),
                 _input(grad).reshape(-1), exp_avg.reshape(-1), exp_inf.reshape(-1), f(clr),
                 f(beta1), f(beta2), f(eps), f(weight_decay))


@njit(inline="always", **_COMMON)
def _adam_moments(p, g, m, v, i, b1, b2, wd, decay):
    """The step NAdam and RAdam share with Adam: decays, then both moments, updated in place."""
    pi = p[i] * decay
    gi = g[i] + wd * pi
    mi = b1 * m[i] + (1 - b1) * gi
    vi = b2 * v[i] + (1 - b2) * gi * gi
    m[i] = mi
    v[i] = vi
    return pi, gi, mi, vi


_NADAM = (_F, _F, _F, _F, float32, float32, float32, float32, float32, float32, float32, float32)


@njit(void(*_NADAM, int64, int64), **_COMMON)
def _nadam_range(p, g, m, v, grad_coef, avg_coef, b1, b2, inv_bc2, eps, wd, decay, lo, hi):
    p, g, m, v = p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi]
    for i in range(hi - lo):
        pi, gi, mi, vi = _adam_moments(p, g, m, v, i, b1, b2, wd, decay)
        d = np.sqrt(vi * inv_bc2) + eps
        p[i] = pi - grad_coef * gi / d - avg_coef * mi / d


@njit(void(*_NADAM, int64), parallel=True, **_COMMON)
def _nadam_parallel(p, g, m, v, grad_coef, avg_coef, b1, b2, inv_bc2, eps, wd, decay, parts):
    n = p.shape[0]
    for part in prange(parts):
        _nadam_range(p, g, m, v, grad_coef, avg_coef, b1, b2, inv_bc2, eps, wd, decay,
                     n * part // parts, n * (part + 1) // parts)


def nadam_step(param, grad, exp_avg, exp_avg_sq, grad_coef, avg_coef, beta1, beta2, inv_bc2,
               eps, weight_decay, decay):
    f = np.float32
    _elementwise(_nadam_range, _nadam_parallel, param.size, param.reshape(-1),
                 _input(grad).reshape(-1), exp_avg.reshape(-1), exp_avg_sq.reshape(-1),
                 f(grad_coef), f(avg_coef), f(beta1), f(beta2), f(inv_bc2), f(eps),
                 f(weight_decay), f(decay))


_RADAM = (_F, _F, _F, _F, float32, float32, boolean, float32, float32, float32, float32, float32)


@njit(void(*_RADAM, int64, int64), **_COMMON)
def _radam_range(p, g, m, v, step_size, rect_scale, rectified, b1, b2, eps, wd, decay, lo, hi):
    p, g, m, v = p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi]
    for i in range(hi - lo):
        pi, gi, mi, vi = _adam_moments(p, g, m, v, i, b1, b2, wd, decay)
        scale = rect_scale / (np.sqrt(vi) + eps) if rectified else np.float32(1.0)
        p[i] = pi - step_size * mi * scale


@njit(void(*_RADAM, int64), parallel=True, **_COMMON)
def _radam_parallel(p, g, m, v, step_size, rect_scale, rectified, b1, b2, eps, wd, decay, parts):
    n = p.shape[0]
    for part in prange(parts):
        _radam_range(p, g, m, v, step_size, rect_scale, rectified, b1, b2, eps, wd, decay,
                     n * part // parts, n * (part + 1) // parts)


def radam_step(param, grad, exp_avg, exp_avg_sq, step_size, rect_scale, rectified, beta1,
               beta2, eps, weight_decay, decay):
    f = np.float32
    _elementwise(_radam_range, _radam_parallel, param.size, param.reshape(-1),
                 _input(grad).reshape(-1), exp_avg.reshape(-1), exp_avg_sq.reshape(-1),
                 f(step_size), f(rect_scale), bool(rectified), f(beta1), f(beta2), f(eps),
                 f(weight_decay), f(decay))


def set_num_threads(n):
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))


# Convolution, pooling and batch norm live in their own module; it needs _gemm_blocks_nn above.
from fastnn.backend.numba_conv import (  # noqa: E402,F401
    avgpool2d_backward, avgpool2d_forward, batchnorm_backward, batchnorm_forward,
    conv2d_backward, conv2d_forward, maxpool2d_backward, maxpool2d_forward, maxpool2x2_backward,
    maxpool2x2_forward)
