/* Single-precision GEMM driver: packing, the five Goto loops, threading and the epilogue.
 * The micro-kernels (gemm_ukernel_*.c) and block sizes (gemm_config.h) are chosen at run time
 * by cpu_dispatch.c. Reference: Goto & van de Geijn, ACM TOMS 34(3), 2008; BLIS frame/3/gemm.
 *
 * Results are bitwise reproducible for any thread count: every element of C is reduced over K
 * in the same order (same KC blocks, same micro-kernel), threads only split C into blocks.
 */
#include "fastnn_kernels.h"
#include "gemm_config.h"
#include "gemm_small.h"
#include "gemm_grid.h"

#define FNN_VARIANTS_FILE "gemm_epilogue.h"
#include "isa_variants.h"

#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#include <xmmintrin.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

extern long long fnn_call_counts[FNN_K_COUNT];

/* Packing buffers live per thread and grow on demand, one per slot (the GEMM's packing; the
 * convolution drivers' buffers, which are in use while they call the GEMM): allocating ~1 MiB per call would cost
 * page faults comparable to a small product. A thread's buffer is freed when the thread exits
 * (a pthread key destructor): a program that runs products on short-lived threads (a thread
 * pool recycling its workers) otherwise leaked one buffer per thread, 373 MiB over 300
 * threads doing one 512x512 product each (issue 11). libgomp's own workers persist, and so
 * do theirs. */
#if defined(_WIN32)
static __declspec(thread) float *tls_buf[FNN_SCRATCH_SLOTS];
static __declspec(thread) size_t tls_cap[FNN_SCRATCH_SLOTS];

float *fnn_thread_scratch(int slot, size_t floats)
{
    if (floats > tls_cap[slot]) {
        free(tls_buf[slot]);
        tls_cap[slot] = 0;
        tls_buf[slot] = fnn_aligned_malloc(64, floats * sizeof(float));
        if (!tls_buf[slot]) return NULL;
        tls_cap[slot] = floats;
    }
    return tls_buf[slot];
}
#else
#include <pthread.h>

typedef struct {
    float *buf[FNN_SCRATCH_SLOTS];
    size_t cap[FNN_SCRATCH_SLOTS];
} pack_space;

static pthread_key_t pack_key;
static pthread_once_t pack_key_once = PTHREAD_ONCE_INIT;
static int pack_key_ok = 0;

static void pack_space_free(void *p)
{
    pack_space *space = p;
    for (int slot = 0; slot < FNN_SCRATCH_SLOTS; ++slot) free(space->buf[slot]);
    free(space);
}

static void pack_key_create(void) { pack_key_ok = pthread_key_create(&pack_key, pack_space_free) == 0; }

float *fnn_thread_scratch(int slot, size_t floats)
{
    pthread_once(&pack_key_once, pack_key_create);
    if (!pack_key_ok) return NULL;
    pack_space *space = pthread_getspecific(pack_key);
    if (!space) {
        space = calloc(1, sizeof *space);
        if (!space) return NULL;
        if (pthread_setspecific(pack_key, space) != 0) {
            free(space);
            return NULL;
        }
    }
    if (floats > space->cap[slot]) {
        free(space->buf[slot]);
        space->cap[slot] = 0;
        space->buf[slot] = fnn_aligned_malloc(64, floats * sizeof(float));
        if (!space->buf[slot]) return NULL;
        space->cap[slot] = floats;
    }
    return space->buf[slot];
}
#endif

float *fnn_gemm_scratch(size_t floats) { return fnn_thread_scratch(FNN_SCRATCH_GEMM, floats); }

/* Pack `width` rows of a row-major source (row stride ld), each `kc` long, into a k-major
 * panel: dst[k * width + r] = src[r * ld + k]. This is the transpose that packing a row-major A
 * (x in x @ W^T) or a B = W^T needs. It runs in 4 x 4 blocks held in SSE registers (baseline
 * x86-64, so no dispatch): four rows are read sequentially and every store is a contiguous
 * 16 bytes, instead of one scalar move per element. Widths that are not a multiple of 4 (the
 * AVX2 kernel's MR of 6) take the scalar loop. */
