/* Strided convolution as a stride-1 convolution on the input's phases (space-to-depth).
 *
 * With stride (sh, sw), output pixel (oy, ox) reads the padded input at rows oy sh + i. Writing
 * tap i = a sh + r (r < sh), that is row oy + a of phase r: the padded plane's rows r, r + sh,
 * r + 2 sh, ... So a kh x kw filter at stride (sh, sw) on C channels is a (kh/sh) x (kw/sw)
 * filter at stride 1 on C sh sw "phase" channels, each phase a (H/sh) x (W/sw) subsampling of
 * the padded input, with the filter's taps regrouped the same way (Dumoulin & Visin 2016, ch. 4;
 * the pixel-shuffle identity of Shi et al. 2016). When kh and kw are multiples of the stride the
 * regrouping is a bijection: no zero taps, the same multiply-adds as the strided convolution.
 *
 * The stride-1 convolution then runs on the implicit GEMM (conv_implicit.c), which needs
 * contiguous runs of input per output row and so cannot read a strided one. im2col + GEMM
 * (conv.c) wrote K x P floats per image and read them back: DCGAN's 4x4 stride-2 layers (64 to
 * 128 channels on 32 x 32, batch 64) took 89 ms forward at 1 thread against PyTorch's 42, and
 * ConvTranspose2d runs the same kernels for its passes (issue 12).
 *
 * Phase channel of input channel ci and phase (rh, rw): (ci sh + rh) sw + rw, so a group's
 * channels stay contiguous. Each pass converts between the layouts around one call of the
 * implicit kernel: the input is split into phases (forward, weight gradient), the filters are
 * regrouped (forward, input gradient), the phase gradient is merged back into the input's
 * layout (input gradient) and the weight gradient regrouped back. */
#include "conv_phased.h"
#include "conv_shared.h"
#include "fastnn_kernels.h"

#include <stdlib.h>
#include <string.h>

extern long long fnn_call_counts[FNN_K_COUNT];

int fnn_conv_phased_shape(const fnn_conv_shape *s, fnn_conv_shape *ps)
{
    if ((s->sh == 1 && s->sw == 1) || s->dh != 1 || s->dw != 1 || s->kh % s->sh ||
        s->kw % s->sw || s->n <= 0 || s->oh <= 0 || s->ow <= 0)
        return 0;
    *ps = *s;
    ps->c = s->c * s->sh * s->sw;
    ps->kh = s->kh / s->sh;
    ps->kw = s->kw / s->sw;
    /* exactly the phase rows and columns the outputs read: oy + a for a < kh / sh */
    ps->h = s->oh + ps->kh - 1;
    ps->w = s->ow + ps->kw - 1;
    ps->sh = ps->sw = 1;
    ps->ph = ps->pw = 0;
    return 1;
}

/* Phase r of an axis, index m: the padded input's m stride + r, i.e. the input's
 * m stride + r - pad; -1 when that is padding (or past the input). */
static ptrdiff_t source_index(ptrdiff_t m, ptrdiff_t stride, ptrdiff_t r, ptrdiff_t pad,
                              ptrdiff_t size)
{
    const ptrdiff_t at = m * stride + r - pad;
    return at >= 0 && at < size ? at : -1;
}

/* The phase indices j in [0, n) whose input index j stride + r - pad lies in [0, size): [lo, hi).
 * Found once per phase so the copies below are plain strided loops (a bounds check per element
 * was 7% of DCGAN's 4x4 forward). */
static void valid_range(ptrdiff_t n, ptrdiff_t stride, ptrdiff_t r, ptrdiff_t pad, ptrdiff_t size,
                        ptrdiff_t *lo, ptrdiff_t *hi)
{
    const ptrdiff_t first = r - pad; /* input index of j = 0 */
    ptrdiff_t a = first >= 0 ? 0 : (-first + stride - 1) / stride;
    ptrdiff_t b = size - first <= 0 ? 0 : (size - first + stride - 1) / stride;
    *lo = a < n ? a : n;
    *hi = b < n ? b : n;
    if (*hi < *lo) *hi = *lo;
}

