/* Stride-1 convolution as an implicit GEMM: the column matrix is never written.
 *
 * One image's group of channels is copied into a zero-padded buffer xp (cin x hp x wp, where
 * hp = h + 2 ph, wp = w + 2 pw). With stride 1, tap k = (c, i, j) of output pixel (oy, ox)
 * reads xp[off[k] + oy wp + ox], off[k] = c hp wp + i dh wp + j dw: row k of im2col's column
 * matrix is, output row by output row, a contiguous run of xp. The GEMM's packing gathers
 * those runs straight into micro-panels (AVX-512 masked loads, a few per tap), and the packed
 * micro-kernels of gemm_config.h do the rest. im2col wrote K x P floats per image to memory
 * and the GEMM read them back, 12.5x the input for the 5x5 layer: it took 21% of the 3x3
 * forward and 34% of the 5x5 one (perf, issue 12).
 *
 * The same scheme gives all three passes:
 *   forward      y = W @ col, as y^T = col^T @ W^T when that pads the micro-tile less;
 *   input grad   gx = the forward convolution of gy (padded by d(k-1) - p) with the filters
 *                flipped and transposed (the adjoint of a stride-1 convolution);
 *   weight grad  gW = gy @ col^T, the pixels as the reduction.
 * Literature: the implicit GEMM of cuDNN (Chetlur et al. 2014); Georganas et al. 2018.
 *
 * Threads take whole images (the forward and input gradient) or fixed runs of images (the
 * weight gradient, summed run by run in order, so any thread count gives the same bits, as
 * conv.c).
 */
#include "conv.h"
#include "conv_implicit.h"
#include "conv_phased.h"
#include "conv_shared.h"
#include "fastnn_kernels.h"
#include "parallel.h"
#include "gemm_config.h"
#include "gemm_grid.h"

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

static int implicit_mode = FNN_IMPLICIT_AUTO;

void fnn_conv_implicit_set_mode(int mode) { implicit_mode = mode; }
int fnn_conv_implicit_mode(void) { return implicit_mode; }

/* Most images the weight gradient reduces in one k block (see fnn_conv2d_implicit_weight_grad) */
#define FNN_CONV_GROUP_MAX 64

/* Floats past the end of the packed panels that pack_panel_avx512's 16-lane stores may touch. */
#define SLACK 16

/* One group of one image, seen through the padded buffer. */
typedef struct {
    ptrdiff_t cin, h, w, ph, pw, hp, wp; /* input channels (of the group) and sizes */
    ptrdiff_t oc, oh, ow, P;             /* output channels (of the group); P = oh * ow */
    ptrdiff_t K;                         /* taps: cin * kh * kw */
    ptrdiff_t *off;                      /* K offsets into xp */
    ptrdiff_t xp_size;                   /* floats in xp (allocated with SLACK more) */
    const fnn_conv_shape *phases;        /* fnn_iconv's phases_of */
    ptrdiff_t src_image;                 /* floats of one image's group in the source */
    int masked_loads;                    /* pack panels with AVX-512 masked loads */
} geometry;

static int geometry_init(geometry *g, const fnn_iconv *s, const fnn_gemm_config *cfg)
{
    g->cin = s->c;
    g->h = s->h;
    g->w = s->w;
    g->ph = s->ph;
    g->pw = s->pw;
    g->hp = s->h + 2 * s->ph;
    g->wp = s->w + 2 * s->pw;
    g->oc = s->oc;
    g->oh = s->oh;
    g->ow = s->ow;
    g->P = s->oh * s->ow;
    g->K = s->c * s->kh * s->kw;
    g->off = fnn_malloc((size_t)(g->K > 0 ? g->K : 1) * sizeof(ptrdiff_t));
    if (!g->off) return 0;
    for (ptrdiff_t c = 0; c < s->c; ++c)
        for (ptrdiff_t i = 0; i < s->kh; ++i)
            for (ptrdiff_t j = 0; j < s->kw; ++j)
                g->off[(c * s->kh + i) * s->kw + j] = c * g->hp * g->wp + i * s->dh * g->wp
                                                      + j * s->dw;
    g->xp_size = g->cin * g->hp * g->wp;
    g->phases = s->phases_of;
    g->src_image = g->phases ? g->phases->c / g->phases->groups * g->phases->h * g->phases->w
                             : g->cin * g->h * g->w;
    g->masked_loads = cfg == &fnn_gemm_configs[FNN_ISA_AVX512];
    return 1;
}

/* Whether the packing reads the image in place: no padding and no mask (the 1x1 layer: copying
 * it took a third of its input gradient's time). The packing reads only the runs, so reading
 * in place never goes past the image. */
static int in_place(const geometry *g, const float *mask)
{
    return g->ph == 0 && g->pw == 0 && !mask && !g->phases;
}

/* The group's channels of one image as the packing reads them: src itself in place, else
 * copied into xp's interior (fnn_pad_planes), or split into xp's phase planes. */
static const float *image_at(const geometry *g, const float *src, const float *mask, float *xp)
{
    if (in_place(g, mask)) return src;
    if (g->phases) { /* (unpadded: the phases hold the strided convolution's padding) */
        fnn_conv_split_phases(src, g->phases->c / g->phases->groups, g->phases, g->h, g->w, xp);
        return xp;
    }
    FNN_ASSERT_INDEX(((g->cin - 1) * g->hp + g->h - 1 + g->ph) * g->wp + g->pw + g->w - 1,
                     g->xp_size);
    fnn_pad_planes(src, mask, g->cin, g->h, g->w, xp, g->hp, g->wp, g->ph, g->pw);
    return xp;
}

/* Where output pixel p (numbered oy * ow + ox) reads tap 0 in xp. */
static ptrdiff_t pixel_at(const geometry *g, ptrdiff_t p) { return p / g->ow * g->wp + p % g->ow; }

/* A panel's lanes [lane, lane + len) read the contiguous run xp[off[k] + src ...]: a stretch of
 * one output row. */
typedef struct {
    int lane, len;
    ptrdiff_t src;
} run;

/* The runs of the n (<= width) pixels from p; returns how many. */
static int panel_runs(const geometry *g, ptrdiff_t p, int n, run *runs)
{
    int count = 0;
    for (int l = 0; l < n;) {
        const ptrdiff_t ox = (p + l) % g->ow;
        const int len = (int)fnn_min_pd(g->ow - ox, n - l);
        runs[count++] = (run){l, len, pixel_at(g, p + l)};
        l += len;
    }
    return count;
}