void fnn_transpose_into_panel(const float *src, ptrdiff_t ld, int width, ptrdiff_t kc,
                              float *dst)
{
    ptrdiff_t k = 0;
#if defined(__SSE2__)
    for (; width % 4 == 0 && k + 4 <= kc; k += 4) {
        for (int r = 0; r < width; r += 4) {
            const float *s = src + r * ld + k;
            fnn_transpose_4x4(s, s + ld, s + 2 * ld, s + 3 * ld, dst + k * width + r, width);
        }
    }
#endif
    for (; k < kc; ++k)
        for (int r = 0; r < width; ++r) dst[k * width + r] = src[r * ld + k];
}

/* Rows past mc are zero so the micro-kernel never needs an edge case. */
void fnn_gemm_pack_a(int mr, ptrdiff_t mc, ptrdiff_t kc,
                   const float *A, ptrdiff_t rsa, ptrdiff_t csa, float *Ap)
{
    for (ptrdiff_t i0 = 0; i0 < mc; i0 += mr) {
        const int rows = (int)fnn_min_pd(mr, mc - i0);
        float *dst = Ap + i0 * kc;
        if (csa == 1 && rows == mr) {
            fnn_transpose_into_panel(A + i0 * rsa, rsa, mr, kc, dst);
        } else if (csa == 1) {
            for (int i = 0; i < rows; ++i) {
                const float *src = A + (i0 + i) * rsa;
                for (ptrdiff_t k = 0; k < kc; ++k) dst[k * mr + i] = src[k];
            }
        } else {
            for (ptrdiff_t k = 0; k < kc; ++k) {
                const float *src = A + i0 * rsa + k * csa;
                for (int i = 0; i < rows; ++i) dst[k * mr + i] = src[i * rsa];
            }
        }
        if (rows < mr)
            for (ptrdiff_t k = 0; k < kc; ++k)
                for (int i = rows; i < mr; ++i) dst[k * mr + i] = 0.0f;
    }
}

/* Bp holds ceil(nc/nr) micro-panels, each kc x nr with the nr values of one k contiguous. */
static void pack_b(int nr, ptrdiff_t kc, ptrdiff_t nc,
                   const float *B, ptrdiff_t rsb, ptrdiff_t csb, float *Bp)
{
    for (ptrdiff_t j0 = 0; j0 < nc; j0 += nr) {
        const int cols = (int)fnn_min_pd(nr, nc - j0);
        float *dst = Bp + j0 * kc;
        if (csb == 1) {
            for (ptrdiff_t k = 0; k < kc; ++k) {
                memcpy(dst + k * nr, B + k * rsb + j0, (size_t)cols * sizeof(float));
                for (int j = cols; j < nr; ++j) dst[k * nr + j] = 0.0f;
            }
        } else if (rsb == 1 && cols == nr) {
            fnn_transpose_into_panel(B + j0 * csb, csb, nr, kc, dst); /* B = W^T, W row-major */
        } else {
            for (int j = 0; j < cols; ++j) {
                const float *src = B + (j0 + j) * csb;
                for (ptrdiff_t k = 0; k < kc; ++k) dst[k * nr + j] = src[k * rsb];
            }
            if (cols < nr)
                for (ptrdiff_t k = 0; k < kc; ++k)
                    for (int j = cols; j < nr; ++j) dst[k * nr + j] = 0.0f;
        }
    }
}

/* bias + ReLU on a finished tile while it is still in L1. ReLU keeps NaN (as torch.relu).
 * Dispatched without FNN_ISA_CALL's counter: it runs once per tile, and an atomic add per
 * tile from every thread would bounce that counter's cache line between the cores. */
