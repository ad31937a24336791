/* The 12 x 32 tile of C held in 24 zmm registers, c<row><half>, shared by the float32
 * (gemm_ukernel_avx512.c) and bfloat16 (gemm_bf16.c) micro-kernels: they differ only in how
 * the products are formed. Used inside functions compiled for AVX-512, with `c`, `ldc` and
 * `accumulate` in scope. */
#ifndef FASTNN_UKERNEL_12X32_H
#define FASTNN_UKERNEL_12X32_H
#include <immintrin.h>

#define FNN_TILE_12X32_ZERO                                                   \
    __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps();              \
    __m512 c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();              \
    __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps();              \
    __m512 c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();              \
    __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps();              \
    __m512 c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();              \
    __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps();              \
    __m512 c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();              \
    __m512 c80 = _mm512_setzero_ps(), c81 = _mm512_setzero_ps();              \
    __m512 c90 = _mm512_setzero_ps(), c91 = _mm512_setzero_ps();              \
    __m512 c100 = _mm512_setzero_ps(), c101 = _mm512_setzero_ps();            \
    __m512 c110 = _mm512_setzero_ps(), c111 = _mm512_setzero_ps()

/* Row i of the tile to c + i * ldc, added to what is there when accumulate is set. */
#define FNN_TILE_ROW_STORE(i)                                                 \
    do {                                                                      \
        float *ci = c + (i) * ldc;                                            \
        if (accumulate) {                                                     \
            c##i##0 = _mm512_add_ps(c##i##0, _mm512_loadu_ps(ci));            \
            c##i##1 = _mm512_add_ps(c##i##1, _mm512_loadu_ps(ci + 16));       \
        }                                                                     \
        _mm512_storeu_ps(ci, c##i##0);                                        \
        _mm512_storeu_ps(ci + 16, c##i##1);                                   \
    } while (0)

#define FNN_TILE_12X32_STORE                                                                 \
    do {                                                                                     \
        FNN_TILE_ROW_STORE(0); FNN_TILE_ROW_STORE(1); FNN_TILE_ROW_STORE(2);                 \
        FNN_TILE_ROW_STORE(3); FNN_TILE_ROW_STORE(4); FNN_TILE_ROW_STORE(5);                 \
        FNN_TILE_ROW_STORE(6); FNN_TILE_ROW_STORE(7); FNN_TILE_ROW_STORE(8);                 \
        FNN_TILE_ROW_STORE(9); FNN_TILE_ROW_STORE(10); FNN_TILE_ROW_STORE(11);               \
    } while (0)

#endif
