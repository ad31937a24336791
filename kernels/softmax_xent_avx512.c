/* AVX-512 row kernel of the fused softmax-cross-entropy.
 *
 * exp(t) for t = x - max <= 0: t = n ln2 + r with n = round(t log2 e), |r| <= ln2/2, then a
 * degree-6 Taylor polynomial for e^r (truncation error r^7/7! < 1.3e-7, about 1 ulp) and
 * scalef(p, n) = p * 2^n, which produces denormals and zero correctly, so t is only clamped at
 * -104 (where e^t is below the smallest denormal) to keep n in range; -inf becomes 0. */
#include "softmax_xent_rows.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>

#define TARGET __attribute__((target("avx512f,fma")))

TARGET static inline __m512 exp_nonpositive(__m512 t)
{
    const __m512 log2e = _mm512_set1_ps(1.44269504088896341f);
    const __m512 ln2_hi = _mm512_set1_ps(0.693359375f);
    const __m512 ln2_lo = _mm512_set1_ps(-2.12194440e-4f);
    t = _mm512_max_ps(t, _mm512_set1_ps(-104.0f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(t, log2e),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, ln2_hi, t);
    r = _mm512_fnmadd_ps(n, ln2_lo, r);
    __m512 p = _mm512_set1_ps(1.0f / 720.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

static inline __mmask16 tail_mask(ptrdiff_t remaining)
{
    return remaining >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << remaining) - 1u);
}

/* A row of at most 16 classes (Fashion-MNIST's 10) in one register from load to store. The
 * general loop below writes exp() to grad and reads it back with a masked load, which the
 * store buffer cannot forward: for 10 classes that stall cost more than the arithmetic
 * (5.5 us for a 256-row batch, against 2.2 us this way, Zen 5). The one-hot subtraction is a
 * masked lane operation for the same reason. */
TARGET static int xent_row_short(ptrdiff_t C, const float *x, int64_t y, float *loss,
                                 float *grad, float scale)
{
    const __mmask16 m = tail_mask(C);
    const __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), m, x);
    if (_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q)) return 1;
    const float row_max = _mm512_reduce_max_ps(v);
    if (!isfinite(row_max)) return 1;
    const __m512 e = exp_nonpositive(_mm512_sub_ps(v, _mm512_set1_ps(row_max)));
    const double s = _mm512_reduce_add_pd(_mm512_add_pd(
        _mm512_cvtps_pd(_mm512_castps512_ps256(e)),
        _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1)))));
    const int in_range = y >= 0 && y < C;
    *loss = in_range ? (float)(log(s) + (double)row_max - (double)x[y]) : NAN;
    if (grad) {
        __m512 g = _mm512_mul_ps(e, _mm512_set1_ps((float)(scale / s)));
        if (in_range)
            g = _mm512_mask_sub_ps(g, (__mmask16)(1u << y), g, _mm512_set1_ps(scale));
        _mm512_mask_storeu_ps(grad, m, g);
    }
    return 0;
}

TARGET int fnn_xent_row_avx512(ptrdiff_t C, const float *x, int64_t y, float *loss,
                               float *grad, float scale)
{
    if (C <= 16) return xent_row_short(C, x, y, loss, grad, scale);
    const __m512 neg_inf = _mm512_set1_ps(-INFINITY);
    __m512 vmax = neg_inf;
    __mmask16 nan = 0;
    for (ptrdiff_t k = 0; k < C; k += 16) {
        const __mmask16 m = tail_mask(C - k);
        const __m512 v = _mm512_mask_loadu_ps(neg_inf, m, x + k);
        nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        vmax = _mm512_max_ps(vmax, v);
    }
    if (nan) return 1;
    const float row_max = _mm512_reduce_max_ps(vmax);
    if (!isfinite(row_max)) return 1; /* +inf or an all -inf row: inf - inf = NaN, portably */
    const __m512 vm = _mm512_set1_ps(row_max);
    /* The sum runs in double (two 8-lane halves): float32 loses ~3 digits over 1000 terms. */
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    for (ptrdiff_t k = 0; k < C; k += 16) {
        const __mmask16 m = tail_mask(C - k);
        const __m512 v = _mm512_mask_loadu_ps(neg_inf, m, x + k);
        const __m512 e = exp_nonpositive(_mm512_sub_ps(v, vm));
        if (grad) _mm512_mask_storeu_ps(grad + k, m, e);
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(
                                   _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
    }
    const double s = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
    const int in_range = y >= 0 && y < C;
    *loss = in_range ? (float)(log(s) + (double)row_max - (double)x[y]) : NAN;
    if (grad) {
        const __m512 r = _mm512_set1_ps((float)(scale / s));
        for (ptrdiff_t k = 0; k < C; k += 16) {
            const __mmask16 m = tail_mask(C - k);
            _mm512_mask_storeu_ps(grad + k, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, grad + k), r));
        }
        if (in_range) grad[y] -= scale;
    }
    return 0;
}

#else
int fnn_xent_row_avx512(ptrdiff_t C, const float *x, int64_t y, float *loss, float *grad,
                        float scale)
{
    (void)C; (void)x; (void)y; (void)loss; (void)grad; (void)scale;
    return 1;
}
#endif