void fnn_gemm_epilogue(float *c, ptrdiff_t ldc, int rows, int cols, const float *bias, int relu)
{
    switch (fnn_isa_active()) {
    case FNN_ISA_AVX512: epilogue_tile_avx512(c, ldc, rows, cols, bias, relu); break;
    case FNN_ISA_AVX2: epilogue_tile_avx2(c, ldc, rows, cols, bias, relu); break;
    default: epilogue_tile_generic(c, ldc, rows, cols, bias, relu);
    }
}

/* Where the micro-kernel reads A: from packed micro-panels (Ap, each kc x mr), or, when packing
 * A is skipped, in place with A's own strides. In place, only a partial micro-panel at the
 * bottom edge is still packed (zero-padded) into Ap at its usual offset. */
typedef struct {
    const float *A;
    ptrdiff_t rsa, csa;
    const float *Ap;
    int in_place;
} a_source;

/* Products with nothing to multiply: no output (M or N is 0), or K = 0, where C is 0 (or kept,
 * when accumulating) before the epilogue. Returns whether the product was one of these. */
static int empty_product(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K, float *C, ptrdiff_t ldc,
                         const float *bias, int relu, int accumulate)
{
    if (M > 0 && N > 0 && K > 0) return 0;
    for (ptrdiff_t i = 0; K <= 0 && N > 0 && i < M; ++i) {
        if (!accumulate) memset(C + i * ldc, 0, (size_t)N * sizeof(float));
        fnn_gemm_epilogue(C + i * ldc, ldc, 1, (int)N, bias, relu);
    }
    return 1;
}

/* The two innermost loops around the micro-kernel: every MR x NR tile of an mc x nc block of
 * C from A (mc x kc, see a_source) and packed B (kc x nc). */
static void macro_kernel(const fnn_gemm_config *cfg, ptrdiff_t mc, ptrdiff_t nc, ptrdiff_t kc,
                         const a_source *a, const float *Bp, float *C, ptrdiff_t ldc, int acc,
                         int last, const float *bias, int relu)
{
    const int mr = cfg->mr, nr = cfg->nr;
    float tile[FNN_MR_MAX * FNN_NR_MAX] __attribute__((aligned(64)));
    const int epilogue = last && (bias || relu);
    for (ptrdiff_t jr = 0; jr < nc; jr += nr) {
        const int cols = (int)fnn_min_pd(nr, nc - jr);
        for (ptrdiff_t ir = 0; ir < mc; ir += mr) {
            const int rows = (int)fnn_min_pd(mr, mc - ir);
            float *c = C + ir * ldc + jr;
            const int full = rows == mr && cols == nr;
            float *dst = full ? c : tile;
            const ptrdiff_t lddst = full ? ldc : nr;
            const int accumulate = full ? acc : 0;
            /* C's lines of this tile, requested now: they are rarely in cache (write-allocate
             * misses), and the epilogue below reads them straight after the micro-kernel's
             * stores, so every tile waited for them; a bias on a 1120 x 200 x 800 product
             * took 8.5% of it (3.66 against 3.37 ms, Zen 4). Over the k loop they arrive. */
            if (full && epilogue)
                for (int i = 0; i < rows; ++i) {
                    __builtin_prefetch(c + i * ldc, 1, 3);
                    __builtin_prefetch(c + i * ldc + cols - 1, 1, 3);
                }
            if (a->in_place && rows == mr)
                cfg->kernel_strided(kc, a->A + ir * a->rsa, a->rsa, a->csa, Bp + jr * kc, dst,
                                    lddst, accumulate);
            else
                cfg->kernel(kc, a->Ap + ir * kc, Bp + jr * kc, dst, lddst, accumulate);
            if (!full)
                for (int i = 0; i < rows; ++i)
                    for (int j = 0; j < cols; ++j)
                        c[i * ldc + j] = acc ? c[i * ldc + j] + tile[i * nr + j] : tile[i * nr + j];
            if (epilogue) fnn_gemm_epilogue(c, ldc, rows, cols, bias ? bias + jr : NULL, relu);
        }
    }
}

