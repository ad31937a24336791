/* Few-row products that read B in place (gemm_small.c), called by fnn_sgemm. */
#ifndef FASTNN_GEMM_SMALL_H
#define FASTNN_GEMM_SMALL_H
#include <stddef.h>

/* Up to this many rows of A the unpacked kernels beat packing B. Measured side by side on
 * Zen 5 against the blocked path (benches/test_bench_small_batch.py): see gemm_small.c. */
#ifndef FNN_SMALL_M_MAX
#define FNN_SMALL_M_MAX 16
#endif

enum { FNN_SMALL_NONE = 0, FNN_SMALL_DOT = 1, FNN_SMALL_AXPY = 2 };

/* Which unpacked form fits these shapes and strides, or FNN_SMALL_NONE. */
int fnn_sgemm_small_form(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K, ptrdiff_t csa, ptrdiff_t rsb,
                         ptrdiff_t csb);
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
