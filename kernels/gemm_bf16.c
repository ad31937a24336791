/* bfloat16 GEMM with float32 accumulation, for autocast (issue 12): C = bf16(A) @ bf16(B), with
 * the same flags as fnn_sgemm (bias, ReLU, accumulate). A and B arrive in float32 and are
 * rounded to bfloat16 (round to nearest even, as VCVTNEPS2BF16 and torch's CPU casts) while
 * they are packed, so no bfloat16 copy of a whole operand is ever made. Products of bfloat16
 * pairs accumulate in float32 with VDPBF16PS (AVX512_BF16: 32 products per instruction, twice
 * VFMADD231PS's 16).
 *
 * Layout. VDPBF16PS multiplies 32-bit lanes holding two bfloat16 values, (x[k], x[k+1]), and
 * adds both products to the lane's float32 accumulator, so both operands are packed in k-pairs:
 *   A  row-major pairs, one row of KC/2 words per row of A, read in place by the micro-kernel
 *      (broadcast, as the float32 kernel reads A unpacked);
 *   B  micro-panels of NR = 32 columns, each KC/2 rows of 32 words (two zmm per k-pair).
 * The micro-kernel is the float32 one's 12 x 32 shape (gemm_config.h): 24 accumulators.
 * Reference: Intel's "bfloat16 - Hardware Numerics Definition" (2018) for the rounding; the
 * Goto/BLIS loops as in gemm.c.
 *
 * Results do not depend on the thread count (threads split C; every element is reduced over K
 * in one order). */
#include "fastnn_kernels.h"
#include "gemm_config.h"
#include "gemm_grid.h"
#include "gemm_small.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern long long fnn_call_counts[FNN_K_COUNT];

#define MR 12
#define NR 32
/* Block sizes chosen by measurement on Zen 5 (1 thread, 1024^3 and 256x784x256; FNN_BF16_KC and
 * FNN_BF16_MC override them at build time for re-tuning): KC 2048 (1024 k-pairs) keeps the
 * whole K of the MLP's layers in one block, so C is loaded and stored once; a B micro-panel
 * (1024 x 128 B = 128 KiB) streams from L2 while the 12-row A sliver stays in L1. KC 768 was
 * 2-4% slower. MC 240: A's block (240 x 2048 x 2 B = 960 KiB) fits Zen 5's 1 MiB L2. NC 2048:
 * A's block is converted once per 2048 columns of C (at 1024^3, once in all). */
#ifndef FNN_BF16_KC
#define FNN_BF16_KC 2048
#endif
#ifndef FNN_BF16_MC
#define FNN_BF16_MC 240
#endif
#define KC FNN_BF16_KC
#define MC FNN_BF16_MC
#define NC 2048

/* float32 -> bfloat16, round to nearest even; NaN stays a (quiet) NaN; denormal inputs become
 * signed zeros, as VCVTNEPS2BF16 does, so that the scalar edges round as the vectors do. */
static inline uint32_t bf16_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu)) return (u >> 16) | 0x40u;
    if ((u & 0x7f800000u) == 0) return (u >> 16) & 0x8000u;
    return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}

static inline uint32_t pair_word(float lo, float hi)
{
    return bf16_bits(lo) | (bf16_bits(hi) << 16);
}

