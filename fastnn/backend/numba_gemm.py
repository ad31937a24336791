"""The Numba backend's matrix product: an 8x32 register tile, as kernels/gemm.c's micro-kernel.

out[i0:i0+8, j0:j0+32] is held in sixteen 16-lane accumulators (numba_simd.f32x16) for the whole
k loop; each k step loads two vectors of a row of B, broadcasts eight scalars of A and issues 16
FMAs, so C is loaded and stored once per tile rather than once per k step. Written with plain
Numba loops instead, LLVM vectorises only the innermost loop and keeps C in memory: the best
such form (the k-outer rows-times-B loop this replaced) ran the MLP's weight gradient g^T @ x
(256x256x768) at 110-130 GFLOP/s on one Zen 5 core; this tile runs it in 441 us (228 GFLOP/s)
beside kernels/gemm.c's 463 us, interleaved in one process.

A is read where it lies, through its strides (a transposed operand, such as g^T in a weight
gradient, costs nothing). B's rows must be contiguous: a B with another layout is copied first.
The tiles on the right and bottom edges load and store only their live lanes (masked moves),
and an edge tile of fewer than 8 rows reads its last row again for the rows it does not store.
Sums run in k order with fused multiply-adds; bias, then ReLU (which keeps NaN), are applied as a
tile is stored.

The kernels are compiled without Numba's reference counting (`_nrt=False`: they allocate
nothing). With it, every array passed into an inlined helper was increfed and decrefed with
atomic calls, 110 of them per tile: at K 10 (the MLP's output layer) a 256x256 product took
61 us against 11 without.

Numba's cache checks only this file's source: the cached code embeds numba_simd's intrinsics as
they were when it was compiled, so a change to those must also change this file.
"""
import numpy as np
from numba import boolean, float32, int64, njit, prange, types, void

from fastnn.backend.numba_simd import (add, fma, load, load_first, relu, splat, store_first,
                                       transpose16, zeros)

_ROWS, _COLS = 8, 32  # the register tile; two 16-lane vectors per row
_LANES = 16
_OPTS = dict(cache=True, fastmath={"contract"}, nogil=True)
_KERNEL = dict(_OPTS, _nrt=False)

_A = types.Array(float32, 2, "A", readonly=True)  # any strides
_B = types.Array(float32, 2, "A", readonly=True)  # rows contiguous (checked by gemm below)
_OUT = float32[:, ::1]
_BIAS = types.Array(float32, 2, "C", readonly=True)  # (1, n); (1, 0) when there is none
_RANGE = (_A, _B, _OUT, _BIAS, boolean, boolean, boolean, int64, int64, int64, int64)
_TILE = _RANGE + (int64,)
_PANEL = float32[:, ::1]  # (K, 32): a packed panel of B


@njit(inline="always", **_KERNEL)
def _store_row(out, bias, has_bias, relu_out, i, j0, n0, n1, v0, v1):
    j1 = j0 + _LANES if n1 > 0 else j0
    if has_bias:
        v0, v1 = add(v0, load_first(bias, 0, j0, n0)), add(v1, load_first(bias, 0, j1, n1))
    if relu_out:
        v0, v1 = relu(v0), relu(v1)
    store_first(out, i, j0, v0, n0)
    store_first(out, i, j1, v1, n1)