#if defined(__x86_64__)
#include <immintrin.h>
/* One panel, 12 or 32 lanes, each tap's lanes gathered from its runs with masked loads (the
 * lanes outside a run are neither read nor faulted on, so the image may be read in place);
 * lanes past the last run are zero. The 12-lane panels of the forward (3x3 on 14 x 14: one or
 * two runs each) take one masked load per run and store 16 lanes, the last 4 overwritten by
 * the next tap (panels carry 16 floats of slack for this): the general loop over runs and
 * masks took 30% of the input gradient. */
__attribute__((target("avx512f"))) static void pack_panel_avx512(
    const float *xp, const ptrdiff_t *off, ptrdiff_t kc, const run *runs, int nruns, int width,
    float *d)
{
    if (width == 12 && nruns <= 2 && runs[0].len + (nruns == 2 ? runs[1].len : 0) == 12) {
        const float *a = xp + runs[0].src;
        const __mmask16 first = (__mmask16)((1u << runs[0].len) - 1u);
        if (nruns == 1) {
            for (ptrdiff_t k = 0; k < kc; ++k)
                _mm512_storeu_ps(d + k * 12, _mm512_maskz_loadu_ps(first, a + off[k]));
            return;
        }
        const __mmask16 second = (__mmask16)(0x0fffu & ~((1u << runs[1].lane) - 1u));
        const float *b = xp + runs[1].src - runs[1].lane;
        for (ptrdiff_t k = 0; k < kc; ++k) {
            const __m512 v = _mm512_maskz_loadu_ps(first, a + off[k]);
            _mm512_storeu_ps(d + k * 12, _mm512_mask_loadu_ps(v, second, b + off[k]));
        }
        return;
    }
    __mmask16 m0[FNN_NR_MAX], m1[FNN_NR_MAX];
    for (int r = 0; r < nruns; ++r) {
        const unsigned bits = (unsigned)(((1ull << runs[r].len) - 1) << runs[r].lane);
        m0[r] = (__mmask16)(bits & 0xffffu);
        m1[r] = (__mmask16)(bits >> 16);
    }
    for (ptrdiff_t k = 0; k < kc; ++k) {
        __m512 v0 = _mm512_setzero_ps(), v1 = _mm512_setzero_ps();
        for (int r = 0; r < nruns; ++r) {
            const float *at = xp + off[k] + runs[r].src - runs[r].lane;
            if (m0[r]) v0 = _mm512_mask_loadu_ps(v0, m0[r], at);
            if (m1[r]) v1 = _mm512_mask_loadu_ps(v1, m1[r], at + 16);
        }
        if (width == 12) {
            _mm512_mask_storeu_ps(d + k * 12, 0x0fff, v0);
        } else {
            _mm512_storeu_ps(d + k * 32, v0);
            _mm512_storeu_ps(d + k * 32 + 16, v1);
        }
    }
}
#endif

/* Panels of `width` output pixels from p0 (count of them, the last panel's missing lanes zero)
 * for taps [k0, k0 + kc): dst[k * width + r] = xp[off[k0 + k] + pixel_at(p0 + q width + r)] in
 * panel q. Only the pixels the convolution outputs are packed, so no work is spent on the
 * padded columns. */
static void pack_pixels(const geometry *g, const float *xp, ptrdiff_t k0, ptrdiff_t kc,
                        ptrdiff_t p0, ptrdiff_t count, int width, float *dst)
{
    run runs[FNN_NR_MAX];
    const ptrdiff_t *off = g->off + k0;
    for (ptrdiff_t q0 = 0; q0 < count; q0 += width) {
        float *d = dst + q0 * kc;
        const int n = (int)fnn_min_pd(width, count - q0);
        const int nruns = panel_runs(g, p0 + q0, n, runs);
        FNN_ASSERT_INDEX(off[kc - 1] + pixel_at(g, p0 + q0 + n - 1), g->xp_size);
#if defined(__x86_64__)
        if ((width == 12 || width == 32) && g->masked_loads) {
            pack_panel_avx512(xp, off, kc, runs, nruns, width, d);
            continue;
        }
#endif
        for (ptrdiff_t k = 0; k < kc; ++k) {
            float *dk = d + k * width;
            for (int r = 0; r < nruns; ++r) {
                const float *s = xp + off[k] + runs[r].src;
                for (int i = 0; i < runs[r].len; ++i) dk[runs[r].lane + i] = s[i];
            }
            for (int i = n; i < width; ++i) dk[i] = 0.0f;
        }
    }
}

#if defined(__x86_64__)
/* One run of pack_taps on AVX-512: up to 16 pixels of 16 taps at a time, loaded (masked to the
 * run and to the live taps, zero past them), transposed in registers and stored a pixel's
 * taps at a time (masked to the panel's width). The 4 x 4 SSE blocks covered only full panels
 * and whole fours of pixels; the 5x5 layer's weight gradient (10-pixel runs, 150 taps in panels
 * of 24) packed the rest element by element, 19% of its step (issue 12). */
__attribute__((target("avx512f"))) static void pack_taps_run16(const float *const *rows, int n,
                                                               ptrdiff_t at, ptrdiff_t len,
                                                               int width, float *dp)
{
    for (ptrdiff_t i = 0; i < len; i += 16) {
        const int count = (int)fnn_min_pd(16, len - i);
        const __mmask16 pixels = (__mmask16)((1u << count) - 1u);
        for (int r0 = 0; r0 < width; r0 += 16) {
            const int live = r0 < n ? (int)fnn_min_pd(16, n - r0) : 0;
            const __mmask16 lanes = (__mmask16)((1u << fnn_min_pd(16, width - r0)) - 1u);
            __m512 v[16];
            for (int t = 0; t < 16; ++t)
                v[t] = t < live ? _mm512_maskz_loadu_ps(pixels, rows[r0 + t] + at + i)
                                : _mm512_setzero_ps();
            fnn_transpose16x16(v);
            for (int p = 0; p < count; ++p) _mm512_mask_storeu_ps(dp + (i + p) * width + r0, lanes, v[p]);
        }
    }
}
#endif

/* Panels of `width` taps from k0 (taps of them; past K zero) over output pixels [p0, p0 + pc):
 * dst[p * width + r] = xp[off[k0 + q width + r] + pixel_at(p0 + p)] in panel q, the panels
 * ld * width floats apart (ld >= pc: several images' pixels side by side). The transpose of
 * pack_pixels, for the weight gradient, where the pixels are the reduction. */
