"""Convolution, pooling and batch norm for the Numba backend: the algorithms of kernels/conv.c,
pool.c and batchnorm.c written with @njit. Convolution is im2col feeding the backend's
register-tiled GEMM (numba_gemm.gemm_range), parallel over images (per-thread partial weight
gradients, summed in a fixed order, so a thread count always gives the same bits); pooling
loops over each window, parallel over planes; batch norm sums each channel in double. `shape`
is (n, c, h, w, oc, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, groups), as for the other backends.
Compiled on first use and cached.

Numba's cache checks only this file's source: the cached code embeds numba_gemm's kernel as it
was when this file was compiled, so a change there that alters its arguments or results must also
change this file (when the old k-outer GEMM's row block went from 6 to 4, a stale cache gave wrong
convolutions).
"""
import numba
import numpy as np
from numba import njit, prange

from fastnn.backend.numba_backend import threads_now
from fastnn.backend.numba_gemm import gemm_range

_OPTS = dict(cache=True, fastmath={"contract"}, nogil=True)
_EMPTY = np.zeros(0, dtype=np.float32)


def _shape(shape):
    return tuple(int(v) for v in shape)


@njit(**_OPTS)
def _im2col(image, cols, c0, cpg, shape):
    """cols[(ci*kh + i)*kw + j, oy*ow + ox] = the tap (i, j) of output (oy, ox) on channel
    c0 + ci of one image, 0 in the padding."""
    _, _, h, w, _, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, _ = shape
    for ci in range(cpg):
        plane = image[c0 + ci]
        for i in range(kh):
            for j in range(kw):
                row = cols[(ci * kh + i) * kw + j]
                for oy in range(oh):
                    iy = oy * sh - ph + i * dh
                    base = oy * ow
                    if iy < 0 or iy >= h:
                        for ox in range(ow):
                            row[base + ox] = 0.0
                        continue
                    src = plane[iy]
                    for ox in range(ow):
                        ix = ox * sw - pw + j * dw
                        row[base + ox] = src[ix] if 0 <= ix < w else np.float32(0.0)


@njit(**_OPTS)
def _col2im_add(gcols, image, c0, cpg, shape):
    """The adjoint of _im2col: every tap's gradient added back to the pixel it read."""
    _, _, h, w, _, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, _ = shape
    for ci in range(cpg):
        plane = image[c0 + ci]
        for i in range(kh):
            for j in range(kw):
                row = gcols[(ci * kh + i) * kw + j]
                for oy in range(oh):
                    iy = oy * sh - ph + i * dh
                    if iy < 0 or iy >= h:
                        continue
                    dst = plane[iy]
                    for ox in range(ow):
                        ix = ox * sw - pw + j * dw
                        if 0 <= ix < w:
                            dst[ix] += row[oy * ow + ox]


@njit(parallel=True, **_OPTS)
def _conv_forward(x, w, bias, y, shape, has_bias, relu):
    n, c, _, _, oc, oh, ow, kh, kw, _, _, _, _, _, _, groups = shape
    cpg, ocpg = c // groups, oc // groups
    kdim, p = cpg * kh * kw, oh * ow
    wmat = w.reshape((oc, kdim))
    no_bias = np.zeros((1, 0), np.float32)
    for img in prange(n):
        cols = np.empty((kdim, p), np.float32)
        out = y[img].reshape((oc, p))
        for g in range(groups):
            _im2col(x[img], cols, g * cpg, cpg, shape)
            gemm_range(wmat[g * ocpg:(g + 1) * ocpg], cols, out[g * ocpg:(g + 1) * ocpg], no_bias,
                       False, False, False, 0, ocpg, 0, p)
        for o in range(oc):  # bias and ReLU (which keeps NaN, as torch.relu) per channel
            row = out[o]
            b = bias[o] if has_bias else np.float32(0.0)
            for q in range(p):
                v = row[q] + b
                row[q] = np.float32(0.0) if relu and v <= 0.0 else v


