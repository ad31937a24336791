/* Few-row products that read B in place (gemm_small.c), called by fnn_sgemm. */
#ifndef FASTNN_GEMM_SMALL_H
#define FASTNN_GEMM_SMALL_H
#include <stddef.h>

/* Up to this many rows of A the unpacked kernels beat packing B. Measured side by side on
 * Zen 5 against the blocked path (benches/test_bench_small_batch.py): see gemm_small.c. */
#ifndef FNN_SMALL_M_MAX
#define FNN_SMALL_M_MAX 16
#endif
/* Above FNN_SMALL_M_MAX, up to this many rows, the float32 kernels still win while the operand
 * they read again for every block of 4 rows or columns stays in L2 (FNN_SMALL_REREAD_FLOATS):
 * the d2l MLP's 32 x 784 @ 784 x 256 forward took 140 us against the blocked path's 205 us on
 * Zen 4 at 1 thread, since packing the whole 784 x 256 weight for 3 row panels of 12 cost more
 * than it saved; at 96 and 128 rows the two were even, at 2 threads the axpy form lost. */
#ifndef FNN_SMALL_M_WIDE
#define FNN_SMALL_M_WIDE 64
#endif
/* 1 MB: Zen 4's L2 per core, half of Sapphire Rapids' 2 MB */
#define FNN_SMALL_REREAD_FLOATS (256 * 1024)

enum { FNN_SMALL_NONE = 0, FNN_SMALL_DOT = 1, FNN_SMALL_AXPY = 2 };

/* Which unpacked form fits these shapes and strides, or FNN_SMALL_NONE: up to
 * FNN_SMALL_M_MAX rows always, up to FNN_SMALL_M_WIDE rows when `wide` (float32; the bfloat16
 * variant rounds B as it loads it and multiplies in float32 FMAs, so beyond a few rows the
 * packed VDPBF16PS path with twice the arithmetic per instruction wins) and the re-read
 * operand fits in L2. */
int fnn_sgemm_small_form(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K, ptrdiff_t csa, ptrdiff_t rsb,
                         ptrdiff_t csb, int wide);
void fnn_sgemm_small(int form, int threads, ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                     const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                     const float *B, ptrdiff_t rsb, ptrdiff_t csb,
                     float *C, ptrdiff_t ldc, const float *bias, int relu, int accumulate);
/* The same with B's elements rounded to bfloat16 as they are read; A must hold bfloat16 values
 * already (AVX512_BF16 only: called by fnn_sgemm_bf16, which requires it). */
void fnn_sgemm_small_bf16(int form, int threads, ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                          const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                          const float *B, ptrdiff_t rsb, ptrdiff_t csb,
                          float *C, ptrdiff_t ldc, const float *bias, int relu, int accumulate);
#endif