/* row[j] = in[2 j] for j in [lo, hi): 16 values from two loads and a permute on AVX-512 (the
 * scalar gather was 9% of DCGAN's 4x4 forward once it ran image by image); the second load
 * stops at in[2 j + 30], the last value used, so nothing past the input is read. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
__attribute__((target("avx512f"))) static ptrdiff_t every_second_avx512(const float *in,
                                                                       ptrdiff_t lo,
                                                                       ptrdiff_t hi, float *row)
{
    ptrdiff_t j = lo;
    for (; j + 16 <= hi; j += 16)
        _mm512_storeu_ps(row + j, fnn_even_positions(in + 2 * j, 0xffff, 0x7fff));
    return j;
}
#endif

void fnn_conv_split_phases(const float *src, ptrdiff_t planes, const fnn_conv_shape *s,
                           ptrdiff_t ph_h, ptrdiff_t ph_w, float *dst)
{
#if defined(__x86_64__) && defined(__GNUC__)
    const int pairs = s->sw == 2 && fnn_isa_active() == FNN_ISA_AVX512;
#else
    const int pairs = 0;
#endif
    const ptrdiff_t phases = s->sh * s->sw;
    for (ptrdiff_t plane = 0; plane < planes; ++plane) {
        const float *in_plane = src + plane * s->h * s->w;
        for (ptrdiff_t q = 0; q < phases; ++q) {
            const ptrdiff_t rh = q / s->sw, rw = q % s->sw;
            float *out = dst + (plane * phases + q) * ph_h * ph_w;
            ptrdiff_t lo, hi;
            valid_range(ph_w, s->sw, rw, s->pw, s->w, &lo, &hi);
            for (ptrdiff_t m = 0; m < ph_h; ++m) {
                float *row = out + m * ph_w;
                const ptrdiff_t yy = source_index(m, s->sh, rh, s->ph, s->h);
                if (yy < 0 || hi == lo) {
                    memset(row, 0, (size_t)ph_w * sizeof(float));
                    continue;
                }
                FNN_ASSERT_INDEX(lo * s->sw + rw - s->pw, s->w);
                FNN_ASSERT_INDEX((hi - 1) * s->sw + rw - s->pw, s->w);
                const float *in = in_plane + yy * s->w + rw - s->pw;
                for (ptrdiff_t j = 0; j < lo; ++j) row[j] = 0.0f;
                ptrdiff_t j = lo;
#if defined(__x86_64__) && defined(__GNUC__)
                if (pairs) j = every_second_avx512(in, lo, hi, row);
#endif
                for (; j < hi; ++j) row[j] = in[j * s->sw];
                for (ptrdiff_t j = hi; j < ph_w; ++j) row[j] = 0.0f;
            }
        }
    }
}

/* The planes of x in phases: xp is n x ps->c x ps->h x ps->w, zero where a phase reads padding
 * (for Winograd, which reads whole batches; the implicit GEMM splits image by image). */
static void split(const float *x, const fnn_conv_shape *s, const fnn_conv_shape *ps, float *xp,
                  int threads)
{
    const ptrdiff_t planes = s->n * s->c;
    (void)threads;
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
    for (ptrdiff_t plane = 0; plane < planes; ++plane)
        fnn_conv_split_phases(x + plane * s->h * s->w, 1, s, ps->h, ps->w,
                              xp + plane * s->sh * s->sw * ps->h * ps->w);
}

/* The adjoint of split: each input pixel's gradient is the phase element it was copied to
 * (every input pixel lands in at most one; those no output reads get zero). */
static void merge(const float *gxp, const fnn_conv_shape *s, const fnn_conv_shape *ps, float *gx,
                  int threads)
{
    const ptrdiff_t planes = s->n * s->c, phases = s->sh * s->sw;
    (void)threads;
#pragma omp parallel for num_threads(threads) if (threads > 1) schedule(static)
    for (ptrdiff_t plane = 0; plane < planes; ++plane) {
        const float *src = gxp + plane * phases * ps->h * ps->w;
        float *dst = gx + plane * s->h * s->w;
        for (ptrdiff_t yy = 0; yy < s->h; ++yy) {
            const ptrdiff_t rh = (yy + s->ph) % s->sh, m = (yy + s->ph) / s->sh;
            float *row = dst + yy * s->w;
            if (m >= ps->h) {
                memset(row, 0, (size_t)s->w * sizeof(float));
                continue;
            }
            /* each column phase's pixels of this row: xx = j sw + rw - pw */
            for (ptrdiff_t rw = 0; rw < s->sw; ++rw) {
                ptrdiff_t lo, hi;
                valid_range(ps->w, s->sw, rw, s->pw, s->w, &lo, &hi);
                const float *in = src + ((rh * s->sw + rw) * ps->h + m) * ps->w;
                float *out = row + rw - s->pw;
                if (hi > lo) { /* the first and last input columns written */
                    FNN_ASSERT_INDEX(lo * s->sw + rw - s->pw, s->w);
                    FNN_ASSERT_INDEX((hi - 1) * s->sw + rw - s->pw, s->w);
                }
                for (ptrdiff_t j = lo; j < hi; ++j) out[j * s->sw] = in[j];
                /* input columns of this phase past the phase's width: no output reads them */
                for (ptrdiff_t j = hi; j * s->sw + rw - s->pw < s->w; ++j)
                    if (j * s->sw + rw - s->pw >= 0) out[j * s->sw] = 0.0f;
            }
        }
    }
}

/* Filter (o, ci, i, j) <-> phase filter (o, (ci sh + i % sh) sw + j % sw, i / sh, j / sw), a
 * bijection: to_phases copies the filters `from` into phase filters `to`, else phase filters
 * back into filters. */