int fnn_bf16_supported(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") &&
           fnn_isa_active() == FNN_ISA_AVX512;
#else
    return 0;
#endif
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#include "ukernel_12x32.h"
#define TARGET_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,fma")))

/* ldd lines of kp_n pair words, line r at src + r * ld, as a micro-panel: dst[kp * ldd + r].
 * Each line is read 64 bytes at a time (masked at its end, which reads nothing past it) and
 * 16 x 16 blocks are transposed in registers; a block's lines past ldd (12-row panels of A)
 * are zeros that are not stored. Bits are moved, never computed on. The 4 x 4 SSE transpose
 * (fnn_transpose_into_panel) read 16 bytes of each of 12 lines at a time: reading A's rows
 * in place that way took 4.5% of a 1024^3 product. */
TARGET_BF16 static void panel_from_lines(const uint32_t *src, ptrdiff_t ld, int ldd,
                                         ptrdiff_t kp_n, uint32_t *dst)
{
    for (int r0 = 0; r0 < ldd; r0 += 16) {
        const int rows = ldd - r0 < 16 ? ldd - r0 : 16;
        const __mmask16 store = (__mmask16)((1u << rows) - 1u);
        for (ptrdiff_t kp = 0; kp < kp_n; kp += 16) {
            const int words = kp_n - kp < 16 ? (int)(kp_n - kp) : 16;
            const __mmask16 load = (__mmask16)((1u << words) - 1u);
            __m512 r[16];
            for (int i = 0; i < 16; ++i)
                r[i] = i < rows ? _mm512_maskz_loadu_ps(load, src + (r0 + i) * ld + kp)
                                : _mm512_setzero_ps();
            fnn_transpose16x16(r);
            for (int i = 0; i < words; ++i)
                _mm512_mask_storeu_ps(dst + (kp + i) * ldd + r0, store, r[i]);
        }
    }
}

/* `width` lines of kp_n pair words each (lines[r * kp_n + kp]) as a micro-panel,
 * dst[kp * ldd + r], the lines past width zero pairs. */
TARGET_BF16 static void lines_to_panel(uint32_t *lines, ptrdiff_t width, ptrdiff_t kp_n,
                                       uint32_t *dst, ptrdiff_t ldd)
{
    if (width < ldd)
        memset(lines + width * kp_n, 0, (size_t)((ldd - width) * kp_n) * sizeof(uint32_t));
    panel_from_lines(lines, kp_n, (int)ldd, kp_n, dst);
}

/* One micro-panel of pairs: width (<= ldd) r-lines (rows of A, or columns of B) of depth kc
 * (even; terms past K are zero), element (r, k) at src[r * rs + k * cs], written as
 * dst[kp * ldd + r] (ldd = MR for A, NR for B); lines past width are zero pairs. */
TARGET_BF16 static void pack_pairs(const float *src, ptrdiff_t rs, ptrdiff_t cs, ptrdiff_t width,
                                   ptrdiff_t k_avail, ptrdiff_t kc, uint32_t *dst, ptrdiff_t ldd)
{
    const ptrdiff_t kp_n = kc / 2;
    if (cs == 1) {
        /* Along k the values are contiguous: 16 floats convert to 8 pair words. The lines are
         * converted side by side first, then transposed in 4 x 4 blocks. */
        uint32_t lines[NR * (KC / 2)]; /* ldd <= NR */
        for (ptrdiff_t r = 0; r < width; ++r) {
            const float *s = src + r * rs;
            uint32_t *out = lines + r * kp_n;
            ptrdiff_t k = 0;
            for (; k + 16 <= k_avail && k + 16 <= kc; k += 16) {
                __m256bh h = _mm512_cvtneps_pbh(_mm512_loadu_ps(s + k));
                _mm256_storeu_si256((__m256i *)(out + k / 2), (__m256i)h);
            }
            for (; k < kc; k += 2)
                out[k / 2] = pair_word(k < k_avail ? s[k] : 0.0f,
                                       k + 1 < k_avail ? s[k + 1] : 0.0f);
        }
        lines_to_panel(lines, width, kp_n, dst, ldd);
        return;
    }
    if (width < ldd)
        memset(dst, 0, (size_t)(kp_n * ldd) * sizeof(uint32_t));
    if (rs == 1) {
        /* Across r the values are contiguous: two k rows of 16 r-values each convert to one
         * vector of 32 bfloat16, interleaved into 16 pair words (r, (k, k+1)). */
        static const uint16_t interleave[32] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22,
                                                7, 23, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28,
                                                13, 29, 14, 30, 15, 31};
        const __m512i idx = _mm512_loadu_si512(interleave);
        for (ptrdiff_t kp = 0; kp < kp_n; ++kp) {
            const ptrdiff_t k = 2 * kp;
            const float *s0 = src + k * cs, *s1 = src + (k + 1) * cs;
            for (ptrdiff_t r0 = 0; r0 < width; r0 += 16) {
                const int lanes = (int)fnn_min_pd(16, width - r0);
                const __mmask16 m = (__mmask16)((1u << lanes) - 1u);
                const __m512 zero = _mm512_setzero_ps();
                const __m512 lo = k < k_avail ? _mm512_maskz_loadu_ps(m, s0 + r0) : zero;
                const __m512 hi = k + 1 < k_avail ? _mm512_maskz_loadu_ps(m, s1 + r0) : zero;
                const __m512i words =
                    _mm512_permutexvar_epi16(idx, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
                _mm512_mask_storeu_epi32(dst + kp * ldd + r0, m, words);
            }
        }
        return;
    }
    for (ptrdiff_t r = 0; r < width; ++r)
        for (ptrdiff_t kp = 0; kp < kp_n; ++kp) {
            const ptrdiff_t k = 2 * kp;
            dst[kp * ldd + r] = pair_word(k < k_avail ? src[r * rs + k * cs] : 0.0f,
                                          k + 1 < k_avail ? src[r * rs + (k + 1) * cs] : 0.0f);
        }
}

/* pack_pairs for operands already in bfloat16 storage (uint16, as torch's bfloat16 tensors):
 * nothing to round, and half the bytes to read. Along k a pair (k, k+1) is two adjacent
 * values, so a line of pairs is the line itself read as 32-bit words; across r two k rows of
 * 16 values widen to the 16 pair words (r, (k, k+1)). */
TARGET_BF16 static void pack_pairs_half(const uint16_t *src, ptrdiff_t rs, ptrdiff_t cs,
                                        ptrdiff_t width, ptrdiff_t k_avail, ptrdiff_t kc,
                                        uint32_t *dst, ptrdiff_t ldd)
{
    const ptrdiff_t kp_n = kc / 2;
    if (cs == 1) {
        const ptrdiff_t whole = (k_avail < kc ? k_avail : kc) / 2; /* pairs with both values */
        if (width == ldd && 2 * whole == kc && rs % 2 == 0 && (uintptr_t)src % 4 == 0) {
            /* a full panel of whole pairs: its lines are rows of aligned 32-bit words, moved
             * straight into the panel (copying them out first was 2.8% of a 1024^3 product) */
            panel_from_lines((const uint32_t *)(const void *)src, rs / 2, (int)ldd, kp_n, dst);
            return;
        }
        uint32_t lines[NR * (KC / 2)]; /* ldd <= NR */
        for (ptrdiff_t r = 0; r < width; ++r) {
            const uint16_t *line = src + r * rs;
            uint32_t *out = lines + r * kp_n;
            memcpy(out, line, (size_t)whole * sizeof(uint32_t));
            for (ptrdiff_t kp = whole; kp < kp_n; ++kp) /* the odd last value, then zeros */
                out[kp] = 2 * kp < k_avail ? line[2 * kp] : 0u;
        }
        lines_to_panel(lines, width, kp_n, dst, ldd);
        return;
    }
    if (width < ldd)
        memset(dst, 0, (size_t)(kp_n * ldd) * sizeof(uint32_t));
    if (rs == 1) {
        /* 32 values of row k and of row k+1 interleave as words within each 128-bit lane;
         * a two-source permute puts the lanes in column order (half the instructions of
         * widening 16 at a time, which was 4% of a 1024^3 product) */
        const __m512i first = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0);
        const __m512i second = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
        for (ptrdiff_t kp = 0; kp < kp_n; ++kp) {
            const ptrdiff_t k = 2 * kp;
            const uint16_t *s0 = src + k * cs, *s1 = src + (k + 1) * cs;
            ptrdiff_t r0 = 0;
            if (k + 1 < k_avail)
                for (; r0 + 32 <= width; r0 += 32) {
                    const __m512i lo = _mm512_loadu_si512(s0 + r0);
                    const __m512i hi = _mm512_loadu_si512(s1 + r0);
                    const __m512i a = _mm512_unpacklo_epi16(lo, hi);
                    const __m512i b = _mm512_unpackhi_epi16(lo, hi);
                    _mm512_storeu_si512(dst + kp * ldd + r0,
                                        _mm512_permutex2var_epi64(a, first, b));
                    _mm512_storeu_si512(dst + kp * ldd + r0 + 16,
                                        _mm512_permutex2var_epi64(a, second, b));
                }
            for (; r0 < width; r0 += 16) {
                const int lanes = (int)fnn_min_pd(16, width - r0);
                const __mmask16 m = (__mmask16)((1u << lanes) - 1u);
                const __m512i lo = k < k_avail
                    ? _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, s0 + r0))
                    : _mm512_setzero_si512();
                const __m512i hi = k + 1 < k_avail
                    ? _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, s1 + r0))
                    : _mm512_setzero_si512();
                _mm512_mask_storeu_epi32(dst + kp * ldd + r0, m,
                                         _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
            }
        }
        return;
    }
    for (ptrdiff_t r = 0; r < width; ++r)
        for (ptrdiff_t kp = 0; kp < kp_n; ++kp) {
            const ptrdiff_t k = 2 * kp;
            dst[kp * ldd + r] = (k < k_avail ? (uint32_t)src[r * rs + k * cs] : 0u) |
                                (k + 1 < k_avail ? (uint32_t)src[r * rs + (k + 1) * cs] << 16 : 0u);
        }
}

