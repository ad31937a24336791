/* Few-row products (M <= FNN_SMALL_M_MAX rows of A, up to FNN_SMALL_M_WIDE in float32 where
 * the re-read operand stays in L2; gemm_small.h): a prediction on one example, a batch-1
 * training step, a batch-32 forward. The blocked GEMM (gemm.c) packs a KC x NC panel of B
 * before it multiplies; with one row of A each packed element is then used once, and
 * packing the MLP's 784 x 256 weight cost 46 us against OpenBLAS's 7 us for the whole
 * 1 x 784 @ 784 x 256 product (issue 12). These kernels read B in place, in whichever of its
 * two layouts has contiguous rows:
 *   dot form   B = W^T, W row-major (Linear's forward): each output is a dot product of a row
 *              of A with a row of W, vectorised along K;
 *   axpy form  B row-major (the input gradient g @ W, the weight gradient g^T @ x): rows of C
 *              are sums of rows of B scaled by A's elements, vectorised along N.
 * This is BLIS's "sup" (skinny/unpacked) idea at its extreme (Van Zee & Smith, "Supporting
 * mixed-domain mixed-precision matrix multiplication within the BLIS framework", 2019 report,
 * for the unpacked kernels). Threads split the columns of C; every element is still reduced
 * over K in one order, so results do not depend on the thread count. They can differ from the
 * blocked path's in the last bits (another summation order), as PyTorch's do between batch
 * sizes. */
#include "fastnn_kernels.h"
#include "gemm_small.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TARGET_AVX512 __attribute__((target("avx512f,fma")))
#define TARGET_AVX2 __attribute__((target("avx2,fma")))
#else
#define TARGET_AVX512
#define TARGET_AVX2
#endif

#define SMALL(name) name##_avx512
#define SMALL_TARGET TARGET_AVX512
#define VF 16
#define MB 4
#include "gemm_small_body.h"
#undef SMALL
#undef SMALL_TARGET
#undef VF
#undef MB

#define SMALL(name) name##_avx2
#define SMALL_TARGET TARGET_AVX2
#define VF 8
#define MB 2
#include "gemm_small_body.h"
#undef SMALL
#undef SMALL_TARGET
#undef VF
#undef MB

/* autocast's few-row products (fnn_sgemm_bf16): only where AVX512_BF16 runs */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SMALL(name) name##_avx512_bf16
#define SMALL_TARGET __attribute__((target("avx512f,avx512bw,avx512bf16,fma")))
#define SMALL_ROUND
#define VF 16
#define MB 4
#include "gemm_small_body.h"
#undef SMALL
#undef SMALL_TARGET
#undef SMALL_ROUND
#undef VF
#undef MB
#endif

#define SMALL(name) name##_generic
#define SMALL_TARGET
#define VF 4
#define MB 2
#include "gemm_small_body.h"
#undef SMALL
#undef SMALL_TARGET
#undef VF
#undef MB

extern long long fnn_call_counts[FNN_K_COUNT];

/* by enum fnn_isa, then the AVX-512 bfloat16 variant (VARIANT_AVX512_BF16, below) */
static const int floats_per_vector[4] = {4, 8, 16, 16};

/* Whether the dot form beats packing beyond FNN_SMALL_M_MAX rows. Each of its outputs ends in
 * a horizontal sum of its vector accumulators, which a short K does not pay for: at 1 thread
 * (Zen 4, us, dot against packed) 32 x 200 @ 200 x 800 (the LSTM's recurrent product) 190
 * against 140, 64 x 256 @ 256 x 1024 430 / 410, 32 x 400 @ 400 x 800 264 / 268, but
 * 32 x 512 @ 512 x 512 175 / 247 and 32 x 784 @ 784 x 256 126 / 157. A narrow product (the
 * classifier's 32 x 256 @ 256 x 10: 3.3 / 9.0) would pad most of a packed micro-panel. */
#define FNN_SMALL_WIDE_DOT_MIN_K 512
#define FNN_SMALL_WIDE_DOT_NARROW_N 32
static int dot_suits_wide(ptrdiff_t N, ptrdiff_t K)
{
    return K >= FNN_SMALL_WIDE_DOT_MIN_K || N <= FNN_SMALL_WIDE_DOT_NARROW_N;
}

int fnn_sgemm_small_form(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K, ptrdiff_t csa, ptrdiff_t rsb,
                         ptrdiff_t csb, int wide)
{
    if (M < 1 || M > (wide ? FNN_SMALL_M_WIDE : FNN_SMALL_M_MAX) || N < 1 || K < 1)
        return FNN_SMALL_NONE;
    const int few = M <= FNN_SMALL_M_MAX;
    /* The dot form reads all of A again for each block of 4 rows of W, the axpy form all of B
     * for each block of 4 rows of A: beyond a few rows that must come from L2, not memory (a
     * convolution's 32 x 288 @ 288 x 100352 im2col product would stream 115 MB 8 times). */
    if (rsb == 1 && csa == 1 && K >= 16 &&
        (few || ((double)M * K <= FNN_SMALL_REREAD_FLOATS && dot_suits_wide(N, K))))
        return FNN_SMALL_DOT;
    if (csb == 1 && N >= floats_per_vector[fnn_isa_active()] &&
        (few || (double)K * N <= FNN_SMALL_REREAD_FLOATS))
        return FNN_SMALL_AXPY;
    return FNN_SMALL_NONE;
}