static void pack_taps(const geometry *g, const float *xp, ptrdiff_t k0, ptrdiff_t taps,
                      ptrdiff_t p0, ptrdiff_t pc, int width, float *dst, ptrdiff_t ld)
{
    for (ptrdiff_t q0 = 0; q0 < taps; q0 += width) {
        const int n = (int)fnn_min_pd(width, taps - q0);
        float *d = dst + q0 * ld;
        const float *rows[FNN_NR_MAX > FNN_MR_MAX ? FNN_NR_MAX : FNN_MR_MAX];
        for (int r = 0; r < n; ++r) {
            rows[r] = xp + g->off[k0 + q0 + r];
            FNN_ASSERT_INDEX(g->off[k0 + q0 + r] + pixel_at(g, p0 + pc - 1), g->xp_size);
        }
        /* a run of pixels at a time: [p, p + len) of one output row, contiguous in xp */
        for (ptrdiff_t p = 0; p < pc;) {
            const ptrdiff_t at = pixel_at(g, p0 + p);
            const ptrdiff_t len = fnn_min_pd(g->ow - (p0 + p) % g->ow, pc - p);
            float *dp = d + p * width;
#if defined(__x86_64__)
            if (g->masked_loads) {
                pack_taps_run16(rows, n, at, len, width, dp);
                p += len;
                continue;
            }
#endif
            ptrdiff_t i = 0;
#if defined(__SSE2__)
            /* 4 x 4 blocks in SSE registers */
            if (n == width && width % 4 == 0) {
                for (; i + 4 <= len; i += 4)
                    for (int r = 0; r < width; r += 4) {
                        const ptrdiff_t a = at + i;
                        fnn_transpose_4x4(rows[r] + a, rows[r + 1] + a, rows[r + 2] + a,
                                          rows[r + 3] + a, dp + i * width + r, width);
                    }
            }
#endif
            for (; i < len; ++i) {
                for (int r = 0; r < n; ++r) dp[i * width + r] = rows[r][at + i];
                for (int r = n; r < width; ++r) dp[i * width + r] = 0.0f;
            }
            p += len;
        }
    }
}

/* C (mp x np micro-tiles, row stride ldc) (+)= the packed panels' product. Each B micro-panel
 * stays in L1 while every A micro-panel passes it. */
static void run_tiles(const fnn_gemm_config *cfg, ptrdiff_t mp, ptrdiff_t np, ptrdiff_t kc,
                      const float *Ap, const float *Bp, float *C, ptrdiff_t ldc, int accumulate)
{
    const int mr = cfg->mr, nr = cfg->nr;
    for (ptrdiff_t jr = 0; jr < np; ++jr)
        for (ptrdiff_t ir = 0; ir < mp; ++ir)
            cfg->kernel(kc, Ap + ir * mr * kc, Bp + jr * nr * kc, C + ir * mr * ldc + jr * nr, ldc,
                        accumulate);
}

/* Whether an M x N product (N <= 16) pads less on the 24 x 16 tile (AVX-512) than on the 12 x 32
 * one in its better orientation: the 5x5 layer's forward (M = 100 pixels, N = 16 channels)
 * fills 1728 tile lanes instead of 3072, its weight gradient 2688 instead of 3840. Both
 * tiles run at the same FMA rate, so the padded area is the time. */
static int narrow_suits(const fnn_gemm_config *cfg, ptrdiff_t M, ptrdiff_t N)
{
    if (cfg != &fnn_gemm_configs[FNN_ISA_AVX512] || N > FNN_NARROW_NR) return 0;
    const double narrow = (double)fnn_round_up(M, cfg->mr) * FNN_NARROW_NR;
    const double as_is = (double)fnn_round_up(M, cfg->mr) * (double)fnn_round_up(N, cfg->nr);
    const double swapped = (double)fnn_round_up(N, cfg->mr) * (double)fnn_round_up(M, cfg->nr);
    return narrow < as_is && narrow < swapped;
}

/* C (rows of `panels` 12-wide A panels x 16 columns, row stride ldc) (+)= the product with the
 * one 16-wide B panel, two A panels per 24 x 16 tile. */
static void run_narrow(ptrdiff_t panels, ptrdiff_t kc, const float *Ap, const float *Bp, float *C,
                       ptrdiff_t ldc, int accumulate)
{
    for (ptrdiff_t q = 0; q < panels; q += 2)
        fnn_ukernel_avx512_24x16(kc, Ap + q * FNN_MR_AVX512 * kc, Bp, C + q * FNN_MR_AVX512 * ldc,
                                 ldc, accumulate, (int)fnn_min_pd(2, panels - q));
}

/* The filters of every group, packed once per call: group q's K x oc as kc blocks of panels
 * `width` wide, block b at wpk + q * stride + pc * fnn_round_up(oc, width). */
static void pack_filters(const fnn_iconv *s, const geometry *g, const float *w, int width,
                         ptrdiff_t kc_max, float *wpk, ptrdiff_t stride)
{
    for (ptrdiff_t q = 0; q < s->groups; ++q)
        for (ptrdiff_t pc = 0; pc < g->K; pc += kc_max) {
            const ptrdiff_t kc = fnn_min_pd(kc_max, g->K - pc);
            fnn_gemm_pack_a(width, g->oc, kc, w + q * g->oc * g->K + pc, g->K, 1,
                            wpk + q * stride + pc * fnn_round_up(g->oc, width));
        }
}

/* out (the GEMM's tile buffer) into y's planes, with the bias and ReLU (NaN kept). by_rows:
 * out is P x ldo (pixels as rows), else oc x ldo. */
static void store_output(const geometry *g, const float *out, ptrdiff_t ldo, int by_rows,
                         const float *bias, int relu, float *y)
{
    if (by_rows) {
        fnn_planes_from_pixels(out, ldo, g->oc, g->P, g->P, bias, relu, y);
        return;
    }
    for (ptrdiff_t o = 0; o < g->oc; ++o)
        fnn_bias_relu(out + o * ldo, y + o * g->P, g->P, bias ? bias[o] : 0.0f, relu);
}

/* One B panel's column of C, rows [0, M): whole MR-row tiles read A in place with the strided
 * micro-kernel (A(i, k) = a[i rsa + k csa]); a last partial tile comes from a_panel, packed
 * first by pack_last_rows. The tap-by-tap passes and the in-place output gradient share it. */
static void rows_in_place(const fnn_gemm_config *cfg, ptrdiff_t M, ptrdiff_t kc, const float *a,
                          ptrdiff_t rsa, ptrdiff_t csa, const float *a_panel, const float *b,
                          float *c, ptrdiff_t ldc, int accumulate)
{
    const ptrdiff_t whole = M / cfg->mr * cfg->mr;
    for (ptrdiff_t ir = 0; ir < whole; ir += cfg->mr)
        cfg->kernel_strided(kc, a + ir * rsa, rsa, csa, b, c + ir * ldc, ldc, accumulate);
    if (whole < M) cfg->kernel(kc, a_panel, b, c + whole * ldc, ldc, accumulate);
}