/* A micro-panel of pairs from either storage. */
TARGET_BF16 static void pack_operand(const void *src, int half, ptrdiff_t rs, ptrdiff_t cs,
                                     ptrdiff_t width, ptrdiff_t k_avail, ptrdiff_t kc,
                                     uint32_t *dst, ptrdiff_t ldd)
{
    if (half)
        pack_pairs_half((const uint16_t *)src, rs, cs, width, k_avail, kc, dst, ldd);
    else
        pack_pairs((const float *)src, rs, cs, width, k_avail, kc, dst, ldd);
}

/* A's pair words: a packed micro-panel, or two bfloat16 values of a row of A read in place as one
 * 32-bit word (may_alias: that storage is uint16). */
typedef uint32_t __attribute__((may_alias)) pair_words;

#define ROW_DP(i, aw)                                                                          \
    do {                                                                                       \
        const __m512bh ai = (__m512bh)_mm512_set1_epi32((int)(aw));                            \
        c##i##0 = _mm512_dpbf16_ps(c##i##0, ai, b0);                                           \
        c##i##1 = _mm512_dpbf16_ps(c##i##1, ai, b1);                                           \
    } while (0)

/* c[0:12, 0:32] (+)= A (kp_n x 12 pairs: row i's pair kp at a[i ars + kp aks]; a packed
 * micro-panel has ars 1, aks MR) . B micro-panel (kp_n x 32 pairs). */
