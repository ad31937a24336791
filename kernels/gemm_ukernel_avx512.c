/* 12 x 32 AVX-512 micro-kernel (see gemm_config.h for why this shape), in two instances of one
 * body: reading A from a packed micro-panel (element (i, k) at a[i + 12 k]), and reading it in
 * place with any strides (a[i rsa + k csa]), which lets the driver skip packing A. */
#include "gemm_config.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include "ukernel_12x32.h"

#define FNN_TARGET_AVX512 __attribute__((target("avx512f,fma")))

#define ROW_FMA(i, element)                                   \
    do {                                                      \
        __m512 ai = _mm512_set1_ps(element);                  \
        c##i##0 = _mm512_fmadd_ps(ai, b0, c##i##0);           \
        c##i##1 = _mm512_fmadd_ps(ai, b1, c##i##1);           \
    } while (0)

/* Rows 0-3, 4-7 and 8-11 are addressed from three pointers with the row stride (and three times
 * it) as scaled indices, so the strided instance needs no more registers than the packed one. */
static inline __attribute__((always_inline)) FNN_TARGET_AVX512
void ukernel_body(ptrdiff_t kc, const float *a, ptrdiff_t rsa, ptrdiff_t csa, const float *b,
                  float *c, ptrdiff_t ldc, int accumulate)
{
    const float *a4 = a + 4 * rsa, *a8 = a + 8 * rsa;
    const ptrdiff_t r2 = 2 * rsa, r3 = 3 * rsa;
    /* When the tile is added to C (every KC block after the first), fetch C's 12 rows now so
     * the loads at the end do not stall: +2-3% at 2048^3, neutral on single-block products. */
    if (accumulate) {
        for (int i = 0; i < 12; ++i) {
            _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
            _mm_prefetch((const char *)(c + i * ldc + 16), _MM_HINT_T0);
        }
    }
    FNN_TILE_12X32_ZERO;
    for (ptrdiff_t k = 0; k < kc; ++k) {
        __m512 b0 = _mm512_loadu_ps(b);
        __m512 b1 = _mm512_loadu_ps(b + 16);
        ROW_FMA(0, a[0]); ROW_FMA(1, a[rsa]); ROW_FMA(2, a[r2]); ROW_FMA(3, a[r3]);
        ROW_FMA(4, a4[0]); ROW_FMA(5, a4[rsa]); ROW_FMA(6, a4[r2]); ROW_FMA(7, a4[r3]);
        ROW_FMA(8, a8[0]); ROW_FMA(9, a8[rsa]); ROW_FMA(10, a8[r2]); ROW_FMA(11, a8[r3]);
        a += csa;
        a4 += csa;
        a8 += csa;
        b += FNN_NR_AVX512;
    }
    FNN_TILE_12X32_STORE;
}

FNN_TARGET_AVX512
void fnn_ukernel_avx512(ptrdiff_t kc, const float *a, const float *b,
                        float *c, ptrdiff_t ldc, int accumulate)
{
    ukernel_body(kc, a, 1, FNN_MR_AVX512, b, c, ldc, accumulate);
}

FNN_TARGET_AVX512
void fnn_ukernel_avx512_strided(ptrdiff_t kc, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                                const float *b, float *c, ptrdiff_t ldc, int accumulate)
{
    ukernel_body(kc, a, rsa, csa, b, c, ldc, accumulate);
}

#else /* not x86-64: never dispatched to (fnn_isa_supported says no) */
void fnn_ukernel_avx512(ptrdiff_t kc, const float *a, const float *b,
                        float *c, ptrdiff_t ldc, int accumulate)
{
    (void)kc; (void)a; (void)b; (void)c; (void)ldc; (void)accumulate;
}
void fnn_ukernel_avx512_strided(ptrdiff_t kc, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                                const float *b, float *c, ptrdiff_t ldc, int accumulate)
{
    (void)kc; (void)a; (void)rsa; (void)csa; (void)b; (void)c; (void)ldc; (void)accumulate;
}
#endif