static void regroup_filters(const float *from, const fnn_conv_shape *s, const fnn_conv_shape *ps,
                            float *to, int to_phases)
{
    const ptrdiff_t cpg = s->c / s->groups;
    for (ptrdiff_t o = 0; o < s->oc; ++o)
        for (ptrdiff_t ci = 0; ci < cpg; ++ci)
            for (ptrdiff_t i = 0; i < s->kh; ++i)
                for (ptrdiff_t j = 0; j < s->kw; ++j) {
                    const ptrdiff_t at = ((o * cpg + ci) * s->kh + i) * s->kw + j;
                    const ptrdiff_t pc = (ci * s->sh + i % s->sh) * s->sw + j % s->sw;
                    const ptrdiff_t pat =
                        ((o * cpg * s->sh * s->sw + pc) * ps->kh + i / s->sh) * ps->kw + j / s->sw;
                    if (to_phases)
                        to[pat] = from[at];
                    else
                        to[at] = from[pat];
                }
}

static fnn_iconv implicit_of(const fnn_conv_shape *ps)
{
    const fnn_iconv is = {.n = ps->n, .groups = ps->groups, .c = ps->c / ps->groups,
                          .h = ps->h, .w = ps->w, .oc = ps->oc / ps->groups, .oh = ps->oh,
                          .ow = ps->ow, .kh = ps->kh, .kw = ps->kw, .ph = 0, .pw = 0,
                          .dh = 1, .dw = 1};
    return is;
}

static size_t input_floats(const fnn_conv_shape *ps)
{
    return (size_t)(ps->n * ps->c * ps->h * ps->w);
}

static size_t filter_floats(const fnn_conv_shape *s)
{
    return (size_t)(s->oc * (s->c / s->groups) * s->kh * s->kw);
}

/* The filters regrouped into phase filters, in a new allocation (NULL without memory). */
static float *phase_filters(const float *w, const fnn_conv_shape *s, const fnn_conv_shape *ps)
{
    float *wp = fnn_malloc(filter_floats(s) * sizeof(float));
    if (wp) regroup_filters(w, s, ps, wp, 1);
    return wp;
}

int fnn_conv2d_phased_forward(const float *x, const float *w, const float *bias, int relu,
                              float *y, const fnn_conv_shape *s, const fnn_conv_shape *ps)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_CONV_PHASED], 1, __ATOMIC_RELAXED);
    fnn_iconv is = implicit_of(ps);
    /* the implicit GEMM splits each image as it reads it, so the phases of one image are in
     * L2 when its products run: splitting the batch first wrote them all to memory and read
     * them back, 6% of DCGAN's 4x4 forward (issue 12); Winograd reads a split batch */
    const int whole_batch = fnn_conv2d_winograd_suits(&is);
    float *xp = whole_batch ? fnn_aligned_malloc(64, input_floats(ps) * sizeof(float)) : NULL;
    float *wp = phase_filters(w, s, ps);
    int status = FNN_ENOMEM;
    if (wp && (xp || !whole_batch)) {
        if (whole_batch)
            split(x, s, ps, xp, fnn_region_threads());
        else
            is.phases_of = s;
        status = fnn_conv2d_implicit_forward(whole_batch ? xp : x, NULL, wp, bias, relu, y, &is);
    }
    free(xp);
    free(wp);
    return status;
}

int fnn_conv2d_phased_input_grad(const float *gy, const float *y, const float *w, float *gx,
                                 const fnn_conv_shape *s, const fnn_conv_shape *ps)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_CONV_PHASED], 1, __ATOMIC_RELAXED);
    float *gxp = fnn_aligned_malloc(64, input_floats(ps) * sizeof(float));
    float *wp = phase_filters(w, s, ps);
    int status = FNN_ENOMEM;
    if (gxp && wp) {
        const fnn_iconv is = implicit_of(ps);
        status = fnn_conv2d_implicit_input_grad(gy, y, wp, gxp, &is);
        if (status == FNN_OK) merge(gxp, s, ps, gx, fnn_region_threads());
    }
    free(gxp);
    free(wp);
    return status;
}

int fnn_conv2d_phased_weight_grad(const float *x, const float *gy, const float *y, float *gw,
                                  float *gb, const fnn_conv_shape *s, const fnn_conv_shape *ps)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_CONV_PHASED], 1, __ATOMIC_RELAXED);
    /* the phases of x only for the weight gradient (the bias gradient reads gy alone), split
     * image by image by the implicit GEMM, or first for Winograd (as in the forward) */
    fnn_iconv is = implicit_of(ps);
    const int whole_batch = gw && fnn_conv2d_winograd_weight_grad_suits(&is);
    float *xp = whole_batch ? fnn_aligned_malloc(64, input_floats(ps) * sizeof(float)) : NULL;
    float *gwp = gw ? fnn_malloc(filter_floats(s) * sizeof(float)) : NULL;
    int status = FNN_ENOMEM;
    if (!gw || (gwp && (xp || !whole_batch))) {
        if (whole_batch)
            split(x, s, ps, xp, fnn_region_threads());
        else
            is.phases_of = s;
        status = fnn_conv2d_implicit_weight_grad(whole_batch ? xp : x, gy, y, gwp, gb, &is);
        if (status == FNN_OK && gw) regroup_filters(gwp, s, ps, gw, 0);
    }
    free(xp);
    free(gwp);
    return status;
}
