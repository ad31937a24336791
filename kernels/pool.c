/* Max and average pooling over NCHW planes, forward and backward, with PyTorch's window rules
 * (aten/src/ATen/native/Pool.h): a window starts at o*stride - pad, spans (k-1)*dilation + 1,
 * and only its in-bounds taps count. Planes (n, c) are independent: threads split them. */
#include "conv.h"
#include "conv_shared.h"
#include "fastnn_kernels.h"

#include <math.h>
#include <string.h>

extern long long fnn_call_counts[FNN_K_COUNT];

#define POOL_PARALLEL_MIN (1 << 16)

/* The taps [lo, hi) of a window starting at `start` (stride `d`) that fall inside [0, size). */
static void tap_range(ptrdiff_t start, ptrdiff_t k, ptrdiff_t d, ptrdiff_t size, ptrdiff_t *lo,
                      ptrdiff_t *hi)
{
    ptrdiff_t a = start < 0 ? (-start + d - 1) / d : 0;
    ptrdiff_t b = size - start <= 0 ? 0 : (size - start + d - 1) / d;
    *lo = a;
    *hi = b < k ? b : k;
}

/* 2 x 2 windows, stride 2, no padding, no dilation (the CNN's pooling), same rule as the
 * general loop below. Written as selects, not branches: on real activations the comparisons
 * are coin flips, and mispredicted branches made this 5x slower (12 ns per output). */
static inline void take(float v, int64_t k, float *best, int64_t *at)
{
    const int win = (v > *best) | ((v != v) & (*best == *best));
    *best = win ? v : *best;
    *at = win ? k : *at;
}

#if defined(__x86_64__)
#include <immintrin.h>
/* 16 outputs at a time: de-interleave the even and odd columns of both rows with permutes,
 * select with masks (the same first-max / NaN-wins rule), and build the int64 indices in
 * registers. The scalar version below is bound by a chain of dependent selects per output
 * (~5 ns each); this does 16 per ~10 instructions. Returns the first column not done. */
__attribute__((target("avx512f"))) static ptrdiff_t
maxpool_2x2_row_avx512(const float *r0, const float *r1, float *yo, int64_t *io, uint8_t *co,
                       ptrdiff_t ow, int64_t base, ptrdiff_t w)
{
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4,
                                          2, 0);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const __m512i one = _mm512_set1_epi32(1), two = _mm512_set1_epi32(2);
    const __m512i three = _mm512_set1_epi32(3), width = _mm512_set1_epi32((int)w);
    const __m512i b64 = _mm512_set1_epi64(base);
    /* Rows here are short (14 and 7 outputs in the CNN), so partial vectors use masked loads
     * and stores, which never touch memory outside the row. */
    for (ptrdiff_t ox = 0; ox < ow; ox += 16) {
        const ptrdiff_t rem = ow - ox < 16 ? ow - ox : 16;
        const ptrdiff_t taps = 2 * rem;
        const __mmask16 lo = taps >= 16 ? 0xFFFF : (__mmask16)((1u << taps) - 1);
        const __mmask16 hi = taps > 16 ? (__mmask16)((1u << (taps - 16)) - 1) : 0;
        const __mmask16 out = rem == 16 ? 0xFFFF : (__mmask16)((1u << rem) - 1);
        const __m512 a0 = _mm512_maskz_loadu_ps(lo, r0 + 2 * ox);
        const __m512 a1 = _mm512_maskz_loadu_ps(hi, r0 + 2 * ox + 16);
        const __m512 b0 = _mm512_maskz_loadu_ps(lo, r1 + 2 * ox);
        const __m512 b1 = _mm512_maskz_loadu_ps(hi, r1 + 2 * ox + 16);
        const __m512 cand[3] = {_mm512_permutex2var_ps(a0, odd, a1),
                                _mm512_permutex2var_ps(b0, even, b1),
                                _mm512_permutex2var_ps(b0, odd, b1)};
        const __m512i codes[3] = {one, two, three};
        __m512 m = _mm512_permutex2var_ps(a0, even, a1);
        __m512i k = _mm512_setzero_si512();
        for (int t = 0; t < 3; ++t) {
            const __mmask16 win = _mm512_cmp_ps_mask(cand[t], m, _CMP_GT_OQ) |
                                  (_mm512_cmp_ps_mask(cand[t], cand[t], _CMP_UNORD_Q) &
                                   _mm512_cmp_ps_mask(m, m, _CMP_ORD_Q));
            m = _mm512_mask_blend_ps(win, m, cand[t]);
            k = _mm512_mask_blend_epi32(win, k, codes[t]);
        }
        _mm512_mask_storeu_ps(yo + ox, out, m);
        if (co) { /* the window code dy * 2 + dx is k itself */
            _mm512_mask_cvtepi32_storeu_epi8(co + ox, out, k);
            continue;
        }
        /* index in the plane: 2*(ox + lane) + (k & 1) + (k >> 1) * W, then + base (int64) */
        __m512i col = _mm512_slli_epi32(_mm512_add_epi32(_mm512_set1_epi32((int)ox),
                                                         _mm512_srli_epi32(even, 1)), 1);
        col = _mm512_add_epi32(col, _mm512_and_si512(k, one));
        col = _mm512_add_epi32(col, _mm512_mullo_epi32(_mm512_srli_epi32(k, 1), width));
        _mm512_mask_storeu_epi64(io + ox, (__mmask8)(out & 0xFF), _mm512_add_epi64(
            b64, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(col))));
        _mm512_mask_storeu_epi64(io + ox + 8, (__mmask8)(out >> 8), _mm512_add_epi64(
            b64, _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(col, 1))));
    }
    return ow;
}
#endif