/* Rows [m0, m1) of C against one packed panel of B: the MC loop (pack A unless it is read in
 * place, run the macro-kernel). Ap is this thread's buffer of mc_max * kc floats. */
static void gemm_rows(const fnn_gemm_config *cfg, ptrdiff_t m0, ptrdiff_t m1, ptrdiff_t mc_max,
                      ptrdiff_t nc, ptrdiff_t kc, const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                      int a_in_place, const float *Bp, float *Ap, float *C, ptrdiff_t ldc,
                      int acc, int last, const float *bias, int relu)
{
    for (ptrdiff_t ic = m0; ic < m1; ic += mc_max) {
        const ptrdiff_t mc = fnn_min_pd(mc_max, m1 - ic);
        FNN_ASSERT_RANGE(ic, ic + mc, 1, m1);
        FNN_ASSERT_INDEX(mc * kc - 1, mc_max * kc); /* the packed A block fits its buffer */
        const float *block = A + ic * rsa;
        const ptrdiff_t packed_from = a_in_place ? mc / cfg->mr * cfg->mr : 0;
        if (packed_from < mc)
            fnn_gemm_pack_a(cfg->mr, mc - packed_from, kc, block + packed_from * rsa, rsa, csa,
                   Ap + packed_from * kc);
        const a_source a = {block, rsa, csa, Ap, a_in_place};
        macro_kernel(cfg, mc, nc, kc, &a, Bp, C + ic * ldc, ldc, acc, last, bias, relu);
    }
}

/* Whether the micro-kernel's 12 rows of A, read in place, would share L1 sets: rows a multiple
 * of 2 KiB apart fall in one or two of the 64 sets of a 32 KiB 8-way L1 (Zen 4's; 48 KiB
 * 12-way on Zen 5 and Sapphire Rapids), more lines than it has ways, so each k step evicted
 * the lines the next one needs. Packing A (one contiguous stream) took 1024^3 at 1 thread from
 * 74-95 to 103-105 GFLOP/s and 2048^3 from 93-98 to 104-106 on Zen 4; rows 1040 floats apart
 * ran at 102-107 either way (issue 12). */
#define L1_ALIAS_STRIDE_FLOATS 512
static int rows_alias_in_l1(ptrdiff_t rsa, ptrdiff_t csa)
{
    return csa == 1 && rsa % L1_ALIAS_STRIDE_FLOATS == 0;
}

static int gemm_serial(const fnn_gemm_config *cfg, ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                        const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                        const float *B, ptrdiff_t rsb, ptrdiff_t csb,
                        float *C, ptrdiff_t ldc, const float *bias, int relu, int accumulate)
{
    const ptrdiff_t kc_max = fnn_balanced_block(K, cfg->kc, 1);
    const ptrdiff_t mc_max = fnn_balanced_block(M, cfg->mc, cfg->mr);
    const ptrdiff_t nc_max = fnn_min_pd(cfg->nc, fnn_round_up(N, cfg->nr));
    float *buf = fnn_gemm_scratch((size_t)(mc_max * kc_max + nc_max * kc_max));
    if (!buf) return FNN_ENOMEM;
    float *Ap = buf, *Bp = buf + mc_max * kc_max;
    /* Packing A costs one pass over it per KC block and pays back on each of the nc/nr times
     * the micro-kernel reads it. With few reads (up to 16 panels) reading A in place was
     * faster on Zen 5, side by side: 3-6% on the MLP's 256x784x256 products, 20% on 256x256x10
     * and 13% on a 2-thread MLP epoch, where x arrives cold from memory; from 32 panels on
     * (1024^3 in 1024-wide panels) packing won by 2-3%. With AVX-512's NC of 512 (gemm_config.h) A is
     * therefore always read in place there; the AVX2 and generic kernels always pack it. BLIS
     * makes the same choice in its "sup" path for small sizes. */
    const int a_in_place = cfg->kernel_strided != NULL && fnn_ceil_div(nc_max, cfg->nr) <= 16 &&
                           !rows_alias_in_l1(rsa, csa);

    for (ptrdiff_t jc = 0; jc < N; jc += nc_max) {
        const ptrdiff_t nc = fnn_min_pd(nc_max, N - jc);
        for (ptrdiff_t pc = 0; pc < K; pc += kc_max) {
            const ptrdiff_t kc = fnn_min_pd(kc_max, K - pc);
            FNN_ASSERT_RANGE(jc, jc + nc, 1, N);
            FNN_ASSERT_RANGE(pc, pc + kc, 1, K);
            FNN_ASSERT_INDEX(fnn_round_up(nc, cfg->nr) * kc - 1, nc_max * kc_max); /* packed B fits */
            pack_b(cfg->nr, kc, nc, B + pc * rsb + jc * csb, rsb, csb, Bp);
            gemm_rows(cfg, 0, M, mc_max, nc, kc, A + pc * csa, rsa, csa, a_in_place, Bp, Ap,
                      C + jc, ldc,
                      accumulate || pc > 0, pc + kc == K, bias ? bias + jc : NULL, relu);
        }
    }
    return FNN_OK;
}