static inline __attribute__((always_inline)) TARGET_BF16 void
ukernel_bf16(ptrdiff_t kp_n, const pair_words *a, ptrdiff_t ars, ptrdiff_t aks, const uint32_t *b,
             float *c, ptrdiff_t ldc, int accumulate)
{
    FNN_TILE_12X32_ZERO;
    /* C's 24 lines are fetched into L2 while the products run: at K = 1024 the tile's store
     * missing to L3 cost 5-10% of the product */
    for (int i = 0; i < MR; ++i) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T1);
        _mm_prefetch((const char *)(c + i * ldc + 16), _MM_HINT_T1);
    }
    /* Rows 0-3, 4-7 and 8-11 from three pointers with the row stride (and three times it) as
     * scaled indices, as the float32 kernel: with twelve row offsets the in-place form ran out
     * of registers and reloaded seven of them from the stack every k-pair. (The load ports had
     * room for those: 256x784x256 took 234-255 us against 237-242 before, no change.) */
    const pair_words *a4 = a + 4 * ars, *a8 = a + 8 * ars;
    const ptrdiff_t r2 = 2 * ars, r3 = 3 * ars;
    for (ptrdiff_t kp = 0; kp < kp_n; ++kp) {
        const __m512bh b0 = (__m512bh)_mm512_loadu_si512(b);
        const __m512bh b1 = (__m512bh)_mm512_loadu_si512(b + 16);
        ROW_DP(0, a[0]); ROW_DP(1, a[ars]); ROW_DP(2, a[r2]); ROW_DP(3, a[r3]);
        ROW_DP(4, a4[0]); ROW_DP(5, a4[ars]); ROW_DP(6, a4[r2]); ROW_DP(7, a4[r3]);
        ROW_DP(8, a8[0]); ROW_DP(9, a8[ars]); ROW_DP(10, a8[r2]); ROW_DP(11, a8[r3]);
        a += aks;
        a4 += aks;
        a8 += aks;
        b += NR;
    }
    FNN_TILE_12X32_STORE;
}

static void tile_to_bf16(const float *tile, int rows, int cols, uint16_t *c16, ptrdiff_t ld16);

/* The edge row panel (rows <= R < MR: 256 = 21 x 12 + 4) as an R x 32 tile, so its padded
 * rows cost no products: a 12-row tile there was 3% of a 256x784x256 product. Always inlined
 * with a constant R, so the accumulators live in registers. */
static inline __attribute__((always_inline)) TARGET_BF16 void
ukernel_bf16_short(const int R, ptrdiff_t kp_n, const pair_words *a, ptrdiff_t ars, ptrdiff_t aks,
                   const uint32_t *b, float *c, ptrdiff_t ldc, int accumulate)
{
    __m512 lo[8], hi[8];
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) lo[i] = hi[i] = _mm512_setzero_ps();
    for (ptrdiff_t kp = 0; kp < kp_n; ++kp) {
        const __m512bh b0 = (__m512bh)_mm512_loadu_si512(b);
        const __m512bh b1 = (__m512bh)_mm512_loadu_si512(b + 16);
#pragma GCC unroll 8
        for (int i = 0; i < R; ++i) {
            const __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i * ars]);
            lo[i] = _mm512_dpbf16_ps(lo[i], ai, b0);
            hi[i] = _mm512_dpbf16_ps(hi[i], ai, b1);
        }
        a += aks;
        b += NR;
    }
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
        float *ci = c + i * ldc;
        if (accumulate) {
            lo[i] = _mm512_add_ps(lo[i], _mm512_loadu_ps(ci));
            hi[i] = _mm512_add_ps(hi[i], _mm512_loadu_ps(ci + 16));
        }
        _mm512_storeu_ps(ci, lo[i]);
        _mm512_storeu_ps(ci + 16, hi[i]);
    }
}