@njit(parallel=True, **_OPTS)
def _conv_backward(x, w, gy, gx, gw_parts, shape, want_x, want_w):
    n, c, _, _, oc, oh, ow, kh, kw, _, _, _, _, _, _, groups = shape
    cpg, ocpg = c // groups, oc // groups
    kdim, p = cpg * kh * kw, oh * ow
    wmat = w.reshape((oc, kdim))
    parts = gw_parts.shape[0]
    no_bias = np.zeros((1, 0), np.float32)
    for part in prange(parts):
        cols = np.empty((kdim, p), np.float32)
        gcols = np.empty((kdim, p), np.float32)
        gw = gw_parts[part]
        for img in range(n * part // parts, n * (part + 1) // parts):
            gy_img = gy[img].reshape((oc, p))
            if want_x:
                gx[img] = 0.0
            for g in range(groups):
                gy_g = gy_img[g * ocpg:(g + 1) * ocpg]
                if want_w:  # gW_g += gy_g @ cols^T
                    _im2col(x[img], cols, g * cpg, cpg, shape)
                    cols_t = np.ascontiguousarray(cols.T)  # B's rows must be contiguous
                    gemm_range(gy_g, cols_t, gw[g * ocpg:(g + 1) * ocpg], no_bias, False, False,
                               True, 0, ocpg, 0, kdim)
                if want_x:  # gx += col2im(W_g^T @ gy_g)
                    gemm_range(wmat[g * ocpg:(g + 1) * ocpg].T, gy_g, gcols, no_bias, False,
                               False, False, 0, kdim, 0, p)
                    _col2im_add(gcols, gx[img], g * cpg, cpg, shape)


@njit(parallel=True, **_OPTS)
def _mask_and_bias_grad(gy, relu_output, masked, gb, has_relu, want_b):
    """With the fused ReLU, masked = gy where its output was positive; gb = the sum of the
    (masked) gradient over everything but the channel, in double. Arrays are (n, oc, oh*ow)."""
    n, oc, p = gy.shape
    for o in prange(oc):
        total = 0.0
        for img in range(n):
            src = gy[img, o]
            if has_relu:
                out, kept = masked[img, o], relu_output[img, o]
                for q in range(p):
                    v = src[q] if kept[q] > 0.0 else np.float32(0.0)
                    out[q] = v
                    total += v
            else:
                for q in range(p):
                    total += src[q]
        if want_b:
            gb[o] = total


def conv2d_forward(x, w, bias, y, shape, relu=False):
    has_bias = bias is not None
    _conv_forward(x, w, bias if has_bias else _EMPTY, y, _shape(shape), has_bias, bool(relu))


def conv2d_backward(x, w, gy, gx, gw, gb, shape, relu_output=None):
    shape = _shape(shape)
    has_relu = relu_output is not None
    masked = np.empty_like(gy) if has_relu else gy  # without the ReLU, gy is used as it is
    if has_relu or gb is not None:
        # explicit sizes: a -1 cannot be inferred when the batch is empty
        flat = (gy.shape[0], gy.shape[1], gy.shape[2] * gy.shape[3])
        unused = np.empty((0, 0, 0), np.float32)
        _mask_and_bias_grad(gy.reshape(flat),
                            relu_output.reshape(flat) if has_relu else unused,
                            masked.reshape(flat) if has_relu else unused,
                            gb if gb is not None else _EMPTY, has_relu, gb is not None)
    if gx is None and gw is None:
        return
    n, oc = shape[0], shape[4]
    parts = max(1, min(threads_now(), n))
    gw_parts = np.zeros((parts if gw is not None else 1, oc, w[0].size), np.float32)
    _conv_backward(x, w, masked, gx if gx is not None else np.empty((1,) + x.shape[1:], np.float32),
                   gw_parts, shape, gx is not None, gw is not None)
    if gw is not None:
        gw[...] = gw_parts.sum(axis=0).reshape(gw.shape)


@njit(parallel=True, **_OPTS)
def _maxpool_forward(x, y, idx, shape):
    n, c, h, w, _, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, _ = shape
    xf, yf, idf = x.reshape((n * c, h, w)), y.reshape((n * c, oh, ow)), idx.reshape((n * c, oh, ow))
    for plane in prange(n * c):
        for oy in range(oh):
            for ox in range(ow):
                best, at = np.float32(-np.inf), -1
                for i in range(kh):  # the first maximum, or the first NaN (which wins), as torch
                    iy = oy * sh - ph + i * dh
                    if iy < 0 or iy >= h or (at >= 0 and best != best):
                        continue
                    for j in range(kw):
                        ix = ox * sw - pw + j * dw
                        if ix < 0 or ix >= w:
                            continue
                        v = xf[plane, iy, ix]
                        if at < 0 or v > best or (v != v and best == best):
                            best, at = v, iy * w + ix
                            if v != v:
                                break
                yf[plane, oy, ox] = best
                idf[plane, oy, ox] = at


@njit(parallel=True, **_OPTS)
def _maxpool_backward(gy, idx, gx, shape):
    n, c, h, w, _, oh, ow = shape[:7]
    gyf, idf, gxf = gy.reshape((n * c, oh * ow)), idx.reshape((n * c, oh * ow)), gx.reshape(
        (n * c, h * w))
    for plane in prange(n * c):
        dst = gxf[plane]
        dst[:] = 0.0
        for q in range(oh * ow):
            at = idf[plane, q]
            if 0 <= at < h * w:
                dst[at] += gyf[plane, q]


@njit(**_OPTS)
def _avg_window(o, size, k, s, p, count_include_pad):
    """(first, last + 1, divisor share) of output o's window along one axis."""
    start = o * s - p
    end = min(start + k, size + p)
    padded = end - start
    first, stop = max(start, 0), min(end, size)
    return first, stop, padded if count_include_pad else stop - first


@njit(parallel=True, **_OPTS)
def _avgpool_forward(x, y, shape, count_include_pad):
    n, c, h, w, _, oh, ow, kh, kw, sh, sw, ph, pw, _, _, _ = shape
    xf, yf = x.reshape((n * c, h, w)), y.reshape((n * c, oh, ow))
    for plane in prange(n * c):
        for oy in range(oh):
            y0, y1, ydiv = _avg_window(oy, h, kh, sh, ph, count_include_pad)
            for ox in range(ow):
                x0, x1, xdiv = _avg_window(ox, w, kw, sw, pw, count_include_pad)
                total = np.float32(0.0)
                for iy in range(y0, y1):
                    for ix in range(x0, x1):
                        total += xf[plane, iy, ix]
                yf[plane, oy, ox] = total / np.float32(ydiv * xdiv)


@njit(parallel=True, **_OPTS)
def _avgpool_backward(gy, gx, shape, count_include_pad):
    """Each output's gradient spread evenly over the inputs its window averaged."""
    n, c, h, w, _, oh, ow, kh, kw, sh, sw, ph, pw, _, _, _ = shape
    gyf, gxf = gy.reshape((n * c, oh, ow)), gx.reshape((n * c, h, w))
    for plane in prange(n * c):
        gxf[plane] = 0.0
        for oy in range(oh):
            y0, y1, ydiv = _avg_window(oy, h, kh, sh, ph, count_include_pad)
            for ox in range(ow):
                x0, x1, xdiv = _avg_window(ox, w, kw, sw, pw, count_include_pad)
                share = gyf[plane, oy, ox] / np.float32(ydiv * xdiv)
                for iy in range(y0, y1):
                    for ix in range(x0, x1):
                        gxf[plane, iy, ix] += share


def maxpool2d_forward(x, y, idx, shape):
    _maxpool_forward(x, y, idx, _shape(shape))


def maxpool2d_backward(gy, idx, gx, shape):
    _maxpool_backward(gy, idx, gx, _shape(shape))


@njit(parallel=True, **_OPTS)
def _maxpool2x2_forward(x, y, code):
    n, c, oh, ow = y.shape
    for plane in prange(n * c):
        i, ch = plane // c, plane % c
        for oy in range(oh):
            for ox in range(ow):
                best, at = x[i, ch, 2 * oy, 2 * ox], 0
                for k in range(1, 4):  # the first maximum, or the first NaN (which wins)
                    v = x[i, ch, 2 * oy + k // 2, 2 * ox + k % 2]
                    if v > best or (v != v and best == best):
                        best, at = v, k
                y[i, ch, oy, ox] = best
                code[i, ch, oy, ox] = at


@njit(parallel=True, **_OPTS)
def _maxpool2x2_backward(gy, code, gx):
    n, c, oh, ow = gy.shape
    for plane in prange(n * c):
        i, ch = plane // c, plane % c
        gx[i, ch] = 0.0
        for oy in range(oh):
            for ox in range(ow):
                k = code[i, ch, oy, ox]
                if k < 4:
                    gx[i, ch, 2 * oy + k // 2, 2 * ox + k % 2] = gy[i, ch, oy, ox]


def maxpool2x2_forward(x, y, code, shape):
    _maxpool2x2_forward(x, y, code)


def maxpool2x2_backward(gy, code, gx, shape):
    _maxpool2x2_backward(gy, code, gx)


def avgpool2d_forward(x, y, shape, count_include_pad):
    _avgpool_forward(x, y, _shape(shape), bool(count_include_pad))


def avgpool2d_backward(gy, gx, shape, count_include_pad):
    _avgpool_backward(gy, gx, _shape(shape), bool(count_include_pad))


@njit(parallel=True, **_OPTS)
def _bn_forward(x, gamma, beta, y, mean, var, training, eps, has_gamma, has_beta):
    n, c, length = x.shape
    count = n * length
    for ch in prange(c):
        if training:
            total = 0.0
            for i in range(n):
                for v in x[i, ch]:
                    total += v
            mu = total / count if count else np.nan
            sq = 0.0
            for i in range(n):
                for v in x[i, ch]:
                    sq += (v - mu) * (v - mu)
            mean[ch], var[ch] = mu, (sq / count if count else np.nan)
        scale = 1.0 / np.sqrt(var[ch] + eps)
        if has_gamma:
            scale *= gamma[ch]
        shift = (beta[ch] if has_beta else 0.0) - mean[ch] * scale
        s32, t32 = np.float32(scale), np.float32(shift)
        for i in range(n):
            src, out = x[i, ch], y[i, ch]
            for q in range(length):
                out[q] = src[q] * s32 + t32


@njit(parallel=True, **_OPTS)
def _bn_backward(x, g, gamma, mean, var, gx, ggamma, gbeta, eps, has_gamma, want_x, want_gamma,
                 want_beta):
    n, c, length = x.shape
    count = n * length
    for ch in prange(c):
        inv_std = 1.0 / np.sqrt(var[ch] + eps)
        mu = mean[ch]
        sum_g, sum_gx = 0.0, 0.0
        for i in range(n):
            xs, gs = x[i, ch], g[i, ch]
            for q in range(length):
                sum_g += gs[q]
                sum_gx += gs[q] * ((xs[q] - mu) * inv_std)
        if want_gamma:
            ggamma[ch] = sum_gx
        if want_beta:
            gbeta[ch] = sum_g
        if want_x:
            k = (gamma[ch] if has_gamma else 1.0) * inv_std / count
            for i in range(n):
                xs, gs, out = x[i, ch], g[i, ch], gx[i, ch]
                for q in range(length):
                    x_hat = (xs[q] - mu) * inv_std
                    out[q] = k * (count * gs[q] - sum_g - x_hat * sum_gx)


def _channels_last_flat(a):
    """(n, c, ...) as (n, c, everything else)."""
    rest = int(np.prod(a.shape[2:], dtype=np.int64))  # not -1: an empty batch has no inference
    return a.reshape(a.shape[0], a.shape[1], rest)


def batchnorm_forward(x, gamma, beta, y, mean, var, training, eps):
    _bn_forward(_channels_last_flat(x), gamma if gamma is not None else _EMPTY,
                beta if beta is not None else _EMPTY, _channels_last_flat(y), mean, var,
                bool(training), float(eps), gamma is not None, beta is not None)


def batchnorm_backward(x, g, gamma, mean, var, gx, ggamma, gbeta, eps):
    flat = _channels_last_flat(x)
    _bn_backward(flat, _channels_last_flat(g), gamma if gamma is not None else _EMPTY, mean, var,
                 _channels_last_flat(gx) if gx is not None else flat, ggamma if ggamma is not None
                 else _EMPTY, gbeta if gbeta is not None else _EMPTY, float(eps),
                 gamma is not None, gx is not None, ggamma is not None, gbeta is not None)