static int gemm_serial_args(const void *cfg, const fnn_gemm_args *p)
{
    return gemm_serial(cfg, p->M, p->N, p->K, (const float *)p->A, p->rsa, p->csa,
                       (const float *)p->B, p->rsb, p->csb, p->C,
                       p->ldc, p->bias, p->relu, p->accumulate);
}

/* A matrix times a vector (N == 1: torch.mv and torch.dot, d2l's column-at-a-time product
 * A[:, j] = mv(B, C[:, j])) is a one-row product transposed, c^T = b^T A^T, which the few-row
 * kernels compute reading A in place: the dot form over A's contiguous rows, or the axpy form
 * over its contiguous columns. A strided b (a column of a matrix) is copied first for the dot
 * form (K floats). The packed path packed all of A for one output column: 45 us for
 * 256 x 256 against torch's 15. Returns 0 where neither form fits (no bias: the transposed
 * kernels would add one bias per row of A). c is contiguous (ldc == 1, or one element). */
static int matrix_vector(int threads, ptrdiff_t M, ptrdiff_t K, const float *A, ptrdiff_t rsa,
                         ptrdiff_t csa, const float *b, ptrdiff_t rsb, float *c, int relu,
                         int accumulate)
{
    /* A' = b^T (1 x K, column stride rsb), B' = A^T (K x M: row stride csa, column stride rsa) */
    int form = fnn_sgemm_small_form(1, M, K, 1, csa, rsa, 1);
    if (form == FNN_SMALL_NONE) return 0;
    if (form == FNN_SMALL_DOT && rsb != 1) {
        float *copy = fnn_gemm_scratch((size_t)K);
        if (!copy) return 0;
        for (ptrdiff_t k = 0; k < K; ++k) copy[k] = b[k * rsb];
        b = copy;
        rsb = 1;
    }
    if ((double)M * (double)K < FNN_GEMM_PARALLEL_MIN_WORK) threads = 1;
    fnn_sgemm_small(form, threads, 1, M, K, b, K * rsb, rsb, A, csa, rsa, c, M, NULL, relu,
                    accumulate);
    return 1;
}