/* rows_in_place's last partial tile (rows past M zero) into a_panel; nothing when M is whole. */
static void pack_last_rows(const fnn_gemm_config *cfg, ptrdiff_t M, ptrdiff_t kc, const float *a,
                           ptrdiff_t rsa, ptrdiff_t csa, float *a_panel)
{
    const ptrdiff_t whole = M / cfg->mr * cfg->mr;
    if (whole < M) fnn_gemm_pack_a(cfg->mr, M - whole, kc, a + whole * rsa, rsa, csa, a_panel);
}

/* The forward tap by tap, reading the image in place (no packing of the image).
 *
 * For one tap (i, j) the GEMM's A, pixels x channels, is the image itself: output pixel
 * (oy, ox) reads channel c at img[c hp wp + off_t + oy wp + ox], off_t = i dh wp + j dw. Numbered
 * e = oy wp + ox, the pixels are one run per channel and the channels one stride apart, so
 * the strided micro-kernel reads its 12 rows of A where they are (rsa 1, csa hp wp), as the 1x1
 * path does. The price is that the GEMM's rows are these "extended" pixels: each output row's
 * wp - ow columns past its end are computed and dropped (E = (oh - 1) wp + ow rows; the last
 * row stops at ow, so no read passes the plane). The taps then add into one C, each with its
 * own block of the filters (K = channels per tap, so only deep layers suit).
 * Packing the pixels took 18% of DCGAN's 4x4 stride-2 forward (perf, Zen 5; the phases of
 * conv_phased.c are such an unpadded 2x2 convolution over 4x the channels) against 6% more
 * rows here (issue 12). Measured against packing, alternating builds, 1 thread, batch 64:
 * (64,32,32) -> 128 (256 phase channels) 22.0 against 25.3 ms; (128,16,16) -> 256 (512, 64
 * pixels) 24.4 against 24.6; the input gradient of the first (128 channels of gy, padded by 1)
 * 27.4 against 26.2, so from 256 channels a tap. */
#ifndef BYTAPS_MIN_CHANNELS
#define BYTAPS_MIN_CHANNELS 256
#endif

/* Rows of the extended pixel numbering: output rows at the padded width, the last one cut. */
static ptrdiff_t extended_rows(const geometry *g)
{
    return (g->oh - 1) * g->wp + g->ow;
}

/* Whether the forward runs tap by tap in place, given its tile orientation. */
static int by_taps_suits(const fnn_gemm_config *cfg, const geometry *g, const fnn_iconv *s,
                         int narrow)
{
    const ptrdiff_t plane = g->hp * g->wp, taps = s->kh * s->kw;
    if (fnn_conv_implicit_mode() == FNN_IMPLICIT_NEVER || !cfg->kernel_strided || narrow ||
        taps < 2 || g->cin < BYTAPS_MIN_CHANNELS || g->oh < 1 || g->ow < 1)
        return 0;
    /* channels a multiple of 4 KiB apart would put a k step's lines in one L1 set */
    if (plane % 1024 == 0) return 0;
    /* the extended rows must not pad the tiles much more than the packed orientations do */
    const double tiles = (double)fnn_round_up(extended_rows(g), cfg->mr) *
                         (double)fnn_round_up(g->oc, cfg->nr);
    const double as_is = (double)fnn_round_up(g->oc, cfg->mr) * (double)fnn_round_up(g->P, cfg->nr);
    const double swapped = (double)fnn_round_up(g->P, cfg->mr) * (double)fnn_round_up(g->oc, cfg->nr);
    return tiles <= 1.15 * (as_is < swapped ? as_is : swapped);
}

/* The filters of every group for the tap-by-tap forward: group q, tap t, channels [pc, pc + kc)
 * as panels of nr output channels (the GEMM's B, kc x nr each) at
 * wpk + q stride + (t cin + pc) round_up(oc, nr). */
static void pack_filters_by_taps(const fnn_iconv *s, const geometry *g, const float *w, int nr,
                                 ptrdiff_t kc_max, float *wpk, ptrdiff_t stride)
{
    const ptrdiff_t taps = s->kh * s->kw, ocr = fnn_round_up(g->oc, nr);
    for (ptrdiff_t q = 0; q < s->groups; ++q)
        for (ptrdiff_t t = 0; t < taps; ++t)
            for (ptrdiff_t pc = 0; pc < g->cin; pc += kc_max)
                fnn_gemm_pack_a(nr, g->oc, fnn_min_pd(kc_max, g->cin - pc),
                                w + q * g->oc * g->K + pc * taps + t, g->K, taps,
                                wpk + q * stride + (t * g->cin + pc) * ocr);
}

/* out (extended rows x ldo) = the image's forward, tap by tap; panel holds a last partial tile. */
static void forward_by_taps(const fnn_gemm_config *cfg, const geometry *g, const fnn_iconv *s,
                            const float *img, const float *wq, ptrdiff_t kc_max, float *panel,
                            float *out, ptrdiff_t ldo)
{
    const int nr = cfg->nr;
    const ptrdiff_t E = extended_rows(g), plane = g->hp * g->wp;
    const ptrdiff_t taps = s->kh * s->kw;
    FNN_ASSERT_INDEX((g->cin - 1) * plane + g->off[taps - 1] + E - 1, g->xp_size);
    for (ptrdiff_t t = 0; t < taps; ++t)
        for (ptrdiff_t pc = 0; pc < g->cin; pc += kc_max) {
            const ptrdiff_t kc = fnn_min_pd(kc_max, g->cin - pc);
            const float *a = img + pc * plane + g->off[t]; /* off[t]: channel 0's tap t */
            const float *wb = wq + (t * g->cin + pc) * ldo;
            pack_last_rows(cfg, E, kc, a, 1, plane, panel);
            for (ptrdiff_t jr = 0; jr < ldo / nr; ++jr)
                rows_in_place(cfg, E, kc, a, 1, plane, panel, wb + jr * nr * kc, out + jr * nr,
                              ldo, t > 0 || pc > 0);
        }
}

/* y's planes from the extended rows: output row oy is rows [oy wp, oy wp + ow) of out. */
static void store_extended(const geometry *g, const float *out, ptrdiff_t ldo, const float *bias,
                           int relu, float *y)
{
    for (ptrdiff_t oy = 0; oy < g->oh; ++oy)
        fnn_planes_from_pixels(out + oy * g->wp * ldo, ldo, g->oc, g->ow, g->P, bias, relu,
                               y + oy * g->ow);
}

