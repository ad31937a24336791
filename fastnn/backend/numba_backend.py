"""The Numba backend: the same kernels as kernels/*.c, written with @njit.

Explicit float32 signatures (so accumulators are not promoted and the compiled code is what we
test), `cache=True` so only the first process pays for compilation, and fastmath limited to
{'contract'} (FMA contraction) because the softmax relies on inf/NaN semantics that full
fastmath would let LLVM break. `prange` loops write disjoint output rows.
"""
import numba
import numpy as np
from numba import boolean, float32, float64, int64, njit, prange, void

NAME = "numba"
FASTMATH = {"contract"}
_COMMON = dict(cache=True, fastmath=FASTMATH, nogil=True)

# Rows of A per pass: four rows share each streamed row of B (a 4 x N register-friendly strip).
_ROW_BLOCK = 4


@njit(void(float32[:, ::1], float32[:, ::1], float32[:, ::1], float32[::1], boolean, boolean,
           boolean), parallel=True, **_COMMON)
def _gemm(a, b, out, bias, has_bias, relu, accumulate):
    m, k_dim = a.shape
    n = b.shape[1]
    n_blocks = (m + _ROW_BLOCK - 1) // _ROW_BLOCK
    for blk in prange(n_blocks):
        i0 = blk * _ROW_BLOCK
        i1 = min(i0 + _ROW_BLOCK, m)
        acc = np.zeros((_ROW_BLOCK, n), dtype=np.float32)
        for k in range(k_dim):
            brow = b[k]
            for i in range(i0, i1):
                aik = a[i, k]
                for j in range(n):
                    acc[i - i0, j] += aik * brow[j]
        for i in range(i0, i1):
            for j in range(n):
                v = acc[i - i0, j]
                if accumulate:
                    v += out[i, j]
                if has_bias:
                    v += bias[j]
                if relu and v <= 0.0:
                    v = np.float32(0.0)
                out[i, j] = v


@njit(void(float32[::1], float32[::1]), parallel=True, **_COMMON)
def _relu_forward(x, out):
    for i in prange(x.shape[0]):
        v = x[i]
        out[i] = np.float32(0.0) if v <= 0.0 else v


@njit(void(float32[::1], float32[::1], float32[::1]), parallel=True, **_COMMON)
def _relu_backward(x, grad_out, out):
    for i in prange(x.shape[0]):
        out[i] = grad_out[i] if x[i] > 0.0 else np.float32(0.0)


@njit(void(float32[:, ::1], float32[:, ::1], float32[:, ::1], float32[::1], boolean),
      parallel=True, **_COMMON)
def _relu_backward_bias(y, grad_out, out, bias_grad, want_bias):
    rows, cols = y.shape
    # threads split the columns (as the C kernel) so every column sums in the same order
    n_blocks = (cols + 15) // 16
    for blk in prange(n_blocks):
        j0 = blk * 16
        j1 = min(j0 + 16, cols)
        if want_bias:
            for j in range(j0, j1):
                bias_grad[j] = 0.0
        for i in range(rows):
            for j in range(j0, j1):
                v = grad_out[i, j] if y[i, j] > 0.0 else np.float32(0.0)
                out[i, j] = v
                if want_bias:
                    bias_grad[j] += v


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


_NO_BIAS = np.zeros(0, dtype=np.float32)
_NO_GRAD = np.zeros((0, 0), dtype=np.float32)


def _input(array):
    """A C-contiguous writable view or copy: the njit signatures take mutable C arrays, and
    the kernels read rows, so strided, transposed or read-only operands are copied once."""
    array = np.ascontiguousarray(array)
    return array if array.flags.writeable else array.copy()


def gemm(a, b, out, bias=None, relu=False, accumulate=False):
    a, b = _input(a), _input(b)
    bias = None if bias is None else _input(bias)
    has_bias = bias is not None
    _gemm(a, b, out, bias if has_bias else _NO_BIAS, has_bias, relu, accumulate)
    return out


def relu_forward(x, out):
    _relu_forward(_input(x).reshape(-1), out.reshape(-1))
    return out


def relu_backward(x, grad_out, out):
    _relu_backward(_input(x).reshape(-1), _input(grad_out).reshape(-1), out.reshape(-1))
    return out


def relu_backward_bias(y, grad_out, out, bias_grad):
    want_bias = bias_grad is not None
    _relu_backward_bias(_input(y), _input(grad_out), out, bias_grad if want_bias else _NO_BIAS,
                        want_bias)
    return out


def softmax_cross_entropy(logits, labels, losses, grad, grad_scale):
    want_grad = grad is not None
    bad = _softmax_cross_entropy(_input(logits), _input(labels), losses, grad if want_grad else _NO_GRAD,
                                 want_grad, np.float32(grad_scale))
    if bad:
        raise IndexError(f"{bad} target labels were out of range inside the kernel")
    return bad


def set_num_threads(n):
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
