"""The Numba backend: the same kernels as kernels/*.c, written with @njit.

Explicit float32 signatures (so accumulators are not promoted and the compiled code is what we
test), `cache=True` so only the first process pays for compilation, and fastmath limited to
{'contract'} (FMA contraction) because the softmax relies on inf/NaN semantics that full
fastmath would let LLVM break. `prange` loops write disjoint output rows. The matrix product,
which needs explicit vectors to hold its register tile, is in numba_gemm.py.
"""
import numba
import numpy as np
from numba import boolean, float32, float64, int64, njit, prange, uint8, void

from fastnn.backend import numba_gemm, numba_rnn, reference_rnn, rnn_step_loops

NAME = "numba"
FASTMATH = {"contract"}
_COMMON = dict(cache=True, fastmath=FASTMATH, nogil=True)

_M = float32[:, ::1]
_SUM_PARTS, _SUM_BLOCK, _SUM_LANES = 64, 4096, 64


@njit(float64(float32[::1], int64, int64), **_COMMON)
def _sum_part(x, lo, hi):
    """kernels/sum_ranges.h's part: 64 float32 lanes over blocks of 4096, each block's lane
    sums carried on in float64 (the C kernel keeps a float64 total per lane and sums the 64
    pairwise at the end; here they are added in lane order after each block: the tests compare
    with the reference's tolerance, not bits)."""
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


@njit(void(float32[::1], _M), parallel=True, **_COMMON)
def _fill_rows_parallel(values, out):
    for r in prange(out.shape[0]):
        out[r, :] = values[r]


@njit(void(float32[::1], _M), **_COMMON)
def _fill_rows_serial(values, out):
    for r in range(out.shape[0]):
        out[r, :] = values[r]


@njit([void(numba.types.Array(uint8, 1, "C", readonly=True), uint8[::1], int64),
       void(uint8[::1], uint8[::1], int64)], parallel=True, **_COMMON)
def _copy_bytes(source, out, parts):
    """kernels/copy.c's split: one contiguous range of bytes a thread."""
    n = source.shape[0]
    for p in prange(parts):
        lo, hi = n * p // parts, n * (p + 1) // parts
        out[lo:hi] = source[lo:hi]


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


_SOFTMAX = (float32[:, ::1], int64[::1], float32[::1], float32[:, ::1], boolean, float32)


@njit(int64(*_SOFTMAX, int64, int64), locals={"total": float64}, **_COMMON)
def _softmax_cross_entropy_rows(x, labels, losses, grad, want_grad, scale, lo, hi):
    """Rows [lo, hi); returns how many labels were out of range."""
    n_classes = x.shape[1]
    bad = 0
    for i in range(lo, hi):
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


@njit(int64(*_SOFTMAX, int64), parallel=True, **_COMMON)
def _softmax_cross_entropy_parallel(x, labels, losses, grad, want_grad, scale, parts):
    n_rows = x.shape[0]
    bad = 0
    for part in prange(parts):
        bad += _softmax_cross_entropy_rows(x, labels, losses, grad, want_grad, scale,
                                           n_rows * part // parts, n_rows * (part + 1) // parts)
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


def gemm(a, b, out, bias=None, relu=False, accumulate=False):
    m, k = a.shape
    n = b.shape[1]
    parts = _parts(2 * m * k * n, _PARALLEL_MIN_FLOPS, max(m, n))
    return numba_gemm.gemm(a, b, out, bias, relu, accumulate, parts)


def copy_array(source, out):
    flat, dest = source.reshape(-1).view(np.uint8), out.reshape(-1).view(np.uint8)
    parts = _parts(flat.shape[0], 4 * _PARALLEL_MIN_ELEMENTS, flat.shape[0])
    if parts == 1:
        dest[:] = flat
    else:
        _copy_bytes(flat, dest, parts)
    return out


def fill_rows(values, out):
    values = _input(values)
    if _parts(out.size, _PARALLEL_MIN_ELEMENTS, out.shape[0]) > 1:
        _fill_rows_parallel(values, out)
    else:
        _fill_rows_serial(values, out)
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
    args = (_input(logits), _input(labels), losses, grad if want_grad else _NO_GRAD, want_grad,
            np.float32(grad_scale))
    # The MLP's 256x10 logits take ~5 us on one core; a parallel launch costs more than that.
    bad = _over_ranges(_softmax_cross_entropy_rows, _softmax_cross_entropy_parallel,
                       logits.size, logits.shape[0], *args)
    if bad:
        raise IndexError(f"{bad} target labels were out of range inside the kernel")
    return bad


def _over_ranges(serial, parallel, work, units, *args):
    """A range kernel over [0, units): serial(*args, 0, units) on the calling thread, or
    parallel(*args, parts) over threads once `work` elements are many; its result."""
    parts = _parts(work, _PARALLEL_MIN_ELEMENTS, units)
    return serial(*args, 0, units) if parts == 1 else parallel(*args, parts)


def _elementwise(serial, parallel, n, *args):
    """An update kernel over n elements (see _over_ranges)."""
    _over_ranges(serial, parallel, n, n, *args)


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


# Convolution, pooling and batch norm live in their own module (it needs threads_now above).
from fastnn.backend.numba_conv import (  # noqa: E402,F401
    avgpool2d_backward, avgpool2d_forward, batchnorm_backward, batchnorm_forward,
    conv2d_backward, conv2d_forward, maxpool2d_backward, maxpool2d_forward, maxpool2x2_backward,
    maxpool2x2_forward)


def _rnn_gemm(array):
    """The product the recurrent loops run for this dtype: the Numba GEMM takes float32."""
    return gemm if array.dtype == np.float32 else reference_rnn.numpy_mm


def lstm_forward(xw, w_hh_t, b_hh, h0, c0, gates, cells, tanh_c, h_prev, output, reverse):
    rnn_step_loops.lstm_forward(xw, w_hh_t, b_hh, h0, c0, gates, cells, tanh_c, h_prev, output,
                                reverse, _rnn_gemm(cells), numba_rnn.cell_forward)


def lstm_backward(grad_out, dc, gates, cells, tanh_c, c0, w_hh, d_gates, dh, reverse):
    rnn_step_loops.lstm_backward(grad_out, dc, gates, cells, tanh_c, c0, w_hh, d_gates, dh,
                                 reverse, _rnn_gemm(cells), numba_rnn.cell_backward)


def gru_forward(xw, w_hh_t, b_hh, h0, gates, hn, h_prev, output, reverse):
    rnn_step_loops.gru_forward(xw, w_hh_t, b_hh, h0, gates, hn, h_prev, output, reverse,
                               _rnn_gemm(hn), numba_rnn.gru_cell_forward)


def gru_backward(grad_out, gates, hn, h_prev, w_hh, d_xw, d_hw, dh, reverse):
    rnn_step_loops.gru_backward(grad_out, gates, hn, h_prev, w_hh, d_xw, d_hw, dh, reverse,
                                _rnn_gemm(hn), numba_rnn.gru_cell_backward)
