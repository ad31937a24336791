/* GEMM blocking, one place for every ISA (the BLIS convention: config/<arch>/).
 *
 * Goto & van de Geijn, "Anatomy of High-Performance Matrix Multiplication" (ACM TOMS 2008):
 * C is computed as five loops around an MR x NR register-resident micro-kernel.
 *   NC  columns of B per packed panel (KC x NC, lives in L3)
 *   KC  depth of a rank-KC update; the KC x NR micro-panel of B is reused across all of the
 *       MC/MR micro-panels of A, so it should stay in L1 (48 KiB on Sapphire Rapids and Zen 5)
 *   MC  rows of A per packed block (MC x KC, lives in L2: 1-2 MiB per core)
 * Our C is row-major, so the micro-kernel vectorises along N (rows of packed B are vectors)
 * and broadcasts elements of A, the orientation of BLIS's Haswell 6x16 kernel.
 *   AVX-512: 12 x 32 -> 24 zmm accumulators + 2 B vectors + 1 broadcast = 27 of 32 registers.
 *            A is read in place (gemm.c) and NC is 512, so a KC x NC panel of B is the only
 *            packed operand. KC 1024: sweeping 256-2048 side by side on Zen 5 (2 MiB L2), one
 *            and two threads, every step up to 1024 helped: against the 320 chosen when A was
 *            still packed, +2-3% at 1024^3 and 2048^3 on one thread, +3-5% on two, and the MLP's
 *            K = 784 products run as one block (no second pass over C). 2048 gained another
 *            1.5% at 2048^3 only. (With A packed, 320 / MC 240 had been best: 83-88% of the
 *            probe at 2048^3.) NC 512 (16 micro-panels): the B panel stays in L2 next to the
 *            rows of A being read; against NC 3072 it ran 2048^3 4% faster.
 *   AVX2:     6 x 16 -> 12 ymm accumulators + 2 B vectors + 1 broadcast = 15 of 16 registers.
 *            KC 256: B micro-panel 16 KiB; MC 120.
 *   generic:  4 x 16 plain C that the compiler vectorises with SSE2.
 */
#ifndef FASTNN_GEMM_CONFIG_H
#define FASTNN_GEMM_CONFIG_H

#include <stddef.h>

/* Micro-kernel: c[0:MR, 0:NR] (row stride ldc) = (accumulate ? c : 0) + a_panel @ b_panel,
 * where a_panel is KC x MR (MR contiguous per k) and b_panel is KC x NR (NR contiguous per k). */
typedef void (*fnn_ukernel)(ptrdiff_t kc, const float *a, const float *b,
                            float *c, ptrdiff_t ldc, int accumulate);

/* The same product with A read in place: a(i, k) = a[i * rsa + k * csa] (no packing). */
typedef void (*fnn_ukernel_strided)(ptrdiff_t kc, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                                    const float *b, float *c, ptrdiff_t ldc, int accumulate);

typedef struct {
    int mr, nr;
    ptrdiff_t kc, mc, nc;
    fnn_ukernel kernel;
    fnn_ukernel_strided kernel_strided; /* NULL: this ISA always packs A */
} fnn_gemm_config;

#define FNN_MR_AVX512 12
#define FNN_NR_AVX512 32
#define FNN_MR_AVX2 6
#define FNN_NR_AVX2 16
#define FNN_MR_GENERIC 4
#define FNN_NR_GENERIC 16
#ifndef FNN_KC_AVX512 /* overridable (-DFNN_KC_AVX512=...) for block-size sweeps */
#define FNN_KC_AVX512 1024
#endif
#ifndef FNN_MC_AVX512
#define FNN_MC_AVX512 240
#endif
#define FNN_MR_MAX 12
#define FNN_NR_MAX 32

void fnn_ukernel_avx512(ptrdiff_t, const float *, const float *, float *, ptrdiff_t, int);
void fnn_ukernel_avx2(ptrdiff_t, const float *, const float *, float *, ptrdiff_t, int);
void fnn_ukernel_generic(ptrdiff_t, const float *, const float *, float *, ptrdiff_t, int);
/* AVX-512 only: C (24 or 12 rows, 16 columns) from `panels` consecutive 12-wide A panels and
 * one 16-wide B panel, for N <= 16 (gemm_ukernel_avx512.c). */
#define FNN_NARROW_NR 16
void fnn_ukernel_avx512_24x16(ptrdiff_t kc, const float *a, const float *b, float *c,
                              ptrdiff_t ldc, int accumulate, int panels);
/* AVX-512 only: C (rows (1 or 2) x width output pixels, one per row of C, x 16 columns) from an
 * image read in place, pixel (r, j) of tap k at img[off[k] + r wp + j] (gemm_ukernel_avx512.c). */
#define FNN_ROWS16_MAX_WIDTH 12
void fnn_ukernel_avx512_rows16(ptrdiff_t kc, const float *img, const ptrdiff_t *off,
                               ptrdiff_t wp, int rows, int width, const float *b, float *c,
                               ptrdiff_t ldc, int accumulate);
void fnn_ukernel_avx512_strided(ptrdiff_t, const float *, ptrdiff_t, ptrdiff_t, const float *,
                                float *, ptrdiff_t, int);

static const fnn_gemm_config fnn_gemm_configs[3] = {
    /* FNN_ISA_GENERIC */ {FNN_MR_GENERIC, FNN_NR_GENERIC, 256, 128, 4096, fnn_ukernel_generic, NULL},
    /* FNN_ISA_AVX2    */ {FNN_MR_AVX2, FNN_NR_AVX2, 256, 120, 4096, fnn_ukernel_avx2, NULL},
    /* FNN_ISA_AVX512  */ {FNN_MR_AVX512, FNN_NR_AVX512, FNN_KC_AVX512, FNN_MC_AVX512, 512,
                           fnn_ukernel_avx512, fnn_ukernel_avx512_strided},
};

/* Products below this many multiply-adds run on one thread: an OpenMP fork/join costs a few
 * microseconds, which is more than the whole product below ~64^3. */
#define FNN_GEMM_PARALLEL_MIN_WORK (64 * 64 * 64)

#endif