@njit(void(*_TILE), **_KERNEL)
def _tile(a, b, out, bias, has_bias, relu_out, accumulate, i0, rows, j0, cols, bj):
    """out[i0:i0+rows, j0:j0+cols] (rows <= 8, cols <= 32) = (out if accumulate) +
    a[i0:i0+rows] @ b[:, bj:bj+cols] (+ bias[j0:j0+cols]) (ReLU)."""
    n0 = min(cols, _LANES)  # live lanes of the tile's two vectors
    n1 = cols - _LANES
    j1 = j0 + _LANES if n1 > 0 else j0  # (the second vector's address only when it is live)
    bj1 = bj + _LANES if n1 > 0 else bj
    last = rows - 1  # rows past it read this row and are not stored
    r0, r1, r2, r3 = i0, i0 + min(1, last), i0 + min(2, last), i0 + min(3, last)
    r4, r5, r6, r7 = i0 + min(4, last), i0 + min(5, last), i0 + min(6, last), i0 + min(7, last)
    if accumulate:
        c00, c01 = load_first(out, r0, j0, n0), load_first(out, r0, j1, n1)
        c10, c11 = load_first(out, r1, j0, n0), load_first(out, r1, j1, n1)
        c20, c21 = load_first(out, r2, j0, n0), load_first(out, r2, j1, n1)
        c30, c31 = load_first(out, r3, j0, n0), load_first(out, r3, j1, n1)
        c40, c41 = load_first(out, r4, j0, n0), load_first(out, r4, j1, n1)
        c50, c51 = load_first(out, r5, j0, n0), load_first(out, r5, j1, n1)
        c60, c61 = load_first(out, r6, j0, n0), load_first(out, r6, j1, n1)
        c70, c71 = load_first(out, r7, j0, n0), load_first(out, r7, j1, n1)
    else:
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = zeros()
        c40 = c41 = c50 = c51 = c60 = c61 = c70 = c71 = zeros()
    # Full tiles load B with plain loads: masked loads in every tile made the 256x256x768
    # product 12% slower (an FMA cannot take a masked load as its operand). LLVM unswitches
    # the loop on `full`, so the branch costs nothing per k step (measured: the same times as
    # two separate loops).
    full = n1 == _LANES
    for k in range(a.shape[1]):
        if full:
            b0, b1 = load(b, k, bj), load(b, k, bj1)
        else:
            b0, b1 = load_first(b, k, bj, n0), load_first(b, k, bj1, n1)
        s = splat(a[r0, k])
        c00, c01 = fma(s, b0, c00), fma(s, b1, c01)
        s = splat(a[r1, k])
        c10, c11 = fma(s, b0, c10), fma(s, b1, c11)
        s = splat(a[r2, k])
        c20, c21 = fma(s, b0, c20), fma(s, b1, c21)
        s = splat(a[r3, k])
        c30, c31 = fma(s, b0, c30), fma(s, b1, c31)
        s = splat(a[r4, k])
        c40, c41 = fma(s, b0, c40), fma(s, b1, c41)
        s = splat(a[r5, k])
        c50, c51 = fma(s, b0, c50), fma(s, b1, c51)
        s = splat(a[r6, k])
        c60, c61 = fma(s, b0, c60), fma(s, b1, c61)
        s = splat(a[r7, k])
        c70, c71 = fma(s, b0, c70), fma(s, b1, c71)
    _store_row(out, bias, has_bias, relu_out, r0, j0, n0, n1, c00, c01)
    if rows > 1:
        _store_row(out, bias, has_bias, relu_out, r1, j0, n0, n1, c10, c11)
    if rows > 2:
        _store_row(out, bias, has_bias, relu_out, r2, j0, n0, n1, c20, c21)
    if rows > 3:
        _store_row(out, bias, has_bias, relu_out, r3, j0, n0, n1, c30, c31)
    if rows > 4:
        _store_row(out, bias, has_bias, relu_out, r4, j0, n0, n1, c40, c41)
    if rows > 5:
        _store_row(out, bias, has_bias, relu_out, r5, j0, n0, n1, c50, c51)
    if rows > 6:
        _store_row(out, bias, has_bias, relu_out, r6, j0, n0, n1, c60, c61)
    if rows > 7:
        _store_row(out, bias, has_bias, relu_out, r7, j0, n0, n1, c70, c71)


@njit(void(*_RANGE), **_KERNEL)
def gemm_range(a, b, out, bias, has_bias, relu_out, accumulate, i0, i1, j0, j1):
    """out[i0:i1, j0:j1] = (out if accumulate) + a @ b (+ bias) (ReLU), tile by tile: each
    32-column panel of B (K x 128 bytes) stays in cache while the row blocks of A pass it."""
    for jp in range(j0, j1, _COLS):
        cols = min(_COLS, j1 - jp)
        for ip in range(i0, i1, _ROWS):
            _tile(a, b, out, bias, has_bias, relu_out, accumulate, ip, min(_ROWS, i1 - ip), jp,
                  cols, jp)