/* One plane; the argmax as its flat index (ip) or as its window code dy * 2 + dx (cp). */
static void maxpool_2x2(const float *xp, float *yp, int64_t *ip, uint8_t *cp,
                        const fnn_conv_shape *s)
{
    for (ptrdiff_t oy = 0; oy < s->oh; ++oy) {
        const float *r0 = xp + 2 * oy * s->w, *r1 = r0 + s->w;
        const int64_t base = 2 * oy * s->w;
        int64_t *io = ip ? ip + oy * s->ow : NULL;
        uint8_t *co = cp ? cp + oy * s->ow : NULL;
        ptrdiff_t start = 0;
#if defined(__x86_64__)
        if (fnn_isa_active() == FNN_ISA_AVX512)
            start = maxpool_2x2_row_avx512(r0, r1, yp + oy * s->ow, io, co, s->ow, base, s->w);
#endif
        for (ptrdiff_t ox = start; ox < s->ow; ++ox) {
            const ptrdiff_t x0 = 2 * ox;
            float best = r0[x0];
            int64_t code = 0;
            take(r0[x0 + 1], 1, &best, &code);
            take(r1[x0], 2, &best, &code);
            take(r1[x0 + 1], 3, &best, &code);
            yp[oy * s->ow + ox] = best;
            if (co)
                co[ox] = (uint8_t)code;
            else
                io[ox] = base + (code >> 1) * s->w + x0 + (code & 1);
        }
    }
}

/* Whether the window is 2 x 2, stride 2, unpadded and undilated, all inside the input: the
 * vectorised path of the indices kernel and the case of the window-code kernels. */
static int is_2x2(const fnn_conv_shape *s)
{
    return s->kh == 2 && s->kw == 2 && s->sh == 2 && s->sw == 2 && s->ph == 0 && s->pw == 0 &&
           s->dh == 1 && s->dw == 1 && 2 * s->oh <= s->h && 2 * s->ow <= s->w;
}

#if defined(__x86_64__)
/* Any window, 16 outputs of row oy at a time: each tap (i, j) gathered for the 16 lanes (a
 * masked gather: lanes whose column falls outside the row, or past ow, read nothing), taken
 * in the scalar loop's order with its rule (a lane's first tap unconditionally, then a greater
 * value or a NaN over a number), the argmax kept as an int32 index in the plane. The scalar
 * loop's chain of dependent selects, ~2.5 ns a tap, made ResNet's 3x3 stride-2 stem pooling
 * 3.5 ms of a 69 ms resnet18 step on 32 x 32 images (issue 12). Planes below 2^31 floats. */
__attribute__((target("avx512f"))) static inline __m512
window_taps(const float *row, const fnn_conv_shape *s, ptrdiff_t first, __mmask16 valid,
            __m512i col)
{
    /* lane l reads row[first + l sw]; only in-row columns are touched */
    if (s->sw == 1) return _mm512_maskz_loadu_ps(valid, row + first);
    if (s->sw == 2) { /* two contiguous loads and a permute of the even positions, as the 2x2
                       * path; positions in [qlo, qhi) lie inside the row */
        const ptrdiff_t qlo = first < 0 ? -first : 0;
        const ptrdiff_t qhi = s->w - first < 32 ? s->w - first : 32;
        const uint64_t bits = qhi > qlo ? ((1ull << qhi) - 1) & ~((1ull << qlo) - 1) : 0;
        return fnn_even_positions(row + first, (__mmask16)(bits & 0xFFFF), (__mmask16)(bits >> 16));
    }
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid, col, row, 4);
}

