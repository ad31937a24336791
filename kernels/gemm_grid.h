/* What the float32 and bfloat16 GEMM drivers (gemm.c, gemm_bf16.c) share. */
#ifndef FASTNN_GEMM_GRID_H
#define FASTNN_GEMM_GRID_H
#include <stddef.h>
#include <stdint.h>

static inline ptrdiff_t fnn_min_pd(ptrdiff_t a, ptrdiff_t b) { return a < b ? a : b; }
static inline ptrdiff_t fnn_max_pd(ptrdiff_t a, ptrdiff_t b) { return a > b ? a : b; }
static inline ptrdiff_t fnn_ceil_div(ptrdiff_t a, ptrdiff_t b) { return (a + b - 1) / b; }
static inline ptrdiff_t fnn_round_up(ptrdiff_t a, ptrdiff_t b) { return fnn_ceil_div(a, b) * b; }

/* Split `total` into ceil(total/cap) near-equal blocks, each a multiple of `unit`, so that a
 * 784-deep product runs as 4 x 196 rather than 3 x 256 + 16 (a short last block wastes the
 * packing and the loop overhead of a whole pass). */
static inline ptrdiff_t fnn_balanced_block(ptrdiff_t total, ptrdiff_t cap, ptrdiff_t unit)
{
    const ptrdiff_t blocks = fnn_ceil_div(total, cap);
    return fnn_min_pd(cap, fnn_round_up(fnn_ceil_div(total, blocks), unit));
}

/* Whether an M x N product runs better as its transpose (N x M, operands swapped): the
 * micro-kernel pads M up to mr and N up to nr, so take the orientation with less padding, and
 * on a tie the one with the longer side as M. (128,32,14,14) -> 64, 3x3, on Zen 5: the
 * forward's W (64 x 288) @ col ran at 184 GFLOP/s, col^T @ W^T at 237; the weight gradient
 * likewise (issue 12). */
static inline int fnn_transpose_pads_less(int mr, int nr, ptrdiff_t M, ptrdiff_t N)
{
    const double as_is = (double)fnn_round_up(M, mr) * (double)fnn_round_up(N, nr);
    const double swapped = (double)fnn_round_up(N, mr) * (double)fnn_round_up(M, nr);
    return swapped < as_is || (swapped == as_is && N > M);
}

/* This thread's scratch in `slot`, at least `floats` 4-byte words, 64-byte aligned, kept and
 * grown across calls, freed when the thread exits (gemm.c); NULL when the allocation fails.
 * fnn_gemm_scratch is the GEMM drivers' slot. */
enum { FNN_SCRATCH_GEMM, FNN_SCRATCH_CONV, FNN_SCRATCH_SLOTS };
float *fnn_thread_scratch(int slot, size_t floats);
float *fnn_gemm_scratch(size_t floats);

/* dst[k * width + r] = src[r * ld + k] for r < width, k < kc: 4-byte words moved bit for bit
 * (float32 values, or bfloat16 pairs), in 4 x 4 SSE blocks where width allows (gemm.c). */
void fnn_transpose_into_panel(const float *src, ptrdiff_t ld, int width, ptrdiff_t kc, float *dst);

#if defined(__SSE2__)
#include <xmmintrin.h>
/* dst[k * width + r] = rows[r][k] for a 4 x 4 block (r, k < 4), transposed in SSE registers:
 * four sequential reads and four contiguous 16-byte stores instead of sixteen scalar moves. */
static inline void fnn_transpose_4x4(const float *r0, const float *r1, const float *r2,
                                     const float *r3, float *dst, ptrdiff_t width)
{
    __m128 a = _mm_loadu_ps(r0), b = _mm_loadu_ps(r1), c = _mm_loadu_ps(r2), d = _mm_loadu_ps(r3);
    _MM_TRANSPOSE4_PS(a, b, c, d);
    _mm_storeu_ps(dst, a);
    _mm_storeu_ps(dst + width, b);
    _mm_storeu_ps(dst + 2 * width, c);
    _mm_storeu_ps(dst + 3 * width, d);
}
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/* r[i][j] <-> r[j][i]: 16 rows of 16 floats transposed in registers (unpack, shuffle, then two
 * rounds of 128-bit lane shuffles). */
__attribute__((target("avx512f"))) static inline void fnn_transpose16x16(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xee);
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    for (int i = 0; i < 4; ++i) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
    }
    for (int i = 0; i < 4; ++i) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
        r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
        r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xdd);
    }
}
#endif

/* Ap = ceil(mc/mr) micro-panels of A (mc x kc, element (i, k) at A[i rsa + k csa]), each
 * kc x mr with the mr values of one k contiguous; rows past mc are zero (gemm.c). */
