/* 6 x 16 AVX2+FMA micro-kernel, the shape of BLIS's Haswell sgemm kernel. */
#include "gemm_config.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define FNN_TARGET_AVX2 __attribute__((target("avx2,fma")))

#define ROW_FMA(i)                                            \
    do {                                                      \
        __m256 ai = _mm256_broadcast_ss(a + (i));             \
        c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0);           \
        c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1);           \
    } while (0)

#define ROW_STORE(i)                                                              \
    do {                                                                          \
        float *ci = c + (i) * ldc;                                                \
        if (accumulate) {                                                         \
            c##i##0 = _mm256_add_ps(c##i##0, _mm256_loadu_ps(ci));                \
            c##i##1 = _mm256_add_ps(c##i##1, _mm256_loadu_ps(ci + 8));            \
        }                                                                         \
        _mm256_storeu_ps(ci, c##i##0);                                            \
        _mm256_storeu_ps(ci + 8, c##i##1);                                        \
    } while (0)

FNN_TARGET_AVX2
void fnn_ukernel_avx2(ptrdiff_t kc, const float *a, const float *b,
                      float *c, ptrdiff_t ldc, int accumulate)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (ptrdiff_t k = 0; k < kc; ++k) {
        __m256 b0 = _mm256_loadu_ps(b);
        __m256 b1 = _mm256_loadu_ps(b + 8);
        ROW_FMA(0); ROW_FMA(1); ROW_FMA(2);
        ROW_FMA(3); ROW_FMA(4); ROW_FMA(5);
        a += FNN_MR_AVX2;
        b += FNN_NR_AVX2;
    }
    ROW_STORE(0); ROW_STORE(1); ROW_STORE(2);
    ROW_STORE(3); ROW_STORE(4); ROW_STORE(5);
}

#else
void fnn_ukernel_avx2(ptrdiff_t kc, const float *a, const float *b,
                      float *c, ptrdiff_t ldc, int accumulate)
{
    (void)kc; (void)a; (void)b; (void)c; (void)ldc; (void)accumulate;
}
#endif