int fnn_sgemm(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
              const float *A, ptrdiff_t rsa, ptrdiff_t csa,
              const float *B, ptrdiff_t rsb, ptrdiff_t csb,
              float *C, ptrdiff_t ldc, const float *bias, int relu, int accumulate)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_GEMM], 1, __ATOMIC_RELAXED);
    if (empty_product(M, N, K, C, ldc, bias, relu, accumulate)) return FNN_OK;
    const fnn_gemm_config *cfg = &fnn_gemm_configs[fnn_isa_active()];
    int threads = fnn_region_threads();
    if (N == 1 && bias == NULL && (ldc == 1 || M == 1) &&
        matrix_vector(threads, M, K, A, rsa, csa, B, rsb, C, relu, accumulate))
        return FNN_OK;
    const int small_form = fnn_sgemm_small_form(M, N, K, csa, rsb, csb, 1);
    if (small_form != FNN_SMALL_NONE) {
        if ((double)M * (double)N * (double)K < FNN_GEMM_PARALLEL_MIN_WORK) threads = 1;
        fnn_sgemm_small(small_form, threads, M, N, K, A, rsa, csa, B, rsb, csb, C, ldc, bias,
                        relu, accumulate);
        return FNN_OK;
    }
    /* Small products, and shallow ones (K below 16: writing the M x N output is the work, as
     * in the MLP's 256x10 @ 10x256 input gradient, 7.9 us on one thread, 14 us on two), do
     * not pay for a fork/join. */
    if ((double)M * (double)N * (double)K < FNN_GEMM_PARALLEL_MIN_WORK || K < 16) threads = 1;
    /* Each thread computes its own block of C with its own packed copies of what it needs.
     * Sharing one packed B panel between threads (BLIS's scheme) measured 5-25% slower here
     * whenever the host placed the two vCPUs apart, since each core then reads the half of
     * the panel the other packed; private packing costs a duplicated pack but is steady. */
    const fnn_gemm_args p = {M, N, K, A, rsa, csa, B, rsb, csb, C, ldc, bias, relu, accumulate};
    return fnn_gemm_run_team(threads, cfg->mr, cfg->nr, &p, gemm_serial_args, cfg);
}

int fnn_gemm_run_team(int threads, int mr, int nr, const fnn_gemm_args *p,
                      fnn_gemm_serial_fn serial, const void *ctx)
{
    int tm, tn;
    threads = fnn_gemm_team(threads, p->M, p->N, mr, nr, &tm, &tn);
    if (threads <= 1) return serial(ctx, p);
    int status = FNN_OK;
    fnn_region region = {.start = fnn_now_ns(), .threads = threads};
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
    {
        const int t = omp_get_thread_num();
        ptrdiff_t m0, m1, n0, n1;
        fnn_gemm_block(t, tm, tn, p->M, p->N, mr, nr, &m0, &m1, &n0, &n1);
        const fnn_gemm_args block = {m1 - m0, n1 - n0, p->K,
                                     fnn_operand_at(p->A, m0 * p->rsa, p->half), p->rsa, p->csa,
                                     fnn_operand_at(p->B, n0 * p->csb, p->half), p->rsb, p->csb,
                                     p->C ? p->C + m0 * p->ldc + n0 : NULL, p->ldc,
                                     p->bias ? p->bias + n0 : NULL, p->relu, p->accumulate,
                                     p->half, p->C16 ? p->C16 + m0 * p->ldc + n0 : NULL};
        if (m1 > m0 && n1 > n0 && serial(ctx, &block))
            __atomic_store_n(&status, FNN_ENOMEM, __ATOMIC_RELAXED);
        FNN_REGION_DONE(&region, t, (double)(m1 - m0) * (double)(n1 - n0));
    }
#endif
    fnn_region_judge(&region, fnn_now_ns());
    return status;
}

/* The same product on the calling thread only: for kernels that are already parallel over
 * something else (convolution over the batch) and call GEMM from inside their own team. */
int fnn_sgemm_serial(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                     const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                     const float *B, ptrdiff_t rsb, ptrdiff_t csb,
                     float *C, ptrdiff_t ldc, const float *bias, int relu, int accumulate)
{
    if (empty_product(M, N, K, C, ldc, bias, relu, accumulate)) return FNN_OK;
    return gemm_serial(&fnn_gemm_configs[fnn_isa_active()], M, N, K, A, rsa, csa, B, rsb, csb, C, ldc,
                bias, relu, accumulate);
}