int fnn_conv2d_implicit_forward(const float *x, const float *mask, const float *w,
                                const float *bias, int relu, float *y, const fnn_iconv *s)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_CONV_IMPLICIT], 1, __ATOMIC_RELAXED);
    /* Winograd where it suits, on finite values only: a tile's transform mixes its 16 inputs,
     * so an inf would reach outputs whose window does not hold it (torch's direct convolution
     * keeps those finite) */
    if (!s->phases_of && fnn_conv2d_winograd_suits(s) &&
        fnn_all_finite(x, s->n * s->groups * s->c * s->h * s->w) &&
        fnn_all_finite(w, s->groups * s->oc * s->c * 9))
        return fnn_conv2d_winograd_forward(x, mask, w, bias, relu, y, s);
    const fnn_gemm_config *cfg = &fnn_gemm_configs[fnn_isa_active()];
    const int mr = cfg->mr, nr = cfg->nr;
    geometry g;
    if (!geometry_init(&g, s, cfg)) return FNN_ENOMEM;
    /* y^T = col^T @ W^T (pixels as rows) or y = W @ col, whichever pads the micro-tiles
     * less: (128,32,14,14) -> 64 has 196 pixel rows and 64 columns; (256,6,14,14) -> 16 would
     * fill half of NR = 32 with its 16 channels, so it takes the other way */
    const int narrow = narrow_suits(cfg, g.P, g.oc);
    const int by_taps = by_taps_suits(cfg, &g, s, narrow);
    const int by_rows = by_taps || narrow || fnn_transpose_pads_less(mr, nr, g.oc, g.P);
    if (by_taps) __atomic_fetch_add(&fnn_call_counts[FNN_K_CONV_BY_TAPS], 1, __ATOMIC_RELAXED);
    const int nrb = narrow ? FNN_NARROW_NR : nr;
    if (narrow) __atomic_fetch_add(&fnn_call_counts[FNN_K_CONV_NARROW], 1, __ATOMIC_RELAXED);
    /* narrow outputs at most 12 wide: two output rows at a time straight from the image, with
     * no packing (fnn_ukernel_avx512_rows16) */
    const int in_place_rows = narrow && g.ow <= FNN_ROWS16_MAX_WIDTH;
    const int pointwise = s->kh == 1 && s->kw == 1;
    const ptrdiff_t kc_max = fnn_balanced_block(by_taps ? g.cin : g.K, cfg->kc, 1);
    /* the filters are B (panels of nrb channels) when the outputs are rows, else A */
    const int wwidth = by_rows ? nrb : mr;
    const ptrdiff_t wstride = fnn_round_up(g.oc, wwidth) * g.K;
    /* outputs per block: the rows of an A block (MC) or the columns of a B panel (NC) */
    const ptrdiff_t pblock = narrow    ? 2 * mr
                             : by_rows ? fnn_balanced_block(g.P, cfg->mc, mr)
                                       : fnn_balanced_block(g.P, cfg->nc, nr);
    const ptrdiff_t rows = by_taps   ? fnn_round_up(extended_rows(&g), mr)
                           : by_rows ? fnn_round_up(g.P, mr)
                                     : fnn_round_up(g.oc, mr);
    const ptrdiff_t ldo = by_rows ? fnn_round_up(g.oc, nrb) : fnn_round_up(g.P, nr);
    float *wpk = fnn_malloc((size_t)(s->groups * wstride) * sizeof(float));
    int status = wpk ? FNN_OK : FNN_ENOMEM;
    if (wpk && by_taps)
        pack_filters_by_taps(s, &g, w, nr, kc_max, wpk, wstride);
    else if (wpk)
        pack_filters(s, &g, w, wwidth, kc_max, wpk, wstride);
    int threads = fnn_region_threads();
    if (threads > s->n) threads = (int)(s->n > 0 ? s->n : 1);
    fnn_region region = {.start = fnn_now_ns(), .threads = threads};
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        float *buf[3];
        /* xp, the padded copy of the image, unless it is read in place */
        const size_t sizes[3] = {in_place(&g, mask) ? 0 : (size_t)(g.xp_size + SLACK),
                                 (size_t)(fnn_round_up(pblock, by_rows ? mr : nr) * kc_max + SLACK),
                                 (size_t)(rows * ldo)};
        int got;
        float *owned = fnn_thread_buffers(buf, sizes, 3, &got);
        float *xp = buf[0], *panel = buf[1], *out = buf[2];
        if (got) memset(xp, 0, sizes[0] * sizeof(float)); /* the zero border */
        const int ok = wpk && got;
        double images = 0.0;
        if (!ok) FNN_CONV_FAIL(status);
#pragma omp for schedule(static) nowait
        for (ptrdiff_t n = 0; n < s->n; ++n) {
            if (!ok) continue;
            images += 1.0;
            for (ptrdiff_t q = 0; q < s->groups; ++q) {
                const ptrdiff_t at = (n * s->groups + q) * g.src_image;
                const float *img = image_at(&g, x + at, mask ? mask + at : NULL, xp);
                const float *wq = wpk + q * wstride;
                float *yq = y + (n * s->groups + q) * g.oc * g.oh * g.ow;
                if (by_taps) {
                    forward_by_taps(cfg, &g, s, img, wq, kc_max, panel, out, ldo);
                    store_extended(&g, out, ldo, bias ? bias + q * g.oc : NULL, relu, yq);
                    continue;
                }
                for (ptrdiff_t oy = 0; in_place_rows && oy < g.oh; oy += 2) {
                    FNN_ASSERT_INDEX(g.off[g.K - 1] + (fnn_min_pd(oy + 2, g.oh) - 1) * g.wp +
                                         g.ow - 1, g.xp_size);
                    for (ptrdiff_t pc = 0; pc < g.K; pc += kc_max)
                        fnn_ukernel_avx512_rows16(fnn_min_pd(kc_max, g.K - pc), img + oy * g.wp,
                                                  g.off + pc, g.wp, (int)fnn_min_pd(2, g.oh - oy),
                                                  (int)g.ow, wq + pc * FNN_NARROW_NR,
                                                  out + oy * g.ow * ldo, ldo, pc > 0);
                }
                for (ptrdiff_t p0 = 0; !in_place_rows && p0 < g.P; p0 += pblock) {
                    const ptrdiff_t pn = fnn_min_pd(pblock, g.P - p0);
                    for (ptrdiff_t pc = 0; pc < g.K; pc += kc_max) {
                        const ptrdiff_t kc = fnn_min_pd(kc_max, g.K - pc);
                        const float *wb = wq + pc * fnn_round_up(g.oc, wwidth);
                        if (by_rows && !narrow && pointwise && img == x + at &&
                            cfg->kernel_strided) {
                            /* 1x1 unpadded, read in place: pixel i of channel k at
                             * img[k P + i], so the strided micro-kernel takes its A straight
                             * from the planes; only a last partial tile is packed. (Not on
                             * the narrow tile: its filters are packed 16 wide, and ldo / nr
                             * was then 0 panels, leaving the output unwritten for a 1x1
                             * layer of at most 16 channels, hypothesis's case: 13 pixels,
                             * 13 channels.) */
                            const ptrdiff_t whole = pn / mr * mr;
                            for (ptrdiff_t jr = 0; jr < ldo / nr; ++jr)
                                for (ptrdiff_t ir = 0; ir < whole; ir += mr)
                                    cfg->kernel_strided(kc, img + pc * g.P + p0 + ir, 1, g.P,
                                                        wb + jr * nr * kc,
                                                        out + (p0 + ir) * ldo + jr * nr, ldo,
                                                        pc > 0);
                            if (whole < pn) {
                                pack_pixels(&g, img, pc, kc, p0 + whole, pn - whole, mr, panel);
                                run_tiles(cfg, 1, ldo / nr, kc, panel, wb,
                                          out + (p0 + whole) * ldo, ldo, pc > 0);
                            }
                        } else if (by_rows) {
                            pack_pixels(&g, img, pc, kc, p0, pn, mr, panel);
                            if (narrow)
                                run_narrow(fnn_ceil_div(pn, mr), kc, panel, wb, out + p0 * ldo,
                                           ldo, pc > 0);
                            else
                                run_tiles(cfg, fnn_ceil_div(pn, mr), ldo / nr, kc, panel, wb,
                                          out + p0 * ldo, ldo, pc > 0);
                        } else {
                            pack_pixels(&g, img, pc, kc, p0, pn, nr, panel);
                            run_tiles(cfg, rows / mr, fnn_ceil_div(pn, nr), kc, wb, panel, out + p0,
                                      ldo, pc > 0);
                        }
                    }
                }
                store_output(&g, out, ldo, by_rows, bias ? bias + q * g.oc : NULL, relu, yq);
            }
        }
        free(owned);
        FNN_REGION_DONE(&region, fnn_thread_index(), images);
    }
    fnn_region_judge(&region, fnn_now_ns());
    free(wpk);
    free(g.off);
    return status;
}

