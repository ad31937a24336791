"""torch's CPU samplers for counts, torch.poisson and torch.binomial, as NumPy references of the
compiled recipes in kernels/torch_rng.c (fnn_rng_poisson, fnn_rng_binomial_*).

Both are rejection samplers: each element takes as many uniform doubles (53 bits of a 64-bit
draw, torch's uniform_real_distribution<double>) as it needs, one element after another in
the output's order (torch's cpu_serial_kernel), so the stream is left where torch leaves it.

- poisson: for a rate of 10 or more, Hoermann's transformed rejection (PTRS, "The transformed
  rejection method for generating Poisson random variables", 1993); below, the count of
  uniforms whose running product stays above exp(-rate). The same recipe as NumPy's legacy
  random_poisson, which torch's sample_poisson (aten/src/ATen/native/Distributions.cpp) follows.
- binomial: aten/src/ATen/native/Distributions.h sample_binomial: the geometric-sum inversion
  when count * p < 10, else BTRS (Hoermann 1993, as TensorFlow's random_binomial_op.cc has
  it), on the smaller of p and 1 - p. Its arithmetic is in the tensor's own type where torch's
  template is (count * prob, sqrt of the variance, log1p(-prob) for float tensors) and in
  double elsewhere; the reference below says which with np.float32/np.float64 scalars.
"""
import math

import numpy as np

_TAIL = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
         0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.0104112652619720,
         0.00925546218271273, 0.00833056343336287)


def poisson(units, rates):
    """One count per rate (float64 array); units() -> the next uniform double."""
    out = np.empty(rates.shape, np.float64)
    flat = out.reshape(-1)
    for i, rate in enumerate(rates.reshape(-1).tolist()):
        flat[i] = _poisson_one(units, rate)
    return out


def _poisson_one(units, lam):
    if lam >= 10:
        slam, loglam = math.sqrt(lam), math.log(lam)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = units() - 0.5
            v = units()
            us = 0.5 - abs(u)
            k = _floor_to_int64((2 * a / us + b) * u + lam + 0.43)
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)) <= \
                    (-lam + k * loglam - math.lgamma(k + 1.0)):
                return k
    if lam == 0:
        return 0
    enlam, count, prod = math.exp(-lam), 0, 1.0
    while True:
        prod *= units()
        if prod > enlam:
            count += 1
        else:
            return count


def _floor_to_int64(x):
    """C's (int64_t)floor(x) on x86-64: out of range, infinite or NaN gives INT64_MIN."""
    return int(math.floor(x)) if math.isfinite(x) and -2.0 ** 63 <= x < 2.0 ** 63 else -2 ** 63


def binomial(units, counts, probs):
    """One draw per (count, prob) pair, in their dtype (float32 or float64 arrays)."""
    scalar = counts.dtype.type
    out = np.empty(counts.shape, counts.dtype)
    flat = out.reshape(-1)
    for i, (n, p) in enumerate(zip(counts.reshape(-1), probs.reshape(-1))):
        flat[i] = _binomial_one(units, scalar(n), scalar(p), scalar)
    return out


def _binomial_one(units, count, prob, scalar):
    if np.isnan(count):  # torch's inversion loops forever on a NaN count; fastnn gives NaN
        return scalar(np.nan)
    if count <= 0.0 or prob <= 0.0:
        return scalar(0)
    if prob >= 1.0:
        return count
    if prob <= 0.5:
        sample = _btrs if count * prob >= 10.0 else _inversion
        return sample(units, count, prob, scalar)
    if prob > 0.5:
        q = scalar(scalar(1.0) - prob)
        sample = _btrs if count * q >= 10.0 else _inversion
        return scalar(count - sample(units, count, q, scalar))
    return scalar(np.nan)


def _log1p(x, scalar):
    """log1p in the tensor's type (torch's compat_log1p(-prob) on a float is log1pf)."""
    return float(np.log1p(scalar(x)))


def _inversion(units, count, prob, scalar):
    logprob = _log1p(-prob, scalar)
    geom_sum, num_geom = 0.0, scalar(0)
    while True:
        geom_sum += math.ceil(math.log(units()) / logprob)
        if geom_sum > float(count):
            return num_geom
        num_geom = scalar(num_geom + scalar(1))


def _tail(k):
    if k < len(_TAIL):
        return _TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


def _btrs(units, count, prob, scalar):
    one = scalar(1)
    stddev = float(np.sqrt(count * prob * (one - prob)))  # in the tensor's type
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * float(prob)
    c = float(count * prob) + 0.5
    v_r = 0.92 - 4.2 / b
    r = float(prob / (one - prob))
    alpha = (2.83 + 5.1 / b) * stddev
    m = float(np.floor((count + one) * prob))
    n = float(count)
    while True:
        u = units() - 0.5
        v = units()
        us = 0.5 - abs(u)
        k = scalar(np.floor((2 * a / us + b) * u + c))  # (inf and NaN pass through)
        if k < 0 or k > count:
            continue
        if us >= 0.07 and v <= v_r:
            return k
        kf = float(k)
        v = math.log(v * alpha / (a / (us * us) + b))
        n_k1 = float(count - k + one)  # (count - k + 1 in the tensor's type)
        upper = ((m + 0.5) * math.log((m + 1) / (r * (n - m + 1)))
                 + float(count + one) * math.log((n - m + 1) / n_k1)
                 + (kf + 0.5) * math.log(r * n_k1 / float(k + one))
                 + _tail(m) + _tail(n - m) - _tail(kf) - _tail(float(count - k)))
        if v <= upper:
            return k


def gamma(units, normal, alphas):
    """torch._standard_gamma: a Gamma(alpha, 1) draw per alpha, in alpha's dtype (float32 or
    float64), no smaller than that dtype's smallest normal number. normal() -> the next
    standard normal double (the generator's, with its kept second value)."""
    scalar = alphas.dtype.type
    tiny = scalar(np.finfo(alphas.dtype).tiny)
    out = np.empty(alphas.shape, alphas.dtype)
    flat = out.reshape(-1)
    for i, alpha in enumerate(alphas.reshape(-1)):
        flat[i] = max(tiny, _gamma_one(units, normal, scalar(alpha), scalar))
    return out


def _gamma_one(units, normal, alpha, scalar):
    """Marsaglia & Tsang (2000), as aten/src/ATen/native/Distributions.h sample_gamma writes it:
    its constants are floats (1.0f / 3.0f, 0.0331f) even when alpha is a double."""
    f32 = np.float32
    scale = 1.0
    if alpha < 1.0:
        if alpha == 0.0:
            return scalar(0)
        scale *= (1 - units()) ** float(scalar(1.0) / alpha)
        alpha = scalar(alpha + scalar(1.0))
    d = float(alpha - scalar(f32(1.0) / f32(3.0)))
    c = 1.0 / math.sqrt(9.0 * d) if d >= 0 else math.nan  # (C's sqrt of a negative: NaN)
    small = float(f32(0.0331))
    while True:
        while True:
            x = normal()
            y = 1.0 + c * x
            if y > 0:
                break
        v = y * y * y
        u = 1 - units()
        xx = x * x
        if u < 1.0 - small * xx * xx:
            return scalar(scale * d * v)
        if math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
            return scalar(scale * d * v)