__attribute__((target("avx512f"))) static void
maxpool_row_avx512(const float *xp, float *yo, int64_t *io, const fnn_conv_shape *s,
                   ptrdiff_t oy)
{
    const ptrdiff_t y0 = oy * s->sh - s->ph;
    ptrdiff_t ilo, ihi;
    tap_range(y0, s->kh, s->dh, s->h, &ilo, &ihi);
    const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i width = _mm512_set1_epi32((int)s->w), zero = _mm512_setzero_si512();
    for (ptrdiff_t ox = 0; ox < s->ow; ox += 16) {
        const ptrdiff_t rem = s->ow - ox < 16 ? s->ow - ox : 16;
        const __mmask16 out = rem == 16 ? 0xFFFF : (__mmask16)((1u << rem) - 1);
        /* each lane's first column, (ox + lane) sw - pw */
        const __m512i x0 = _mm512_sub_epi32(
            _mm512_mullo_epi32(_mm512_add_epi32(_mm512_set1_epi32((int)ox), lane),
                               _mm512_set1_epi32((int)s->sw)),
            _mm512_set1_epi32((int)s->pw));
        __m512 best = _mm512_set1_ps(-INFINITY);
        __m512i at = _mm512_set1_epi32(-1);
        __mmask16 has = 0;
        for (ptrdiff_t i = ilo; i < ihi; ++i) {
            const __m512i row = _mm512_set1_epi32((int)((y0 + i * s->dh) * s->w));
            for (ptrdiff_t j = 0; j < s->kw; ++j) {
                const __m512i col = _mm512_add_epi32(x0, _mm512_set1_epi32((int)(j * s->dw)));
                const __mmask16 valid = out & _mm512_cmpge_epi32_mask(col, zero) &
                                        _mm512_cmplt_epi32_mask(col, width);
                const __m512i k = _mm512_add_epi32(row, col);
                const __m512 v = window_taps(xp + (y0 + i * s->dh) * s->w, s,
                                             ox * s->sw - s->pw + j * s->dw, valid, col);
                const __mmask16 win = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) |
                                      (_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) &
                                       _mm512_cmp_ps_mask(best, best, _CMP_ORD_Q));
                const __mmask16 take_it = valid & (~has | win);
                best = _mm512_mask_blend_ps(take_it, best, v);
                at = _mm512_mask_blend_epi32(take_it, at, k);
                has |= valid;
            }
        }
        _mm512_mask_storeu_ps(yo + ox, out, best);
        _mm512_mask_storeu_epi64(io + ox, (__mmask8)(out & 0xFF),
                                 _mm512_cvtepi32_epi64(_mm512_castsi512_si256(at)));
        _mm512_mask_storeu_epi64(io + ox + 8, (__mmask8)(out >> 8),
                                 _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(at, 1)));
    }
}
#endif

/* Max pooling; idx[plane][o] = the argmax's flat index y*W + x in its input plane, as torch's
 * return_indices. Ties keep the first; a NaN wins and stays (torch propagates NaN). A window
 * with no tap inside the input (possible only with dilation) gives -inf and index -1. */
void fnn_maxpool2d_forward(const float *x, float *y, int64_t *idx, const fnn_conv_shape *s)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_POOL], 1, __ATOMIC_RELAXED);
    const ptrdiff_t planes = s->n * s->c, in = s->h * s->w, out = s->oh * s->ow;
    const int threads = planes * out >= POOL_PARALLEL_MIN ? fnn_region_threads() : 1;
    const int fast = is_2x2(s);
#if defined(__x86_64__)
    /* (indices and column arithmetic in int32 lanes) */
    const int vector = fnn_isa_active() == FNN_ISA_AVX512 && in < ((ptrdiff_t)1 << 31) &&
                       s->ow * s->sw + s->kw * s->dw < ((ptrdiff_t)1 << 31);
#else
    const int vector = 0;