int fnn_conv2d_implicit_input_grad(const float *gy, const float *y, const float *w, float *gx,
                                   const fnn_iconv *s)
{
    const ptrdiff_t cpg = s->c, ocpg = s->oc, taps = s->kh * s->kw;
    /* the adjoint: filters [g][c][o][kh-1-i][kw-1-j] = w[g][o][c][i][j] */
    float *flipped = fnn_malloc((size_t)(s->groups * ocpg * cpg * taps) * sizeof(float));
    if (!flipped) return FNN_ENOMEM;
    for (ptrdiff_t q = 0; q < s->groups; ++q)
        for (ptrdiff_t o = 0; o < ocpg; ++o)
            for (ptrdiff_t c = 0; c < cpg; ++c)
                for (ptrdiff_t t = 0; t < taps; ++t)
                    flipped[((q * cpg + c) * ocpg + o) * taps + (taps - 1 - t)] =
                        w[((q * ocpg + o) * cpg + c) * taps + t];
    const fnn_iconv adj = {
        .n = s->n, .groups = s->groups, .c = ocpg, .h = s->oh, .w = s->ow,
        .oc = cpg, .oh = s->h, .ow = s->w, .kh = s->kh, .kw = s->kw,
        .ph = s->dh * (s->kh - 1) - s->ph, .pw = s->dw * (s->kw - 1) - s->pw,
        .dh = s->dh, .dw = s->dw};
    const int status = fnn_conv2d_implicit_forward(gy, y, flipped, NULL, 0, gx, &adj);
    free(flipped);
    return status;
}

/* The weight gradient tap by tap, reading the image in place: for tap t, gW_t^T (channels x
 * output channels) += img_t (channels x extended pixels: rsa hp wp, csa 1, as forward_by_taps
 * reads it) @ gy^T (extended pixels x output channels, zero in the dropped columns), one image
 * per k block. Packing the taps (pack_taps) took 30% of DCGAN's 4x4 stride-2 weight gradient
 * on 32 x 32 (perf, Zen 5, issue 12). An image's k block must be deep (BYTAPS_MIN_PIXELS) and
 * the sums small: each image reads and writes all of them. */
#define BYTAPS_MIN_PIXELS 256
/* gy read in place by the weight gradient (see there): an image's pixels are a k block */
#define GY_IN_PLACE_MIN_PIXELS 128
#define GY_IN_PLACE_MAX_SUMS (64 * 1024)
#define BYTAPS_MAX_SUMS (160 * 1024)

static int weight_grad_by_taps_suits(const fnn_gemm_config *cfg, const geometry *g,
                                     const fnn_iconv *s, int narrow)
{
    const ptrdiff_t taps = s->kh * s->kw, E = g->oh > 0 ? extended_rows(g) : 0;
    if (fnn_conv_implicit_mode() == FNN_IMPLICIT_NEVER || !cfg->kernel_strided || narrow ||
        taps < 2 || g->cin < BYTAPS_MIN_CHANNELS || g->ow < 1 || E < BYTAPS_MIN_PIXELS ||
        (g->hp * g->wp) % 1024 == 0)
        return 0;
    const double sums = (double)taps * fnn_round_up(g->cin, cfg->mr) * fnn_round_up(g->oc, cfg->nr);
    return sums <= BYTAPS_MAX_SUMS && (double)E <= 1.1 * (double)g->P;
}

/* The output gradient (oc planes of P, as fnn_masked_grad_into left it in grads) as the GEMM's
 * B: panels of nr output channels, each E extended pixels x nr, zero in the dropped columns and
 * past oc. */
static void grad_panels_extended(const geometry *g, int nr, const float *grads, float *panels)
{
    const ptrdiff_t E = extended_rows(g);
    for (ptrdiff_t o0 = 0; o0 < g->oc; o0 += nr) {
        float *panel = panels + o0 * E;
        for (ptrdiff_t oy = 0; oy < g->oh; ++oy) {
            fnn_gemm_pack_a(nr, fnn_min_pd(nr, g->oc - o0), g->ow, grads + o0 * g->P + oy * g->ow,
                            g->P, 1, panel + oy * g->wp * nr);
            if (oy + 1 < g->oh)
                memset(panel + (oy * g->wp + g->ow) * nr, 0,
                       (size_t)((g->wp - g->ow) * nr) * sizeof(float));
        }
    }
}