void fnn_gemm_pack_a(int mr, ptrdiff_t mc, ptrdiff_t kc, const float *A, ptrdiff_t rsa,
                     ptrdiff_t csa, float *Ap);

/* c[0:rows, 0:cols] (row stride ldc) += bias (per column), then ReLU (NaN kept), if set. */
void fnn_gemm_epilogue(float *c, ptrdiff_t ldc, int rows, int cols, const float *bias, int relu);

/* Threads split C into a tm x tn grid of blocks (whole micro-tiles each). Among the grids with
 * tm * tn == threads, pick the one whose blocks have the smallest half-perimeter: that is the
 * amount of A and B each thread must pack and stream. */
static inline void fnn_gemm_grid(int threads, ptrdiff_t M, ptrdiff_t N, int mr, int nr, int *tm,
                                 int *tn)
{
    double best = -1.0;
    *tm = 1;
    *tn = 1;
    for (int a = 1; a <= threads; ++a) {
        if (threads % a) continue;
        const int b = threads / a;
        if (a > (M + mr - 1) / mr || b > (N + nr - 1) / nr) continue;
        const double cost = (double)((M + a - 1) / a) + (double)((N + b - 1) / b);
        if (best < 0 || cost < best) {
            best = cost;
            *tm = a;
            *tn = b;
        }
    }
}

/* The team for an M x N product: the largest count up to `threads` whose grid gives every
 * thread at least one micro-tile, and that grid. */
static inline int fnn_gemm_team(int threads, ptrdiff_t M, ptrdiff_t N, int mr, int nr, int *tm,
                                int *tn)
{
    *tm = 1;
    *tn = 1;
    while (threads > 1) {
        fnn_gemm_grid(threads, M, N, mr, nr, tm, tn);
        if (*tm * *tn == threads) break;
        --threads; /* too few micro-tiles for this many threads */
    }
    return threads;
}

/* Thread t's block of C in the tm x tn grid: rows [*m0, *m1), columns [*n0, *n1), in whole
 * micro-tiles (possibly empty). */
static inline void fnn_gemm_block(int t, int tm, int tn, ptrdiff_t M, ptrdiff_t N, int mr, int nr,
                                  ptrdiff_t *m0, ptrdiff_t *m1, ptrdiff_t *n0, ptrdiff_t *n1)
{
    const int ti = t / tn, tj = t % tn;
    const ptrdiff_t mu = (M + mr - 1) / mr, nu = (N + nr - 1) / nr;
    *m0 = mu * ti / tm * mr;
    *m1 = mu * (ti + 1) / tm * mr;
    *n0 = nu * tj / tn * nr;
    *n1 = nu * (tj + 1) / tn * nr;
    if (*m0 > M) *m0 = M;
    if (*m1 > M) *m1 = M;
    if (*n0 > N) *n0 = N;
    if (*n1 > N) *n1 = N;
}

/* One product C (M x N, row stride ldc) (+)= A (M x K) @ B (K x N), strides as fnn_sgemm's, in
 * elements of A and B: float32, or bfloat16 storage (uint16) where `half` is set; C float32, or
 * rounded to bfloat16 storage in C16 (gemm_bf16.c only). */
typedef struct {
    ptrdiff_t M, N, K;
    const void *A;
    ptrdiff_t rsa, csa;
    const void *B;
    ptrdiff_t rsb, csb;
    float *C;
    ptrdiff_t ldc;
    const float *bias;
    int relu, accumulate;
    int half;
    uint16_t *C16; /* bfloat16 storage for C instead of C (row stride ldc), or NULL */
} fnn_gemm_args;

/* base + offset elements of an operand of fnn_gemm_args */
static inline const void *fnn_operand_at(const void *base, ptrdiff_t offset, int half)
{
    return half ? (const void *)((const uint16_t *)base + offset)
                : (const void *)((const float *)base + offset);
}

/* A driver's single-threaded product (ctx: its own settings); returns FNN_OK or FNN_ENOMEM. */
typedef int (*fnn_gemm_serial_fn)(const void *ctx, const fnn_gemm_args *p);

/* Run p on a team of up to `threads` (gemm.c): each thread takes its block of C in whole
 * mr x nr micro-tiles (fnn_gemm_team, fnn_gemm_block) and runs `serial` on it, the region
 * timed for the busy-core check; fewer than two usable threads run `serial` on the caller. */
int fnn_gemm_run_team(int threads, int mr, int nr, const fnn_gemm_args *p,
                      fnn_gemm_serial_fn serial, const void *ctx);

#endif