/* c[0:rows, 0:32] (+)= the product in the narrowest tile that covers `rows`; that tile may
 * write rows past `rows`, so partial tiles go to the caller's tile buffer, never to C. */
static inline __attribute__((always_inline)) TARGET_BF16 void
ukernel_bf16_rows(int rows, ptrdiff_t kp_n, const pair_words *a, ptrdiff_t ars, ptrdiff_t aks,
                  const uint32_t *b, float *c, ptrdiff_t ldc, int accumulate)
{
    if (rows <= 4)
        ukernel_bf16_short(4, kp_n, a, ars, aks, b, c, ldc, accumulate);
    else if (rows <= 8)
        ukernel_bf16_short(8, kp_n, a, ars, aks, b, c, ldc, accumulate);
    else
        ukernel_bf16(kp_n, a, ars, aks, b, c, ldc, accumulate);
}

/* A tile with A from a packed micro-panel (row stride 1, pair stride MR) or, in_place, from
 * A's rows (row stride ars pair words, pair stride 1): the micro-kernels are inlined once for
 * each form, so each runs with its strides known. */
TARGET_BF16 static void ukernel_bf16_tile(int in_place, int rows, ptrdiff_t kp_n,
                                          const pair_words *a, ptrdiff_t ars, const uint32_t *b,
                                          float *c, ptrdiff_t ldc, int accumulate)
{
    if (in_place)
        ukernel_bf16_rows(rows, kp_n, a, ars, 1, b, c, ldc, accumulate);
    else
        ukernel_bf16_rows(rows, kp_n, a, 1, MR, b, c, ldc, accumulate);
}

/* Whether A's rows are read in place rather than packed: rows of A in bfloat16 storage, K
 * even, hold their pairs (k, k+1) as aligned 32-bit words, so the micro-kernel can read them
 * where they are. Measured at 1 thread, in place against packed: 256x784x256 235 against
 * 251-266 us, 1024x1024x256 1211-1297 against 1324-1530, N = 10 29 against 42; at 2 threads
 * 256x784x256 135-139 against 159-195. At 1024^3 an earlier Zen 5 had packed 4% faster; on
 * this session's one (full-width AVX-512, 2026-12) in place won there too: torch/fastnn
 * 1.044-1.051 against 0.997-1.008 packed at 1 thread, 1.025 against 0.996 at 2. Rows a multiple
 * of 4 KiB apart (L1_ALIAS_STRIDE_HALVES values) would put a tile's 12 rows in one L1 set, so
 * those are packed (as gemm.c's rows_alias_in_l1). */
#define L1_ALIAS_STRIDE_HALVES 2048
static int reads_a_in_place(const fnn_gemm_args *p)
{
    return p->half && p->csa == 1 && p->rsa % 2 == 0 && p->K % 2 == 0 &&
           (uintptr_t)p->A % 4 == 0 && p->rsa % L1_ALIAS_STRIDE_HALVES != 0;
}

/* The product of one thread's block. a_shared: all of A already packed (one k block, rows
 * from the block's first, MR-row micro-panels of K/2 pairs: pack_shared_a), or NULL. */
