"""NumPy reference for convolution and pooling (the oracle the compiled kernels are tested
against). `shape` is (n, c, h, w, oc, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, groups)."""
import numpy as np


def _windows(x, shape, fill):
    """(n, c, kh, kw, oh, ow): every window tap of every output, `fill` outside the input."""
    n, c, h, w, oc, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, groups = shape
    dtype = x.dtype if x.dtype == np.float64 else np.float32  # (float64: fastnn's double convs)
    xp = np.full((n, c, h + 2 * ph + sh * oh + dh * kh, w + 2 * pw + sw * ow + dw * kw), fill,
                 dtype=dtype)  # generous padding: ceil_mode windows may overhang
    xp[:, :, ph:ph + h, pw:pw + w] = x
    taps = np.empty((n, c, kh, kw, oh, ow), dtype=dtype)
    for i in range(kh):
        for j in range(kw):
            taps[:, :, i, j] = xp[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                                  j * dw:j * dw + sw * (ow - 1) + 1:sw]
    return taps


def conv2d_forward(x, w, bias, y, shape, relu=False):
    n, c, h, wd, oc, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, groups = shape
    cols = _windows(x, shape, 0.0)
    cpg, ocpg = c // groups, oc // groups
    for g in range(groups):
        cg = cols[:, g * cpg:(g + 1) * cpg].reshape(n, cpg * kh * kw, oh * ow)
        wg = w[g * ocpg:(g + 1) * ocpg].reshape(ocpg, -1)
        y[:, g * ocpg:(g + 1) * ocpg] = (wg @ cg).reshape(n, ocpg, oh, ow)
    if bias is not None:
        y += bias.reshape(1, -1, 1, 1)
    if relu:
        np.maximum(y, np.float32(0), out=y)


def conv2d_backward(x, w, gy, gx, gw, gb, shape, relu_output=None):
    n, c, h, wd, oc, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, groups = shape
    if relu_output is not None:
        gy = np.where(relu_output > 0, gy, np.float32(0))
    cols = _windows(x, shape, 0.0)
    cpg, ocpg = c // groups, oc // groups
    gcols = np.zeros_like(cols)
    for g in range(groups):
        cg = cols[:, g * cpg:(g + 1) * cpg].reshape(n, cpg * kh * kw, oh * ow)
        gyg = gy[:, g * ocpg:(g + 1) * ocpg].reshape(n, ocpg, oh * ow)
        wg = w[g * ocpg:(g + 1) * ocpg].reshape(ocpg, -1)
        if gw is not None:
            gw[g * ocpg:(g + 1) * ocpg] = (gyg @ cg.transpose(0, 2, 1)).sum(0).reshape(
                gw[g * ocpg:(g + 1) * ocpg].shape)
        gcols[:, g * cpg:(g + 1) * cpg] = (wg.T @ gyg).reshape(n, cpg, kh, kw, oh, ow)
    if gx is not None:
        padded = np.zeros((n, c, h + 2 * ph + sh * oh + dh * kh, wd + 2 * pw + sw * ow + dw * kw),
                          dtype=gcols.dtype)
        for i in range(kh):
            for j in range(kw):
                padded[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                       j * dw:j * dw + sw * (ow - 1) + 1:sw] += gcols[:, :, i, j]
        gx[...] = padded[:, :, ph:ph + h, pw:pw + wd]
    if gb is not None:
        gb[...] = gy.sum(axis=(0, 2, 3), dtype=np.float64)


def maxpool2d_forward(x, y, idx, shape):
    n, c, h, w, _, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, _ = shape
    taps = _windows(x, shape, -np.inf).reshape(n, c, kh * kw, oh, ow)
    best = np.argmax(taps, axis=2)  # first maximum, or the first NaN (NaN wins, as torch)
    y[...] = np.take_along_axis(taps, best[:, :, None], axis=2)[:, :, 0]
    i, j = np.divmod(best, kw)
    rows = np.arange(oh).reshape(-1, 1) * sh - ph + i * dh
    cols = np.arange(ow).reshape(1, -1) * sw - pw + j * dw
    idx[...] = rows * w + cols


def maxpool2d_backward(gy, idx, gx, shape):
    n, c, h, w = shape[:4]
    flat = gx.reshape(n * c, h * w)
    flat[...] = 0
    planes = np.repeat(np.arange(n * c), idx[0, 0].size)
    at = idx.reshape(-1)
    inside = (at >= 0) & (at < h * w)  # as the kernels: an index off the plane is skipped
    np.add.at(flat, (planes[inside], at[inside]), gy.reshape(-1)[inside])