#endif
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (ptrdiff_t p = 0; p < planes; ++p) {
        const float *xp = x + p * in;
        float *yp = y + p * out;
        int64_t *ip = idx + p * out;
        if (fast) {
            maxpool_2x2(xp, yp, ip, NULL, s);
            continue;
        }
#if defined(__x86_64__)
        if (vector) {
            for (ptrdiff_t oy = 0; oy < s->oh; ++oy)
                maxpool_row_avx512(xp, yp + oy * s->ow, ip + oy * s->ow, s, oy);
            continue;
        }
#endif
        for (ptrdiff_t oy = 0; oy < s->oh; ++oy) {
            const ptrdiff_t y0 = oy * s->sh - s->ph;
            ptrdiff_t ilo, ihi;
            tap_range(y0, s->kh, s->dh, s->h, &ilo, &ihi);
            for (ptrdiff_t ox = 0; ox < s->ow; ++ox) {
                const ptrdiff_t x0 = ox * s->sw - s->pw;
                ptrdiff_t jlo, jhi;
                tap_range(x0, s->kw, s->dw, s->w, &jlo, &jhi);
                float best = -INFINITY;
                int64_t at = -1;
                for (ptrdiff_t i = ilo; i < ihi; ++i) {
                    const ptrdiff_t row = (y0 + i * s->dh) * s->w;
                    FNN_ASSERT_INDEX(y0 + i * s->dh, s->h);
                    for (ptrdiff_t j = jlo; j < jhi; ++j) {
                        const ptrdiff_t k = row + x0 + j * s->dw;
                        FNN_ASSERT_INDEX(x0 + j * s->dw, s->w);
                        const float v = xp[k];
                        if (at < 0) {
                            best = v;
                            at = k;
                        } else {
                            take(v, k, &best, &at);
                        }
                    }
                }
                yp[oy * s->ow + ox] = best;
                ip[oy * s->ow + ox] = at;
            }
        }
    }
}

/* 2 x 2 max pooling that keeps each window's argmax as a one-byte code (dy * 2 + dx) instead of
 * an int64 index: the pooling of the CNN is bound by memory traffic (12.8 MB in for its first
 * layer, at ~10 GB/s on one core), and the indices were 6.4 MB more written in the forward and
 * read in the backward; the codes are 0.8 MB. Used when return_indices is not asked for. */
void fnn_maxpool2x2_forward(const float *x, float *y, uint8_t *code, const fnn_conv_shape *s)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_POOL], 1, __ATOMIC_RELAXED);
    if (!is_2x2(s)) return; /* checked by the caller: never reached */
    const ptrdiff_t planes = s->n * s->c, in = s->h * s->w, out = s->oh * s->ow;
    const int threads = planes * out >= POOL_PARALLEL_MIN ? fnn_region_threads() : 1;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (ptrdiff_t p = 0; p < planes; ++p)
        maxpool_2x2(x + p * in, y + p * out, NULL, code + p * out, s);
}

/* gx from gy and the window codes: each plane zeroed, then each output's gradient stored at its
 * code's tap, as the indices' backward does. Writing every element instead (gy or zero per tap,
 * interleaved with permutes and masked stores) ran 20% slower into fresh memory: masked
 * stores of 14-window rows cost more than a memset in cache. A code above 3 sends its
 * gradient nowhere (as an index off the plane). */
void fnn_maxpool2x2_backward(const float *gy, const uint8_t *code, float *gx,
                             const fnn_conv_shape *s)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_POOL], 1, __ATOMIC_RELAXED);
    if (!is_2x2(s)) return; /* checked by the caller: never reached */
    const ptrdiff_t planes = s->n * s->c, in = s->h * s->w, out = s->oh * s->ow;
    const int threads = planes * out >= POOL_PARALLEL_MIN ? fnn_region_threads() : 1;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (ptrdiff_t p = 0; p < planes; ++p) {
        const float *gp = gy + p * out;
        const uint8_t *cp = code + p * out;
        float *xp = gx + p * in;
        memset(xp, 0, (size_t)in * sizeof(float));
        for (ptrdiff_t oy = 0; oy < s->oh; ++oy)
            for (ptrdiff_t ox = 0; ox < s->ow; ++ox) {
                const unsigned c = cp[oy * s->ow + ox];
                if (c < 4) xp[(2 * oy + (c >> 1)) * s->w + 2 * ox + (c & 1)] = gp[oy * s->ow + ox];
            }
    }
}