/* sums (taps x round_up(cin, mr) rows of cols) += one image's products, tap by tap. */
static void weight_grad_by_taps(const fnn_gemm_config *cfg, const geometry *g, ptrdiff_t taps,
                                const float *img, const float *panels, float *a_panel,
                                float *sums, ptrdiff_t cols)
{
    const int nr = cfg->nr;
    const ptrdiff_t E = extended_rows(g), plane = g->hp * g->wp;
    const ptrdiff_t cin_r = fnn_round_up(g->cin, cfg->mr);
    FNN_ASSERT_INDEX((g->cin - 1) * plane + g->off[taps - 1] + E - 1, g->xp_size);
    /* a tile of channels at a time across the output channels, so its 12 rows stay in L1 (the
     * other order, the whole tap per panel, was 6% slower on DCGAN's 64 -> 128 layer) */
    for (ptrdiff_t t = 0; t < taps; ++t)
        for (ptrdiff_t c0 = 0; c0 < g->cin; c0 += cfg->mr) {
            const ptrdiff_t rows = fnn_min_pd(cfg->mr, g->cin - c0);
            const float *a = img + c0 * plane + g->off[t]; /* channels as rows, pixels as k */
            pack_last_rows(cfg, rows, E, a, plane, 1, a_panel);
            for (ptrdiff_t jr = 0; jr < cols / nr; ++jr)
                rows_in_place(cfg, rows, E, a, plane, 1, a_panel, panels + jr * nr * E,
                              sums + (t * cin_r + c0) * cols + jr * nr, cols, 1);
        }
}

int fnn_conv2d_implicit_weight_grad(const float *x, const float *gy, const float *y, float *gw,
                                    float *gb, const fnn_iconv *s)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_CONV_IMPLICIT], 1, __ATOMIC_RELAXED);
    /* Winograd where it suits. A non-finite input would spread through the transforms to
     * weights whose taps never saw it, so a gradient with any inf or NaN is computed again
     * here, directly: checking the small result is cheaper than scanning x and gy (5% of the
     * pass), and any non-finite input leaves its mark in the result */
    if (gw && !s->phases_of && fnn_conv2d_winograd_weight_grad_suits(s)) {
        const int status = fnn_conv2d_winograd_weight_grad(x, gy, y, gw, gb, s);
        if (status != FNN_OK || fnn_all_finite(gw, s->groups * s->oc * s->c * s->kh * s->kw))
            return status;
    }
    const fnn_gemm_config *cfg = &fnn_gemm_configs[fnn_isa_active()];
    const int mr = cfg->mr, nr = cfg->nr;
    const ptrdiff_t oc_all = s->groups * s->oc;
    geometry g;
    if (!geometry_init(&g, s, cfg)) return FNN_ENOMEM;
    /* gW^T = col @ gy^T (taps as rows) or gW = gy @ col^T, whichever pads less */
    const int narrow = narrow_suits(cfg, g.K, g.oc);
    const ptrdiff_t taps = s->kh * s->kw;
    /* by_taps: the sums are taps blocks of round_up(cin, mr) channels x cols, taps as rows */
    const int by_taps = gw && weight_grad_by_taps_suits(cfg, &g, s, narrow);
    const int taps_as_rows = by_taps || narrow || fnn_transpose_pads_less(mr, nr, g.oc, g.K);
    if (by_taps) __atomic_fetch_add(&fnn_call_counts[FNN_K_CONV_BY_TAPS], 1, __ATOMIC_RELAXED);
    const int nrb = narrow ? FNN_NARROW_NR : nr;
    if (narrow) __atomic_fetch_add(&fnn_call_counts[FNN_K_CONV_NARROW], 1, __ATOMIC_RELAXED);
    const ptrdiff_t rows = by_taps        ? taps * fnn_round_up(g.cin, mr)
                           : taps_as_rows ? fnn_round_up(g.K, mr)
                                          : fnn_round_up(g.oc, mr);
    const ptrdiff_t cols = taps_as_rows ? fnn_round_up(g.oc, nrb) : fnn_round_up(g.K, nr);
    const ptrdiff_t acc_size = s->groups * rows * cols; /* one run's sum, as the GEMM's C */
    /* fixed runs of images, summed in order: the same bits on any thread count */
    const ptrdiff_t parts = fnn_conv_parts(s->n, acc_size);
    int threads = fnn_region_threads();
    if (threads > parts) threads = (int)parts;
    /* Images are reduced `group` at a time, their pixels side by side in one k block: the
     * GEMM's C (the whole weight gradient) is then read and written once per group rather
     * than once per image. With few pixels an image that traffic was the pass: DCGAN's 4x4
     * stride-2 layer from 128 channels (64 pixels, 2 MiB of gradient) moved 256 MiB a batch
     * (issue 12). A group stays within one part, so the sums keep their fixed order. */
    /* Output channels as rows: the strided micro-kernel reads them from the group's masked
     * gradient (grads, oc x width_px) where it lies rather than from packed panels (not at a
     * row stride that would alias in L1: rows_alias_in_l1 in gemm.c). Packing them was 12% of
     * the (64,64,14,14) -> 128 1x1 layer's weight gradient (perf, Zen 5, issue 12). Without a
     * ReLU mask, and with sums small enough to be read and written once per image, gy itself
     * (gy_in_place: one image a k block) spares the copy into grads, another 10%. */
    const int grads_in_place = !taps_as_rows && cfg->kernel_strided;
    const int gy_in_place = grads_in_place && !y && g.P >= GY_IN_PLACE_MIN_PIXELS &&
                            g.P % 512 != 0 && rows * cols <= GY_IN_PLACE_MAX_SUMS;
    const ptrdiff_t group =
        by_taps || gy_in_place
            ? 1
            : fnn_max_pd(1, fnn_min_pd(fnn_min_pd(cfg->kc / fnn_max_pd(g.P, 1), FNN_CONV_GROUP_MAX), s->n));
    const ptrdiff_t span = group * g.P; /* pixels of a full group */
    const ptrdiff_t kc_max = fnn_balanced_block(span, cfg->kc, 1);
    /* the tap panels are a block of at most MC (taps as rows) or NC taps */
    const ptrdiff_t tblock = taps_as_rows ? fnn_balanced_block(g.K, cfg->mc, mr) : fnn_balanced_block(g.K, cfg->nc, nr);
    float *acc = gw ? fnn_calloc((size_t)(parts * acc_size), sizeof(float)) : NULL;
    double *acc_b = gb ? fnn_calloc((size_t)(parts * oc_all), sizeof(double)) : NULL;
    int status = (gw && !acc) || (gb && !acc_b) ? FNN_ENOMEM : FNN_OK;
    const int copies = !in_place(&g, NULL);
    fnn_region region = {.start = fnn_now_ns(), .threads = threads};
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        /* xp per image of a group (padded copies), the group's masked output gradient
         * (g.oc x span), the packed panels */
        float *buf[4];
        const ptrdiff_t E = by_taps ? extended_rows(&g) : 0;
        const size_t sizes[4] = {copies ? (size_t)(group * g.xp_size) : 0,
                                 (size_t)(g.oc * span),
                                 by_taps ? (size_t)(cols * E)
                                         : (size_t)((taps_as_rows ? cols : rows) * kc_max),
                                 by_taps ? (size_t)(mr * E)
                                         : (size_t)(fnn_round_up(tblock, taps_as_rows ? mr : nr) * kc_max)};
        int got;
        float *owned = fnn_thread_buffers(buf, sizes, 4, &got);
        float *xps = buf[0], *grads = buf[1], *grad_panels = buf[2], *tap_panels = buf[3];
        if (got) memset(xps, 0, sizes[0] * sizeof(float)); /* the zero border */
        const int ok = status == FNN_OK && got;
        double images = 0.0;
        if (!ok) FNN_CONV_FAIL(status);
        const float *imgs[FNN_CONV_GROUP_MAX];