/* The kernel variants: an enum fnn_isa, or this one (AVX-512 with bfloat16 rounding) */
#define VARIANT_AVX512_BF16 3

static void run_cols(int isa, int form, ptrdiff_t M, ptrdiff_t K, const float *A, ptrdiff_t rsa,
                     ptrdiff_t csa, const float *B, ptrdiff_t rsb, ptrdiff_t csb, float *C,
                     ptrdiff_t ldc, ptrdiff_t n0, ptrdiff_t n1, const float *bias, int relu,
                     int accumulate)
{
    if (form == FNN_SMALL_DOT) {
#if defined(__x86_64__) && defined(__GNUC__)
        if (isa == VARIANT_AVX512_BF16)
            dot_cols_avx512_bf16(M, K, A, rsa, B, csb, C, ldc, n0, n1, bias, relu, accumulate);
        else
#endif
        if (isa == FNN_ISA_AVX512)
            dot_cols_avx512(M, K, A, rsa, B, csb, C, ldc, n0, n1, bias, relu, accumulate);
        else if (isa == FNN_ISA_AVX2)
            dot_cols_avx2(M, K, A, rsa, B, csb, C, ldc, n0, n1, bias, relu, accumulate);
        else
            dot_cols_generic(M, K, A, rsa, B, csb, C, ldc, n0, n1, bias, relu, accumulate);
    } else {
#if defined(__x86_64__) && defined(__GNUC__)
        if (isa == VARIANT_AVX512_BF16)
            axpy_cols_avx512_bf16(M, K, A, rsa, csa, B, rsb, C, ldc, n0, n1, bias, relu,
                                  accumulate);
        else
#endif
        if (isa == FNN_ISA_AVX512)
            axpy_cols_avx512(M, K, A, rsa, csa, B, rsb, C, ldc, n0, n1, bias, relu, accumulate);
        else if (isa == FNN_ISA_AVX2)
            axpy_cols_avx2(M, K, A, rsa, csa, B, rsb, C, ldc, n0, n1, bias, relu, accumulate);
        else
            axpy_cols_generic(M, K, A, rsa, csa, B, rsb, C, ldc, n0, n1, bias, relu, accumulate);
    }
}

static void small_product(int isa, int form, int threads, ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                          const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                          const float *B, ptrdiff_t rsb, ptrdiff_t csb,
                          float *C, ptrdiff_t ldc, const float *bias, int relu, int accumulate)
{
    /* Columns are split in whole units: 4 rows of W (dot form) or 4 vectors (axpy form), and
     * never so finely that a thread has less than one unit. */
    const ptrdiff_t unit = form == FNN_SMALL_DOT ? 4 : 4 * floats_per_vector[isa];
    const ptrdiff_t units = (N + unit - 1) / unit;
    if (threads > units) threads = (int)units;
    if (threads <= 1) {
        run_cols(isa, form, M, K, A, rsa, csa, B, rsb, csb, C, ldc, 0, N, bias, relu, accumulate);
        return;
    }
    fnn_region region = {.start = fnn_now_ns(), .threads = threads};
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        const ptrdiff_t n0 = units * t / nt * unit;
        ptrdiff_t n1 = units * (t + 1) / nt * unit;
        if (n1 > N) n1 = N;
        if (n1 > n0)
            run_cols(isa, form, M, K, A, rsa, csa, B, rsb, csb, C, ldc, n0, n1, bias, relu,
                     accumulate);
        FNN_REGION_DONE(&region, t, (double)(n1 > n0 ? n1 - n0 : 0));
    }
#endif
    fnn_region_judge(&region, fnn_now_ns());
}

void fnn_sgemm_small(int form, int threads, ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                     const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                     const float *B, ptrdiff_t rsb, ptrdiff_t csb,
                     float *C, ptrdiff_t ldc, const float *bias, int relu, int accumulate)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_GEMM_SMALL], 1, __ATOMIC_RELAXED);
    small_product(fnn_isa_active(), form, threads, M, N, K, A, rsa, csa, B, rsb, csb, C, ldc,
                  bias, relu, accumulate);
}

void fnn_sgemm_small_bf16(int form, int threads, ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                          const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                          const float *B, ptrdiff_t rsb, ptrdiff_t csb,
                          float *C, ptrdiff_t ldc, const float *bias, int relu, int accumulate)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_GEMM_SMALL], 1, __ATOMIC_RELAXED);
    small_product(VARIANT_AVX512_BF16, form, threads, M, N, K, A, rsa, csa, B, rsb, csb, C, ldc,
                  bias, relu, accumulate);
}