/* gx[plane][idx] += gy: each output sends its gradient to the input that won its window. */
void fnn_maxpool2d_backward(const float *gy, const int64_t *idx, float *gx,
                            const fnn_conv_shape *s)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_POOL], 1, __ATOMIC_RELAXED);
    const ptrdiff_t planes = s->n * s->c, in = s->h * s->w, out = s->oh * s->ow;
    const int threads = planes * out >= POOL_PARALLEL_MIN ? fnn_region_threads() : 1;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (ptrdiff_t p = 0; p < planes; ++p) {
        float *gxp = gx + p * in;
        memset(gxp, 0, (size_t)in * sizeof(float));
        for (ptrdiff_t o = 0; o < out; ++o) {
            const int64_t at = idx[p * out + o];
            if (at >= 0 && at < in) gxp[at] += gy[p * out + o];
        }
    }
}

/* The window of output (oy, ox) clipped to the input, and torch's divisor for it. */
static void avg_window(const fnn_conv_shape *s, ptrdiff_t oy, ptrdiff_t ox, int count_include_pad,
                       ptrdiff_t *ys, ptrdiff_t *ye, ptrdiff_t *xs, ptrdiff_t *xe, float *div)
{
    ptrdiff_t y0 = oy * s->sh - s->ph, x0 = ox * s->sw - s->pw;
    ptrdiff_t y1 = y0 + s->kh < s->h + s->ph ? y0 + s->kh : s->h + s->ph;
    ptrdiff_t x1 = x0 + s->kw < s->w + s->pw ? x0 + s->kw : s->w + s->pw;
    const ptrdiff_t padded = (y1 - y0) * (x1 - x0);
    y0 = y0 > 0 ? y0 : 0;
    x0 = x0 > 0 ? x0 : 0;
    y1 = y1 < s->h ? y1 : s->h;
    x1 = x1 < s->w ? x1 : s->w;
    *ys = y0; *ye = y1; *xs = x0; *xe = x1;
    *div = (float)(count_include_pad ? padded : (y1 - y0) * (x1 - x0));
}

void fnn_avgpool2d_forward(const float *x, float *y, const fnn_conv_shape *s,
                           int count_include_pad)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_POOL], 1, __ATOMIC_RELAXED);
    const ptrdiff_t planes = s->n * s->c, in = s->h * s->w, out = s->oh * s->ow;
    const int threads = planes * out >= POOL_PARALLEL_MIN ? fnn_region_threads() : 1;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (ptrdiff_t p = 0; p < planes; ++p) {
        const float *xp = x + p * in;
        for (ptrdiff_t oy = 0; oy < s->oh; ++oy) {
            for (ptrdiff_t ox = 0; ox < s->ow; ++ox) {
                ptrdiff_t ys, ye, xs, xe;
                float div;
                avg_window(s, oy, ox, count_include_pad, &ys, &ye, &xs, &xe, &div);
                float acc = 0.0f;
                FNN_ASSERT_RANGE(ys, ye, 1, s->h);
                FNN_ASSERT_RANGE(xs, xe, 1, s->w);
                for (ptrdiff_t yy = ys; yy < ye; ++yy)
                    for (ptrdiff_t xx = xs; xx < xe; ++xx) acc += xp[yy * s->w + xx];
                y[p * out + oy * s->ow + ox] = div > 0 ? acc / div : 0.0f;
            }
        }
    }
}

void fnn_avgpool2d_backward(const float *gy, float *gx, const fnn_conv_shape *s,
                            int count_include_pad)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_POOL], 1, __ATOMIC_RELAXED);
    const ptrdiff_t planes = s->n * s->c, in = s->h * s->w, out = s->oh * s->ow;
    const int threads = planes * out >= POOL_PARALLEL_MIN ? fnn_region_threads() : 1;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (ptrdiff_t p = 0; p < planes; ++p) {
        float *gxp = gx + p * in;
        memset(gxp, 0, (size_t)in * sizeof(float));
        for (ptrdiff_t oy = 0; oy < s->oh; ++oy) {
            for (ptrdiff_t ox = 0; ox < s->ow; ++ox) {
                ptrdiff_t ys, ye, xs, xe;
                float div;
                avg_window(s, oy, ox, count_include_pad, &ys, &ye, &xs, &xe, &div);
                if (div <= 0) continue;
                const float g = gy[p * out + oy * s->ow + ox] / div;
                FNN_ASSERT_RANGE(ys, ye, 1, s->h);
                FNN_ASSERT_RANGE(xs, xe, 1, s->w);
                for (ptrdiff_t yy = ys; yy < ye; ++yy)
                    for (ptrdiff_t xx = xs; xx < xe; ++xx) gxp[yy * s->w + xx] += g;
            }
        }
    }
}