#pragma omp for schedule(static) nowait
        for (ptrdiff_t part = 0; part < parts; ++part) {
            if (!ok) continue;
            const ptrdiff_t n_end = s->n * (part + 1) / parts;
            for (ptrdiff_t n0 = s->n * part / parts; n0 < n_end; n0 += group) {
                const ptrdiff_t nb = fnn_min_pd(group, n_end - n0), width_px = nb * g.P;
                images += (double)nb;
                for (ptrdiff_t q = 0; q < s->groups; ++q) {
                    /* each image's masked gradient into its columns of grads (ld width_px) */
                    /* by_taps, gy_in_place: gy itself without a mask */
                    const float *image_grads = grads;
                    for (ptrdiff_t j = 0; j < nb; ++j) {
                        const ptrdiff_t n = n0 + j;
                        const ptrdiff_t at_y = (n * s->groups + q) * g.oc * g.oh * g.ow;
                        double *bias_sums = acc_b ? acc_b + part * oc_all + q * g.oc : NULL;
                        if (by_taps || gy_in_place)
                            image_grads = fnn_masked_grad(gy + at_y, y ? y + at_y : NULL, grads,
                                                          g.oc, g.P, bias_sums);
                        else
                            fnn_masked_grad_into(gy + at_y, y ? y + at_y : NULL, grads + j * g.P,
                                                 width_px, g.oc, g.P, bias_sums);
                        if (acc)
                            imgs[j] = image_at(&g, x + (n * s->groups + q) * g.src_image,
                                               NULL, xps + j * g.xp_size);
                    }
                    if (!acc) continue;
                    float *c = acc + part * acc_size + q * rows * cols;
                    if (by_taps) { /* (group is 1 image: kc_max = span = P, see above) */
                        grad_panels_extended(&g, nr, image_grads, grad_panels);
                        weight_grad_by_taps(cfg, &g, taps, imgs[0], grad_panels, tap_panels, c,
                                            cols);
                        continue;
                    }
                    for (ptrdiff_t pc = 0; pc < width_px; pc += kc_max) {
                        const ptrdiff_t kc = fnn_min_pd(kc_max, width_px - pc);
                        /* read in place: only a last partial tile of output channels packed */
                        const int in_place_grads = grads_in_place && width_px % 512 != 0;
                        if (in_place_grads)
                            pack_last_rows(cfg, g.oc, kc, image_grads + pc, width_px, 1,
                                           grad_panels);
                        else
                            fnn_gemm_pack_a(taps_as_rows ? nrb : mr, g.oc, kc, image_grads + pc,
                                            width_px, 1, grad_panels);
                        const int w_tap = taps_as_rows ? mr : nr;
                        for (ptrdiff_t t0 = 0; t0 < g.K; t0 += tblock) {
                            const ptrdiff_t tn = fnn_min_pd(tblock, g.K - t0);
                            /* the block's pixels, image by image, side by side in the panels */
                            for (ptrdiff_t p = pc; p < pc + kc;) {
                                const ptrdiff_t j = p / g.P, pi = p % g.P;
                                const ptrdiff_t len = fnn_min_pd(g.P - pi, pc + kc - p);
                                pack_taps(&g, imgs[j], t0, tn, pi, len, w_tap,
                                          tap_panels + (p - pc) * w_tap, kc);
                                p += len;
                            }
                            if (taps_as_rows) {
                                if (narrow)
                                    run_narrow(fnn_ceil_div(tn, mr), kc, tap_panels, grad_panels,
                                               c + t0 * cols, cols, 1);
                                else
                                    run_tiles(cfg, fnn_ceil_div(tn, mr), cols / nr, kc,
                                              tap_panels, grad_panels, c + t0 * cols, cols, 1);
                            } else if (in_place_grads) {
                                for (ptrdiff_t jr = 0; jr < fnn_ceil_div(tn, nr); ++jr)
                                    rows_in_place(cfg, g.oc, kc, image_grads + pc, width_px, 1,
                                                  grad_panels, tap_panels + jr * nr * kc,
                                                  c + t0 + jr * nr, cols, 1);
                            } else {
                                run_tiles(cfg, rows / mr, fnn_ceil_div(tn, nr), kc, grad_panels,
                                          tap_panels, c + t0, cols, 1);
                            }
                        }
                    }
                }
            }
        }
        free(owned);
        FNN_REGION_DONE(&region, fnn_thread_index(), images);
    }
    fnn_region_judge(&region, fnn_now_ns());
    if (gw && status == FNN_OK) {
        /* the runs' sums added into the first in run order (the additions, in the order, of
         * summing each element across the runs; one strided pass, not one per run: summed
         * element by element, DCGAN's 4x4 layer spent 5% of its weight gradient here) */
        for (ptrdiff_t part = 1; part < parts; ++part) {
            const float *from = acc + part * acc_size;
#pragma omp simd
            for (ptrdiff_t i = 0; i < acc_size; ++i) acc[i] += from[i];
        }
        const ptrdiff_t cin_r = fnn_round_up(g.cin, mr);
        for (ptrdiff_t q = 0; q < s->groups; ++q)
            for (ptrdiff_t o = 0; o < g.oc; ++o)
                for (ptrdiff_t k = 0; k < g.K; ++k) {
                    /* by_taps: tap k % taps of channel k / taps */
                    const ptrdiff_t row = by_taps ? k % taps * cin_r + k / taps : k;
                    const ptrdiff_t at = q * rows * cols + (taps_as_rows ? row * cols + o : o * cols + k);
                    gw[(q * g.oc + o) * g.K + k] = acc[at];
                }
    }
    if (gb && status == FNN_OK) fnn_bias_from_parts(acc_b, parts, oc_all, gb);
    free(acc);
    free(acc_b);
    free(g.off);
    return status;
}
