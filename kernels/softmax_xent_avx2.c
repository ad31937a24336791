/* AVX2 row kernel of the fused softmax-cross-entropy. Same range reduction and polynomial as
 * the AVX-512 kernel; AVX2 has no scalef, so 2^n is built in the exponent bits, which needs
 * n >= -126: t is clamped at -87.3 and lanes below that are set to exactly 0 (e^-87.3 is
 * 1.2e-38, so this flushes only denormal results). The ragged tail goes through a -inf-padded
 * 8-float buffer so every lane uses the same arithmetic. */
#include "softmax_xent_rows.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <string.h>

#define TARGET __attribute__((target("avx2,fma")))

TARGET static inline __m256 exp_nonpositive(__m256 t)
{
    const __m256 lowest = _mm256_set1_ps(-87.3f);
    const __m256 underflow = _mm256_cmp_ps(t, lowest, _CMP_LT_OQ);
    t = _mm256_max_ps(t, lowest);
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(t, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), t);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i bits = _mm256_slli_epi32(
        _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    const __m256 e = _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
    return _mm256_andnot_ps(underflow, e);
}

TARGET static inline __m256 load_padded(const float *x, ptrdiff_t remaining, float *pad)
{
    if (remaining >= 8) return _mm256_loadu_ps(x);
    for (int i = 0; i < 8; ++i) pad[i] = i < remaining ? x[i] : -INFINITY;
    return _mm256_loadu_ps(pad);
}

TARGET static inline __m256d add_halves(__m256d acc, __m256 e)
{
    acc = _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
    return _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
}

TARGET int fnn_xent_row_avx2(ptrdiff_t C, const float *x, int64_t y, float *loss, float *grad,
                             float scale)
{
    float pad[8];
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    __m256 nan = _mm256_setzero_ps();
    for (ptrdiff_t k = 0; k < C; k += 8) {
        const __m256 v = load_padded(x + k, C - k, pad);
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        vmax = _mm256_max_ps(vmax, v);
    }
    if (_mm256_movemask_ps(nan)) return 1;
    float lanes[8];
    _mm256_storeu_ps(lanes, vmax);
    float row_max = lanes[0];
    for (int i = 1; i < 8; ++i) row_max = lanes[i] > row_max ? lanes[i] : row_max;
    if (!isfinite(row_max)) return 1; /* +inf or an all -inf row: inf - inf = NaN, portably */
    const __m256 vm = _mm256_set1_ps(row_max);
    __m256d acc = _mm256_setzero_pd();
    for (ptrdiff_t k = 0; k < C; k += 8) {
        const __m256 e = exp_nonpositive(_mm256_sub_ps(load_padded(x + k, C - k, pad), vm));
        acc = add_halves(acc, e);
        if (grad) {
            if (C - k >= 8) {
                _mm256_storeu_ps(grad + k, e);
            } else {
                _mm256_storeu_ps(pad, e);
                memcpy(grad + k, pad, (size_t)(C - k) * sizeof(float));
            }
        }
    }
    double sums[4];
    _mm256_storeu_pd(sums, acc);
    const double s = (sums[0] + sums[1]) + (sums[2] + sums[3]);
    const int in_range = y >= 0 && y < C;
    *loss = in_range ? (float)(log(s) + (double)row_max - (double)x[y]) : NAN;
    if (grad) {
        const float r = (float)(scale / s);
        for (ptrdiff_t k = 0; k < C; ++k) grad[k] *= r;
        if (in_range) grad[y] -= scale;
    }
    return 0;
}

#else
int fnn_xent_row_avx2(ptrdiff_t C, const float *x, int64_t y, float *loss, float *grad,
                      float scale)
{
    (void)C; (void)x; (void)y; (void)loss; (void)grad; (void)scale;
    return 1;
}
#endif