TARGET_BF16 static int gemm_bf16_serial(const fnn_gemm_args *p, const uint32_t *a_shared)
{
    const ptrdiff_t M = p->M, N = p->N, K = p->K, rsa = p->rsa, csa = p->csa, rsb = p->rsb,
                    csb = p->csb;
    const void *A = p->A, *B = p->B;
    float *C = p->C;
    ptrdiff_t ldc = p->ldc;
    const float *bias = p->bias;
    const int relu = p->relu, accumulate = p->accumulate, half = p->half;
    uint16_t *C16 = p->C16;
    /* K in near-equal even blocks of at most KC (1024 as 2 x 512, not 768 + 256) */
    const ptrdiff_t kc_max = fnn_balanced_block(K, KC, 2);
    /* A bfloat16 C: each finished tile rounded from the tile buffer into C16 when K is one
     * block (a separate pass over a float32 C took 5% of the 1024^3 product); over several
     * blocks the float32 sums go to scratch first. */
    float *sums = NULL;
    const ptrdiff_t ld16 = ldc;
    if (C16 && kc_max < K) {
        sums = fnn_malloc((size_t)(M * N) * sizeof(float));
        if (!sums) return FNN_ENOMEM;
        C = sums;
        ldc = N;
    }
    const int direct16 = C16 && !sums;
    const int in_place_a = !a_shared && reads_a_in_place(p);
    const ptrdiff_t mc_max = fnn_min_pd(MC, fnn_round_up(M, MR));
    const ptrdiff_t nc_max = fnn_min_pd(NC, fnn_round_up(N, NR));
    const size_t a_words = (size_t)(mc_max * (kc_max / 2));
    const size_t b_words = (size_t)(nc_max * (kc_max / 2));
    uint32_t *Ap = (uint32_t *)fnn_gemm_scratch(a_words + b_words);
    if (!Ap) return FNN_ENOMEM;
    uint32_t *Bp = Ap + a_words;
    float tile[MR * NR] __attribute__((aligned(64)));
    for (ptrdiff_t jc = 0; jc < N; jc += nc_max) {
        const ptrdiff_t nc = fnn_min_pd(nc_max, N - jc);
        for (ptrdiff_t pc = 0; pc < K; pc += kc_max) {
            const ptrdiff_t k_avail = fnn_min_pd(kc_max, K - pc);
            const ptrdiff_t kc = (k_avail + 1) / 2 * 2, kp_n = kc / 2;
            const int acc = accumulate || pc > 0, last = pc + kc_max >= K;
            for (ptrdiff_t jr = 0; jr < nc; jr += NR) {
                const ptrdiff_t cols = fnn_min_pd(NR, nc - jr);
                uint32_t *panel = Bp + jr * kp_n;
                pack_operand(fnn_operand_at(B, pc * rsb + (jc + jr) * csb, half), half, csb, rsb,
                             cols, k_avail, kc, panel, NR);
            }
            for (ptrdiff_t ic = 0; ic < M; ic += mc_max) {
                const ptrdiff_t mc = fnn_min_pd(mc_max, M - ic);
                /* A in micro-panels of MR rows, the MR pair words of one k-pair contiguous:
                 * the micro-kernel then reads A as one sequential stream (row-major pairs
                 * were 12 streams, 3-5% slower at 1024^3); with in_place_a only an edge
                 * panel is packed */
                for (ptrdiff_t ir = 0; ir < mc && !a_shared; ir += MR) {
                    const ptrdiff_t rows = fnn_min_pd(MR, mc - ir);
                    if (in_place_a && rows == MR) continue;
                    uint32_t *sliver = Ap + ir * kp_n;
                    pack_operand(fnn_operand_at(A, (ic + ir) * rsa + pc * csa, half), half, rsa,
                                 csa, rows, k_avail, kc, sliver, MR);
                }
                for (ptrdiff_t jr = 0; jr < nc; jr += NR) {
                    const int cols = (int)fnn_min_pd(NR, nc - jr);
                    for (ptrdiff_t ir = 0; ir < mc; ir += MR) {
                        const int rows = (int)fnn_min_pd(MR, mc - ir);
                        /* (an edge panel of fewer than MR rows is packed: its narrower
                         * tiles read MR, 8 or 4 rows, past the end of A) */
                        const int in_place = in_place_a && rows == MR;
                        const pair_words *a_rows =
                            in_place ? (const pair_words *)((const uint16_t *)A + (ic + ir) * rsa + pc)
                            : a_shared ? a_shared + (ic + ir) * kp_n
                                       : Ap + ir * kp_n;
                        if (direct16) {
                            ukernel_bf16_tile(in_place, rows, kp_n, a_rows, rsa / 2,
                                              Bp + jr * kp_n, tile, NR, 0);
                            if (bias || relu)
                                fnn_gemm_epilogue(tile, NR, rows, cols,
                                                  bias ? bias + jc + jr : NULL, relu);
                            tile_to_bf16(tile, rows, cols, C16 + (ic + ir) * ld16 + jc + jr,
                                         ld16);
                            continue;
                        }
                        float *c = C + (ic + ir) * ldc + jc + jr;
                        const int full = rows == MR && cols == NR;
                        ukernel_bf16_tile(in_place, rows, kp_n, a_rows, rsa / 2, Bp + jr * kp_n,
                                          full ? c : tile, full ? ldc : NR, full ? acc : 0);
                        if (!full)
                            for (int i = 0; i < rows; ++i)
                                for (int j = 0; j < cols; ++j)
                                    c[i * ldc + j] = acc ? c[i * ldc + j] + tile[i * NR + j]
                                                         : tile[i * NR + j];
                        if (last && (bias || relu))
                            fnn_gemm_epilogue(c, ldc, rows, cols, bias ? bias + jc + jr : NULL,
                                              relu);
                    }
                }
            }
        }
    }
    if (sums) {
        for (ptrdiff_t i = 0; i < M; ++i) fnn_f32_to_bf16(sums + i * N, C16 + i * ld16, N);
        free(sums);
    }
    return FNN_OK;
}

static int gemm_bf16_serial_args(const void *a_shared, const fnn_gemm_args *p)
{
    return gemm_bf16_serial(p, (const uint32_t *)a_shared);
}