def _windows_2x2(a, oh, ow):
    """(n, c, oh, ow, 4): each 2x2 window's taps in the order dy * 2 + dx."""
    n, c = a.shape[:2]
    return (a[:, :, :2 * oh, :2 * ow].reshape(n, c, oh, 2, ow, 2).transpose(0, 1, 2, 4, 3, 5)
            .reshape(n, c, oh, ow, 4))


def maxpool2x2_forward(x, y, code, shape):
    taps = _windows_2x2(x, *y.shape[2:])
    best = np.argmax(taps, axis=-1)  # first maximum, or the first NaN (NaN wins, as torch)
    y[...] = np.take_along_axis(taps, best[..., None], axis=-1)[..., 0]
    code[...] = best


def maxpool2x2_backward(gy, code, gx, shape):
    gx[...] = 0
    oh, ow = gy.shape[2:]
    taps = np.where(code[..., None] == np.arange(4, dtype=np.uint8), gy[..., None], np.float32(0))
    n, c = gy.shape[:2]
    gx[:, :, :2 * oh, :2 * ow] = taps.reshape(n, c, oh, ow, 2, 2).transpose(0, 1, 2, 4, 3, 5) \
        .reshape(n, c, 2 * oh, 2 * ow)


def avg_divisors(shape, count_include_pad):
    """(oh, ow): the count each average pooling window divides its sum by."""
    n, c, h, w, _, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, _ = shape

    def axis(size, out, k, s, p):
        start = np.arange(out) * s - p
        end = np.minimum(start + k, size + p)
        padded = end - start
        return np.maximum(start, 0), np.minimum(end, size), padded

    ys, ye, ypad = axis(h, oh, kh, sh, ph)
    xs, xe, xpad = axis(w, ow, kw, sw, pw)
    if count_include_pad:
        return np.outer(ypad, xpad).astype(np.float32)
    return np.outer(ye - ys, xe - xs).astype(np.float32)


def avgpool2d_forward(x, y, shape, count_include_pad):
    taps = _windows(x, shape, 0.0)
    y[...] = taps.sum(axis=(2, 3)) / avg_divisors(shape, count_include_pad)


def avgpool2d_backward(gy, gx, shape, count_include_pad):
    n, c, h, w, _, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, _ = shape
    g = gy / avg_divisors(shape, count_include_pad)
    padded = np.zeros((n, c, h + 2 * ph + sh * oh + dh * kh, w + 2 * pw + sw * ow + dw * kw),
                      dtype=gx.dtype)
    for i in range(kh):
        for j in range(kw):
            padded[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                   j * dw:j * dw + sw * (ow - 1) + 1:sw] += g
    gx[...] = padded[:, :, ph:ph + h, pw:pw + w]


def _bn_axes(x):
    return (0,) + tuple(range(2, x.ndim)), (1, -1) + (1,) * (x.ndim - 2)


def batchnorm_forward(x, gamma, beta, y, mean, var, training, eps):
    axes, shape = _bn_axes(x)
    if training:
        mean[...] = x.mean(axis=axes, dtype=np.float64)
        var[...] = x.var(axis=axes, dtype=np.float64)
    scale = 1.0 / np.sqrt(var + eps)
    if gamma is not None:
        scale = scale * gamma
    shift = (0.0 if beta is None else beta) - mean * scale
    y[...] = x * scale.astype(y.dtype).reshape(shape) + shift.astype(y.dtype).reshape(shape)


def batchnorm_backward(x, g, gamma, mean, var, gx, ggamma, gbeta, eps):
    axes, shape = _bn_axes(x)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean.reshape(shape)) * inv_std.reshape(shape)
    count = x.size // x.shape[1]
    sum_g = g.sum(axis=axes, dtype=np.float64)
    sum_gx = (g * x_hat).sum(axis=axes, dtype=np.float64)
    if ggamma is not None:
        ggamma[...] = sum_gx
    if gbeta is not None:
        gbeta[...] = sum_g
    if gx is not None:
        w = 1.0 if gamma is None else gamma.reshape(shape)
        gx[...] = (w * inv_std.reshape(shape) / count
                   * (count * g - sum_g.reshape(shape) - x_hat * sum_gx.reshape(shape)))