@njit(void(_B, _PANEL, int64, int64), **_KERNEL)
def _pack_panel(bt, panel, j0, cols):
    """panel[:, :cols] = bt[j0:j0+cols].T: 16x16 blocks through registers (numba_simd.
    transpose16), the rest element by element. For x @ W^T at 256x784 the eight panels took
    16 us, against 104 us element by element and 67 us for NumPy's copy of W^T."""
    k_dim = bt.shape[1]
    k_blocks = k_dim - k_dim % _LANES if cols == _COLS else 0
    for k in range(0, k_blocks, _LANES):
        transpose16(bt, j0, k, panel, k, 0)
        transpose16(bt, j0 + _LANES, k, panel, k, _LANES)
    for k in range(k_blocks, k_dim):
        row = panel[k]
        for j in range(cols):
            row[j] = bt[j0 + j, k]


@njit(void(*_RANGE, _PANEL), **_KERNEL)
def gemm_range_bt(a, bt, out, bias, has_bias, relu_out, accumulate, i0, i1, j0, j1, panel):
    """gemm_range for B given as its transpose bt (x @ W^T: bt is W): each panel of B is packed
    into `panel` (K x 32) before the row blocks pass it."""
    for jp in range(j0, j1, _COLS):
        cols = min(_COLS, j1 - jp)
        _pack_panel(bt, panel, jp, cols)
        for ip in range(i0, i1, _ROWS):
            _tile(a, panel, out, bias, has_bias, relu_out, accumulate, ip, min(_ROWS, i1 - ip),
                  jp, cols, 0)


@njit(void(_A, _B, _OUT, _BIAS, boolean, boolean, boolean, int64, boolean, boolean,
           float32[:, :, ::1]), parallel=True, **_OPTS)
def _gemm_parallel(a, b, out, bias, has_bias, relu_out, accumulate, parts, split_rows,
                   transposed, panels):
    """One range of whole row blocks (split_rows) or of whole column panels per thread; with
    `transposed`, b is B^T and each thread packs its panels into its own panels[part]."""
    m, n = out.shape
    unit = _ROWS if split_rows else _COLS
    units = ((m if split_rows else n) + unit - 1) // unit
    size = m if split_rows else n
    for part in prange(parts):
        lo = min(size, units * part // parts * unit)
        hi = min(size, units * (part + 1) // parts * unit)
        i0, i1, j0, j1 = (lo, hi, 0, n) if split_rows else (0, m, lo, hi)
        if transposed:
            gemm_range_bt(a, b, out, bias, has_bias, relu_out, accumulate, i0, i1, j0, j1,
                          panels[part])
        else:
            gemm_range(a, b, out, bias, has_bias, relu_out, accumulate, i0, i1, j0, j1)


_NO_BIAS = np.zeros((1, 0), dtype=np.float32)
_NO_PANELS = np.zeros((1, 0, _COLS), dtype=np.float32)


def gemm(a, b, out, bias, relu_out, accumulate, parts):
    """out = (out if accumulate) + a @ b (+ bias) (ReLU) on `parts` threads (checked operands:
    float32, matching shapes, 4-byte strides; out C-contiguous and apart from a and b).

    B is read in place when its rows are contiguous, packed panel by panel when its columns are
    (x @ W^T), and copied first otherwise."""
    transposed = b.strides[1] != 4 and b.strides[0] == 4 and b.shape[1] > 1
    if transposed:
        b = b.T
    elif b.strides[1] != 4 and b.shape[1] > 1:
        b = np.ascontiguousarray(b)
    bias = _NO_BIAS if bias is None else bias.reshape(1, -1)
    has_bias = bias.shape[1] > 0
    m, n = out.shape
    k = a.shape[1]
    parts = min(parts, max((m + _ROWS - 1) // _ROWS, (n + _COLS - 1) // _COLS))
    if parts <= 1:
        if transposed:
            gemm_range_bt(a, b, out, bias, has_bias, relu_out, accumulate, 0, m, 0, n,
                          np.empty((k, _COLS), np.float32))
        else:
            gemm_range(a, b, out, bias, has_bias, relu_out, accumulate, 0, m, 0, n)
        return out
    # Split the wider side, as the C driver does. A packed B is split by its panels when each
    # thread gets at least one (each then packs only its own, and for x @ W^T reads only its
    # half of W: the half the next update writes, so it stays in one core's cache).
    split_rows = m * _COLS > n * _ROWS and not (transposed and n >= parts * _COLS)
    panels = np.empty((parts, k, _COLS), np.float32) if transposed else _NO_PANELS
    _gemm_parallel(a, b, out, bias, has_bias, relu_out, accumulate, parts, split_rows,
                   transposed, panels)
    return out