/* All of A (one k block) as MR-row micro-panels of K/2 pairs, packed by the team. */
static void pack_shared_a(int threads, const fnn_gemm_args *p, uint32_t *a_shared)
{
    const ptrdiff_t kp_n = (p->K + 1) / 2, slivers = fnn_ceil_div(p->M, MR);
    (void)threads;
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) schedule(dynamic, 4)
#endif
    for (ptrdiff_t s = 0; s < slivers; ++s)
        pack_operand(fnn_operand_at(p->A, s * MR * p->rsa, p->half), p->half, p->rsa, p->csa,
                     fnn_min_pd(MR, p->M - s * MR), p->K, 2 * kp_n, a_shared + s * MR * kp_n,
                     MR);
}

/* The product on the team. When the team splits only N (a wide C: 1024^3 at 2 threads is 1 x
 * 2) every thread needs all of A, and each packed it for itself: a third of the packing at 2
 * threads. With one k block A is then packed once, by the whole team, into micro-panels all
 * threads read. */
static int gemm_bf16_run(int threads, const fnn_gemm_args *p)
{
    int tm, tn;
    const int team = fnn_gemm_team(threads, p->M, p->N, MR, NR, &tm, &tn);
    ptrdiff_t m0, m1, n0, n1;
    fnn_gemm_block(0, tm, tn, p->M, p->N, MR, NR, &m0, &m1, &n0, &n1);
    if (team < 2 || tm != 1 || p->K > KC || reads_a_in_place(p))
        return fnn_gemm_run_team(threads, MR, NR, p, gemm_bf16_serial_args, NULL);
    const ptrdiff_t words = fnn_ceil_div(p->M, MR) * MR * ((p->K + 1) / 2);
    uint32_t *a_shared = fnn_aligned_malloc(64, (size_t)words * sizeof(uint32_t));
    if (!a_shared) return FNN_ENOMEM;
    pack_shared_a(team, p, a_shared);
    const int status = fnn_gemm_run_team(threads, MR, NR, p, gemm_bf16_serial_args, a_shared);
    free(a_shared);
    return status;
}
#endif

/* The same product with A and B in bfloat16 storage (torch's bfloat16 tensors): packed without
 * rounding. Every size takes the packed path (the few-row kernels read float32 weights). */
int fnn_gemm_bf16_storage(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                          const uint16_t *A, ptrdiff_t rsa, ptrdiff_t csa,
                          const uint16_t *B, ptrdiff_t rsb, ptrdiff_t csb,
                          float *C, uint16_t *C16, ptrdiff_t ldc, const float *bias, int relu,
                          int accumulate)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (!fnn_bf16_supported() || M <= 0 || N <= 0 || K <= 0 || (C16 && (C || accumulate)))
#endif
        return -1; /* the caller widens to float32 instead */
#if defined(__x86_64__) && defined(__GNUC__)
    __atomic_fetch_add(&fnn_call_counts[FNN_K_GEMM_BF16], 1, __ATOMIC_RELAXED);
    int threads = fnn_region_threads();
    if ((double)M * (double)N * (double)K < FNN_GEMM_PARALLEL_MIN_WORK) threads = 1;
    const fnn_gemm_args p = {M, N, K, A, rsa, csa, B, rsb, csb, C, ldc, bias, relu, accumulate, 1,
                             C16};
    return gemm_bf16_run(threads, &p);
#endif
}

int fnn_sgemm_bf16(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                   const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                   const float *B, ptrdiff_t rsb, ptrdiff_t csb,
                   float *C, ptrdiff_t ldc, const float *bias, int relu, int accumulate)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (!fnn_bf16_supported() || M <= 0 || N <= 0 || K <= 0)
#endif
        return -1; /* the caller runs float32 on bfloat16-rounded operands instead */
#if defined(__x86_64__) && defined(__GNUC__)
    __atomic_fetch_add(&fnn_call_counts[FNN_K_GEMM_BF16], 1, __ATOMIC_RELAXED);
    int threads = fnn_region_threads();
    /* Few rows (autocast inference at batch 1-16): the weights read in place and rounded as
     * they are loaded, rather than all of them packed for a 12-row tile (73 us against the
     * float32 path's 25 us for the d2l MLP at batch 1) */
    const int small_form = fnn_sgemm_small_form(M, N, K, 1, rsb, csb, 0); /* A copied row-major */
    if (small_form != FNN_SMALL_NONE) {
        /* A's few rows rounded once, here, into row-major scratch (the kernels read each row
         * once per block of columns) */
        float *a = fnn_gemm_scratch((size_t)(M * K));
        if (!a) return FNN_ENOMEM;
        for (ptrdiff_t i = 0; i < M; ++i)
            for (ptrdiff_t k = 0; k < K; ++k) a[i * K + k] = A[i * rsa + k * csa];
        fnn_bf16_round(a, a, M * K);
        if ((double)M * (double)N * (double)K < FNN_GEMM_PARALLEL_MIN_WORK) threads = 1;
        fnn_sgemm_small_bf16(small_form, threads, M, N, K, a, K, 1, B, rsb, csb, C, ldc, bias,
                             relu, accumulate);
        return FNN_OK;
    }
    if ((double)M * (double)N * (double)K < FNN_GEMM_PARALLEL_MIN_WORK) threads = 1;
    const fnn_gemm_args p = {M, N, K, A, rsa, csa, B, rsb, csb, C, ldc, bias, relu, accumulate};
    return gemm_bf16_run(threads, &p);
