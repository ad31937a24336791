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

/* 24 x 16, for products whose N is at most 16, which would leave half of the 12 x 32 tile
 * idle: the 5x5 layer (256,6,14,14) -> 16 has 16 output channels, and its forward ran at 70
 * GFLOP/s on 12 x 32 tiles against torch's 140 (issue 12). One zmm of B per k and one
 * accumulator per row: 24 accumulators, each FMA taking its A element as an embedded
 * broadcast. A is `panels` (1 or 2) consecutive 12-wide micro-panels (a, a + 12 kc): the
 * packing of the 12 x 32 path, unchanged. */
static inline __attribute__((always_inline)) FNN_TARGET_AVX512
void narrow_body(ptrdiff_t kc, const float *a, const float *b, float *c, ptrdiff_t ldc,
                 int accumulate, const int rows)
{
    const float *a1 = a + 12 * kc;
    __m512 acc[24];
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i)
        if (i < rows) acc[i] = _mm512_setzero_ps();
    for (ptrdiff_t k = 0; k < kc; ++k) {
        const __m512 bk = _mm512_loadu_ps(b + 16 * k);
        const float *p = a + 12 * k, *q = a1 + 12 * k;
#pragma GCC unroll 12
        for (int i = 0; i < 12; ++i) {
            acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(p[i]), bk, acc[i]);
            if (rows == 24) acc[12 + i] = _mm512_fmadd_ps(_mm512_set1_ps(q[i]), bk, acc[12 + i]);
        }
    }
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i)
        if (i < rows) {
            float *ci = c + i * ldc;
            _mm512_storeu_ps(ci, accumulate ? _mm512_add_ps(acc[i], _mm512_loadu_ps(ci)) : acc[i]);
        }
}

FNN_TARGET_AVX512
void fnn_ukernel_avx512_24x16(ptrdiff_t kc, const float *a, const float *b, float *c,
                              ptrdiff_t ldc, int accumulate, int panels)
{
    if (panels == 2)
        narrow_body(kc, a, b, c, ldc, accumulate, 24);
    else
        narrow_body(kc, a, b, c, ldc, accumulate, 12);
}

/* R (1 or 2) output rows of W (<= 12) pixels x 16 channels read straight from the image, no
 * packing: pixel (r, j) of tap k is img[off[k] + r wp + j], B is kc x 16 weights. The 5x5
 * layer's outputs are 10 wide: two rows fill 20 of the 24-accumulator tile, and packing its
 * 12-pixel panels had taken 30% of the forward (issue 12). R and W are constants in each
 * instance, so the tile stays in registers. */
static inline __attribute__((always_inline)) FNN_TARGET_AVX512
void rows_body(ptrdiff_t kc, const float *img, const ptrdiff_t *off, ptrdiff_t wp, const float *b,
               float *c, ptrdiff_t ldc, int accumulate, const int R, const int W)
{
    __m512 acc[24];
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i)
        if (i < R * W) acc[i] = _mm512_setzero_ps();
    for (ptrdiff_t k = 0; k < kc; ++k) {
        const __m512 bk = _mm512_loadu_ps(b + 16 * k);
        const float *p0 = img + off[k], *p1 = p0 + wp;
#pragma GCC unroll 12
        for (int j = 0; j < 12; ++j) {
            if (j < W) acc[j] = _mm512_fmadd_ps(_mm512_set1_ps(p0[j]), bk, acc[j]);
            if (R == 2 && j < W)
                acc[W + j] = _mm512_fmadd_ps(_mm512_set1_ps(p1[j]), bk, acc[W + j]);
        }
    }
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i)
        if (i < R * W) {
            float *ci = c + i * ldc;
            _mm512_storeu_ps(ci, accumulate ? _mm512_add_ps(acc[i], _mm512_loadu_ps(ci)) : acc[i]);
        }
}

#define ROWS_CASE(w)                                                                       \
    case w:                                                                                \
        if (rows == 2)                                                                     \
            rows_body(kc, img, off, wp, b, c, ldc, accumulate, 2, w);                      \
        else                                                                               \
            rows_body(kc, img, off, wp, b, c, ldc, accumulate, 1, w);                      \
        return;

FNN_TARGET_AVX512
void fnn_ukernel_avx512_rows16(ptrdiff_t kc, const float *img, const ptrdiff_t *off,
                               ptrdiff_t wp, int rows, int width, const float *b, float *c,
                               ptrdiff_t ldc, int accumulate)
{
    switch (width) {
        ROWS_CASE(1) ROWS_CASE(2) ROWS_CASE(3) ROWS_CASE(4) ROWS_CASE(5) ROWS_CASE(6)
        ROWS_CASE(7) ROWS_CASE(8) ROWS_CASE(9) ROWS_CASE(10) ROWS_CASE(11) ROWS_CASE(12)
    default: return; /* the driver sends widths up to FNN_ROWS16_MAX_WIDTH only */
    }
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
void fnn_ukernel_avx512_24x16(ptrdiff_t kc, const float *a, const float *b, float *c,
                              ptrdiff_t ldc, int accumulate, int panels)
{
    (void)kc; (void)a; (void)b; (void)c; (void)ldc; (void)accumulate; (void)panels;
}
void fnn_ukernel_avx512_rows16(ptrdiff_t kc, const float *img, const ptrdiff_t *off,
                               ptrdiff_t wp, int rows, int width, const float *b, float *c,
                               ptrdiff_t ldc, int accumulate)
{
    (void)kc; (void)img; (void)off; (void)wp; (void)rows; (void)width; (void)b; (void)c;
    (void)ldc; (void)accumulate;
}
#endif