#endif
}

/* Storage conversion as torch's .bfloat16() and ml_dtypes: nearest even, denormals kept (only
 * the GEMM's packing flushes them, as VCVTNEPS2BF16 does), every NaN the quiet NaN of its sign
 * (0x7fc0 / 0xffc0). */
#if defined(__x86_64__) && defined(__GNUC__)
/* 16 at a time: the same integer rounding in AVX-512 registers (5x the scalar loop's speed) */
__attribute__((target("avx512f,avx512bw"))) static inline __m256i bf16_storage16(__m512 v)
{
    const __m512i u = _mm512_castps_si512(v);
    __m512i r = _mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7fff)),
                                 _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1)));
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(
        _mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
    const __m512i sign = _mm512_and_si512(u, _mm512_set1_epi32((int)0x80000000u));
    r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(sign, _mm512_set1_epi32(0x7fc00000)));
    return _mm512_cvtepi32_epi16(_mm512_srli_epi32(r, 16));
}

__attribute__((target("avx512f,avx512bw"))) static ptrdiff_t f32_to_bf16_avx512(const float *x,
                                                                              uint16_t *y,
                                                                              ptrdiff_t n)
{
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(y + i), bf16_storage16(_mm512_loadu_ps(x + i)));
    return i;
}

/* A finished rows x cols tile (row stride NR) into bfloat16 storage, as fnn_f32_to_bf16 rounds
 * (a call per row of the tile was 4% of a 1024^3 product) */
__attribute__((target("avx512f,avx512bw,avx512vl"))) static void
tile_to_bf16(const float *tile, int rows, int cols, uint16_t *c16, ptrdiff_t ld16)
{
    const __mmask16 m0 = (__mmask16)(cols >= 16 ? 0xffffu : (1u << cols) - 1u);
    const __mmask16 m1 =
        (__mmask16)(cols >= 32 ? 0xffffu : cols <= 16 ? 0u : (1u << (cols - 16)) - 1u);
    for (int i = 0; i < rows; ++i) {
        uint16_t *out = c16 + i * ld16;
        _mm256_mask_storeu_epi16(out, m0, bf16_storage16(_mm512_load_ps(tile + i * NR)));
        if (m1)
            _mm256_mask_storeu_epi16(out + 16, m1,
                                     bf16_storage16(_mm512_load_ps(tile + i * NR + 16)));
    }
}
#endif

void fnn_f32_to_bf16(const float *x, uint16_t *y, ptrdiff_t n)
{
    ptrdiff_t i = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    if (fnn_isa_active() == FNN_ISA_AVX512) i = f32_to_bf16_avx512(x, y, n);
#endif
    for (; i < n; ++i) {
        uint32_t u;
        memcpy(&u, x + i, sizeof u);
        const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
        const int nan = (u & 0x7fffffffu) > 0x7f800000u;
        y[i] = (uint16_t)(nan ? ((u >> 16) & 0x8000u) | 0x7fc0u : rounded);
    }
}

void fnn_bf16_to_f32(const uint16_t *x, float *y, ptrdiff_t n)
{
    /* exact: a bfloat16 is the upper half of the float32 with the same value */
    uint32_t *out = (uint32_t *)y;
    for (ptrdiff_t i = 0; i < n; ++i) out[i] = (uint32_t)x[i] << 16;
}

#if defined(__x86_64__) && defined(__GNUC__)
TARGET_BF16 static ptrdiff_t bf16_round_vector(const float *x, float *y, ptrdiff_t n)
{
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i h = (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(x + i));
        _mm512_storeu_si512(y + i, _mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    }
    return i;
}
#endif

void fnn_bf16_round(const float *x, float *y, ptrdiff_t n)
{
    ptrdiff_t start = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    if (fnn_bf16_supported()) start = bf16_round_vector(x, y, n);
#endif
    for (ptrdiff_t i = start; i < n; ++i) {
        const uint32_t u = bf16_bits(x[i]) << 16;
        memcpy(y + i, &u, sizeof u);
    }
}
