/* 3x3 stride-1 convolution by Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray, "Fast
 * Algorithms for Convolutional Neural Networks", CVPR 2016), on the AVX-512 micro-kernel.
 *
 * The output is cut into 2x2 tiles; tile t reads a 4x4 patch d of the padded input, and
 *     y_tile = A^T [ (G g G^T) (.) (B^T d B) ] A
 * for each filter g, where (.) is the element-wise product over the 16 positions xi of the
 * 4x4 transforms. Summed over the input channels, each position is a GEMM:
 *     M[xi] (tiles x oc) = V[xi] (tiles x cin) @ U[xi] (cin x oc),
 * 16 products of 16 multiply-adds per tile and channel pair where the direct convolution
 * needs 36: 2.25x fewer. The deep 3x3 layers ran on the implicit GEMM at ~90% of the FMA
 * peak, as oneDNN's direct convolution does, so only fewer multiplications could pass it
 * (issue 12).
 *
 * Work goes a panel of 12 tiles (the micro-kernel's MR) at a time, tiles counted across a
 * few images so that the panels are full: the panel's input transform (16 x cin x 12 floats,
 * written as the micro-kernel's packed A panels), its 16 x oc/32 micro-kernel calls against
 * the filters' transforms (packed once per call as B panels) and its output transform into a
 * pixel-major buffer all stay in L1/L2. The buffer goes to the NCHW planes with the bias and
 * ReLU (fnn_planes_from_pixels). The transforms only add and subtract (and halve, for the
 * filters), so the result differs from the direct sum by a few roundings.
 *
 * Threads take whole images. This file serves the forward, through the adjoint
 * (conv_implicit.c) the input gradient, and by the transposed products (below) the weight
 * gradient.
 */
#include "conv_implicit.h"
#include "conv_shared.h"
#include "fastnn_kernels.h"
#include "gemm_config.h"
#include "gemm_grid.h"
#include "parallel.h"

#include <stdlib.h>
#include <string.h>

extern long long fnn_call_counts[FNN_K_COUNT];

static int winograd_enabled = 1;

void fnn_conv_winograd_enable(int on) { winograd_enabled = on != 0; }
int fnn_conv_winograd_enabled(void) { return winograd_enabled; }

#define PANEL FNN_MR_AVX512 /* tiles per panel */
#define NRW FNN_NR_AVX512   /* output channels per B panel */
#define XI 16               /* positions of a 4x4 transform */
/* Images whose tiles share panels: 49 tiles of a 14x14 output pad to 60 alone (22% waste),
 * four images' 196 to 204. */
#define IMAGES_PER_STEP 4

int fnn_conv2d_winograd_suits(const fnn_iconv *s)
{
    return winograd_enabled && fnn_isa_active() == FNN_ISA_AVX512 && s->kh == 3 && s->kw == 3 &&
           s->dh == 1 && s->dw == 1 && s->c <= FNN_KC_AVX512 && s->oh > 0 && s->ow > 0;
}

#if defined(__x86_64__)
#include <immintrin.h>
#define TARGET __attribute__((target("avx512f,fma")))

/* U = G g G^T for every (o, c) of group q, packed as B panels: position xi's cin x oc matrix
 * as panels of NRW channels (zero past oc), [xi][panel][c][NRW]. */
static void transform_filters(const float *w, ptrdiff_t cin, ptrdiff_t oc, ptrdiff_t ocpad,
                              float *up)
{
    memset(up, 0, (size_t)(XI * ocpad * cin) * sizeof(float));
    for (ptrdiff_t o = 0; o < oc; ++o)
        for (ptrdiff_t c = 0; c < cin; ++c) {
            const float *g = w + (o * cin + c) * 9;
            float a[4][3], u[4][4];
            for (int j = 0; j < 3; ++j) { /* G g: rows g0, (g0+g1+g2)/2, (g0-g1+g2)/2, g2 */
                a[0][j] = g[j];
                a[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
                a[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
                a[3][j] = g[6 + j];
            }
            for (int i = 0; i < 4; ++i) { /* (G g) G^T */
                u[i][0] = a[i][0];
                u[i][1] = 0.5f * (a[i][0] + a[i][1] + a[i][2]);
                u[i][2] = 0.5f * (a[i][0] - a[i][1] + a[i][2]);
                u[i][3] = a[i][2];
            }
            for (int xi = 0; xi < XI; ++xi)
                up[((xi * (ocpad / NRW) + o / NRW) * cin + c) * NRW + o % NRW] = u[xi / 4][xi % 4];
        }
}

/* Where each lane (tile) of a panel reads its 4x4 patch: tile t0 + r of the step's tiles
 * (image t / T, then row-major 2x2 tiles), or NULL past the last tile. Consecutive tiles of
 * one tile row form a run: lanes [lane, lane + len) whose patches start 2 floats apart. */
typedef struct {
    const float *base;
    int lane, len;
} tile_run;

typedef struct {
    const float *at[PANEL];
    ptrdiff_t image[PANEL], oy[PANEL], ox[PANEL];
    tile_run runs[PANEL];
    int nruns;
} panel_tiles;

/* The panel of tiles [t0, t0 + PANEL) of a step's `tiles` (T per image, tw per tile row),
 * whose images are padded into xp `image` floats apart (row length wp). */
static void find_tiles(panel_tiles *pt, const float *xp, ptrdiff_t t0, ptrdiff_t tiles,
                       ptrdiff_t T, ptrdiff_t tw, ptrdiff_t image, ptrdiff_t wp, int images)
{
    (void)images;
    pt->nruns = 0;
    for (int r = 0; r < PANEL; ++r) {
        const ptrdiff_t t = t0 + r, i = t / T, ty = t % T / tw, tx = t % T % tw;
        pt->at[r] = t < tiles ? xp + i * image + 2 * ty * wp + 2 * tx : NULL;
        pt->image[r] = i;
        pt->oy[r] = 2 * ty;
        pt->ox[r] = 2 * tx;
        if (!pt->at[r]) continue;
        FNN_ASSERT_INDEX(i * image + (2 * ty + 3) * wp + 2 * tx + 3, images * image);
        if (r == 0 || tx == 0) /* a new run at each tile row */
            pt->runs[pt->nruns++] = (tile_run){pt->at[r], r, 0};
        pt->runs[pt->nruns - 1].len++;
    }
}

/* V = B^T d B for the panel's tiles, channel by channel: vp[xi * xs + c * cs + r]. The forward
 * writes the packed A panels of its 16 GEMMs (xs = cin PANEL, cs = PANEL); the weight gradient
 * rows of tiles (cs = the step's tile count). Rows of B^T: (1,0,-1,0), (0,1,1,0), (0,-1,1,0),
 * (0,1,0,-1). Each run's patch rows are read as vectors (at most 26 floats from base + i wp)
 * and their columns j, 2 floats apart, moved to the run's lanes by permutes: gathering the 16
 * values of each tile one by one had taken a fifth of the forward. */
TARGET static void transform_inputs(const panel_tiles *pt, ptrdiff_t cin, ptrdiff_t plane,
                                    ptrdiff_t wp, float *vp, ptrdiff_t xs, ptrdiff_t cs)
{
    __m512i idx[PANEL][4];
    __mmask16 lanes[PANEL], first[PANEL], second[PANEL];
    for (int q = 0; q < pt->nruns; ++q) {
        const int lane = pt->runs[q].lane, len = pt->runs[q].len, need = 2 * len + 2;
        lanes[q] = (__mmask16)(((1u << len) - 1u) << lane);
        first[q] = (__mmask16)(need >= 16 ? 0xffffu : (1u << need) - 1u);
        second[q] = (__mmask16)(need > 16 ? (1u << (need - 16)) - 1u : 0u);
        for (int j = 0; j < 4; ++j) {
            int at[16];
            for (int l = 0; l < 16; ++l) at[l] = l >= lane && l < lane + len ? 2 * (l - lane) + j : 0;
            idx[q][j] = _mm512_loadu_si512(at);
        }
    }
    for (ptrdiff_t c = 0; c < cin; ++c) {
        __m512 d[16];
        for (int e = 0; e < 16; ++e) d[e] = _mm512_setzero_ps();
        for (int q = 0; q < pt->nruns; ++q) {
            const float *row = pt->runs[q].base + c * plane;
            for (int i = 0; i < 4; ++i, row += wp) {
                const __m512 a = _mm512_maskz_loadu_ps(first[q], row);
                const __m512 b = _mm512_maskz_loadu_ps(second[q], row + 16);
                for (int j = 0; j < 4; ++j)
                    d[i * 4 + j] = _mm512_mask_mov_ps(d[i * 4 + j], lanes[q],
                                                      _mm512_permutex2var_ps(a, idx[q][j], b));
            }
        }
        __m512 t[16];
        for (int j = 0; j < 4; ++j) { /* B^T d, column j */
            t[0 + j] = _mm512_sub_ps(d[0 + j], d[8 + j]);
            t[4 + j] = _mm512_add_ps(d[4 + j], d[8 + j]);
            t[8 + j] = _mm512_sub_ps(d[8 + j], d[4 + j]);
            t[12 + j] = _mm512_sub_ps(d[4 + j], d[12 + j]);
        }
        for (int i = 0; i < 4; ++i) { /* (B^T d) B, row i */
            const __m512 a = t[i * 4], b = t[i * 4 + 1], e = t[i * 4 + 2], f = t[i * 4 + 3];
            float *v = vp + (i * 4) * xs + c * cs;
            _mm512_mask_storeu_ps(v, 0x0fff, _mm512_sub_ps(a, e));
            _mm512_mask_storeu_ps(v + xs, 0x0fff, _mm512_add_ps(b, e));
            _mm512_mask_storeu_ps(v + 2 * xs, 0x0fff, _mm512_sub_ps(e, b));
            _mm512_mask_storeu_ps(v + 3 * xs, 0x0fff, _mm512_sub_ps(b, f));
        }
    }
}

/* Y = A^T m A for each of the panel's tiles, A^T = ((1,1,1,0), (0,1,-1,-1)), into the images'
 * pixel-major buffers (out[image]: ow * oh pixels x ldo), the 2x2 outputs that fall inside
 * the output only. m: [xi][r][ldo]. */
TARGET static void transform_outputs(const panel_tiles *pt, const float *m, ptrdiff_t ldo,
                                     ptrdiff_t oh, ptrdiff_t ow, float *const *out)
{
    for (int r = 0; r < PANEL; ++r) {
        if (!pt->at[r]) continue;
        const ptrdiff_t oy = pt->oy[r], ox = pt->ox[r];
        float *o00 = out[pt->image[r]] + (oy * ow + ox) * ldo;
        float *o01 = o00 + ldo, *o10 = o00 + ow * ldo, *o11 = o10 + ldo;
        const int right = ox + 1 < ow, below = oy + 1 < oh;
        const float *mr = m + r * ldo;
        const ptrdiff_t step = PANEL * ldo; /* from one position to the next */
#pragma omp simd
        for (ptrdiff_t o = 0; o < ldo; ++o) {
            float s0[4], s1[4];
            for (int j = 0; j < 4; ++j) {
                const float m0 = mr[j * step + o], m1 = mr[(4 + j) * step + o];
                const float m2 = mr[(8 + j) * step + o], m3 = mr[(12 + j) * step + o];
                s0[j] = m0 + m1 + m2;
                s1[j] = m1 - m2 - m3;
            }
            o00[o] = s0[0] + s0[1] + s0[2];
            if (right) o01[o] = s0[1] - s0[2] - s0[3];
            if (below) o10[o] = s1[0] + s1[1] + s1[2];
            if (right && below) o11[o] = s1[1] - s1[2] - s1[3];
        }
    }
}

int fnn_conv2d_winograd_forward(const float *x, const float *mask, const float *w,
                                const float *bias, int relu, float *y, const fnn_iconv *s)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_CONV_WINOGRAD], 1, __ATOMIC_RELAXED);
    const fnn_gemm_config *cfg = &fnn_gemm_configs[FNN_ISA_AVX512];
    const ptrdiff_t cin = s->c, oc = s->oc, oh = s->oh, ow = s->ow;
    const ptrdiff_t th = (oh + 1) / 2, tw = (ow + 1) / 2, T = th * tw, P = oh * ow;
    /* the padded input, tall and wide enough for every tile's 4x4 patch */
    const ptrdiff_t hp = s->h + 2 * s->ph > 2 * th + 2 ? s->h + 2 * s->ph : 2 * th + 2;
    const ptrdiff_t wp = s->w + 2 * s->pw > 2 * tw + 2 ? s->w + 2 * s->pw : 2 * tw + 2;
    const ptrdiff_t plane = hp * wp, ocpad = fnn_round_up(oc, NRW);
    const ptrdiff_t ustride = XI * ocpad * cin;
    float *up = fnn_malloc((size_t)(s->groups * ustride) * sizeof(float));
    if (!up) return FNN_ENOMEM;
    for (ptrdiff_t q = 0; q < s->groups; ++q)
        transform_filters(w + q * oc * cin * 9, cin, oc, ocpad, up + q * ustride);
    int status = FNN_OK;
    const ptrdiff_t steps = fnn_ceil_div(s->n, IMAGES_PER_STEP);
    int threads = fnn_region_threads();
    if (threads > steps) threads = (int)(steps > 0 ? steps : 1);
    fnn_region region = {.start = fnn_now_ns(), .threads = threads};
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        float *buf[4];
        const size_t sizes[4] = {(size_t)(IMAGES_PER_STEP * cin * plane),
                                 (size_t)(XI * cin * PANEL), (size_t)(XI * PANEL * ocpad),
                                 (size_t)(IMAGES_PER_STEP * P * ocpad)};
        int got;
        float *owned = fnn_thread_buffers(buf, sizes, 4, &got);
        float *xp = buf[0], *vp = buf[1], *m = buf[2], *pixels = buf[3];
        if (got) memset(xp, 0, sizes[0] * sizeof(float)); /* the zero borders */
        const int ok = got;
        double images = 0.0;
        if (!ok) FNN_CONV_FAIL(status);
        float *out[IMAGES_PER_STEP];
        for (int i = 0; i < IMAGES_PER_STEP; ++i) out[i] = pixels ? pixels + i * P * ocpad : NULL;
#pragma omp for schedule(static) nowait
        for (ptrdiff_t step = 0; step < steps; ++step) {
            if (!ok) continue;
            const ptrdiff_t n0 = step * IMAGES_PER_STEP;
            const ptrdiff_t nb = fnn_min_pd(IMAGES_PER_STEP, s->n - n0);
            images += (double)nb;
            for (ptrdiff_t q = 0; q < s->groups; ++q) {
                for (ptrdiff_t i = 0; i < nb; ++i) {
                    const ptrdiff_t at = ((n0 + i) * s->groups + q) * cin * s->h * s->w;
                    fnn_pad_planes(x + at, mask ? mask + at : NULL, cin, s->h, s->w,
                                   xp + i * cin * plane, hp, wp, s->ph, s->pw);
                }
                const float *uq = up + q * ustride;
                for (ptrdiff_t t0 = 0; t0 < nb * T; t0 += PANEL) {
                    panel_tiles pt;
                    find_tiles(&pt, xp, t0, nb * T, T, tw, cin * plane, wp, IMAGES_PER_STEP);
                    transform_inputs(&pt, cin, plane, wp, vp, cin * PANEL, PANEL);
                    for (int xi = 0; xi < XI; ++xi)
                        for (ptrdiff_t jp = 0; jp < ocpad / NRW; ++jp)
                            cfg->kernel(cin, vp + xi * cin * PANEL,
                                        uq + (xi * (ocpad / NRW) + jp) * cin * NRW,
                                        m + xi * PANEL * ocpad + jp * NRW, ocpad, 0);
                    transform_outputs(&pt, m, ocpad, oh, ow, out);
                }
                for (ptrdiff_t i = 0; i < nb; ++i)
                    fnn_planes_from_pixels(out[i], ocpad, oc, P, P, bias ? bias + q * oc : NULL,
                                           relu, y + ((n0 + i) * s->groups + q) * oc * P);
            }
        }
        free(owned);
        FNN_REGION_DONE(&region, fnn_thread_index(), images);
    }
    fnn_region_judge(&region, fnn_now_ns());
    free(up);
    return status;
}
/* The weight gradient through the same transforms. With M[xi] = V[xi] U[xi] as above, the
 * gradient of U[xi] (cin x oc) is V[xi]^T (cin x tiles) @ dM[xi] (tiles x oc), where
 * dM = A dY A^T is the 4x4 transform of each tile's 2x2 output gradient, and that of the
 * filter is G^T dU G (Lavin & Gray 2016, section 5): 16 products reducing over the tiles,
 * 2.25x fewer multiply-adds than gy @ col^T. The implicit GEMM's 3x3 weight gradient ran at
 * the FMA peak and still took 5.3 ms on (128,32,14,14) -> 64 against oneDNN's 4.6 (issue 12).
 *
 * A step is WGRAD_IMAGES images: their tiles' V written as rows of tiles (channel c of
 * position xi at v[(xi cpad + c) ldt], read in place by the strided micro-kernel, 12 channels
 * at a time), and their dM as B panels of 32 output channels, [xi][panel][tile][32], from the
 * output gradient made pixel-major. Steps are summed in fixed runs (fnn_conv_parts), then in
 * order, so the bits do not depend on the thread count. */

/* Images per step of the weight gradient: two keep a step's V and dM (16 x (36 + 64) x 108
 * floats for (128,32,14,14) -> 64) in L2, where four spilled to L3: 4.7 -> 3.4 ms, with the
 * buffers moved to the thread's persistent scratch. */
#define WGRAD_IMAGES 2

/* dM = A dY A^T for each tile of the step's images into B panels: dmp[((xi * np + jp) * ldt +
 * t) * NRW + o % NRW]; g[i] is image i's gradient pixel-major (P x ocpad). A = (1,0; 1,1;
 * 1,-1; 0,-1); outputs past the edge (odd sizes) contribute zero. Tiles [tiles, ldt) zero. */
TARGET static void transform_grads(const float *g, ptrdiff_t P, ptrdiff_t ocpad, ptrdiff_t oh,
                                   ptrdiff_t ow, ptrdiff_t T, ptrdiff_t tw, ptrdiff_t tiles,
                                   ptrdiff_t ldt, float *dmp)
{
    const ptrdiff_t np = ocpad / NRW;
    const __m512 zero = _mm512_setzero_ps();
    for (ptrdiff_t t = 0; t < ldt; ++t) {
        const ptrdiff_t i = t / T, ty = t % T / tw, tx = t % T % tw;
        const ptrdiff_t oy = 2 * ty, ox = 2 * tx;
        const int live = t < tiles, right = live && ox + 1 < ow, below = live && oy + 1 < oh;
        const float *g00 = g + (i * P + oy * ow + ox) * ocpad;
        for (ptrdiff_t o = 0; o < ocpad; o += 16) {
            const __m512 d00 = live ? _mm512_loadu_ps(g00 + o) : zero;
            const __m512 d01 = right ? _mm512_loadu_ps(g00 + ocpad + o) : zero;
            const __m512 d10 = below ? _mm512_loadu_ps(g00 + ow * ocpad + o) : zero;
            const __m512 d11 = right && below ? _mm512_loadu_ps(g00 + (ow + 1) * ocpad + o) : zero;
            /* A dY: rows (d0, d0 + d1, d0 - d1, -d1) per column */
            const __m512 r[4][2] = {{d00, d01},
                                    {_mm512_add_ps(d00, d10), _mm512_add_ps(d01, d11)},
                                    {_mm512_sub_ps(d00, d10), _mm512_sub_ps(d01, d11)},
                                    {_mm512_sub_ps(zero, d10), _mm512_sub_ps(zero, d11)}};
            float *dst = dmp + ((o / NRW) * ldt + t) * NRW + o % NRW;
            const ptrdiff_t xs = np * ldt * NRW; /* from one position to the next */
            for (int a = 0; a < 4; ++a) { /* (A dY) A^T, row a */
                const __m512 u = r[a][0], v = r[a][1];
                _mm512_storeu_ps(dst + (4 * a) * xs, u);
                _mm512_storeu_ps(dst + (4 * a + 1) * xs, _mm512_add_ps(u, v));
                _mm512_storeu_ps(dst + (4 * a + 2) * xs, _mm512_sub_ps(u, v));
                _mm512_storeu_ps(dst + (4 * a + 3) * xs, _mm512_sub_ps(zero, v));
            }
        }
    }
}

/* Where the weight gradient gains, measured against the implicit GEMM on Zen 5 (1 thread):
 * 1.4-1.8x from 16 input channels up on 14x14 and 7x7 outputs; 0.5-0.8x below 16 (12-channel
 * panels, half empty, and little work per tile); 0.86x on 56x56, where a step's V and dM
 * (16 x 136 x 1568 floats) no longer fit in L2. */
int fnn_conv2d_winograd_weight_grad_suits(const fnn_iconv *s)
{
    const ptrdiff_t tiles = ((s->oh + 1) / 2) * ((s->ow + 1) / 2);
    return fnn_conv2d_winograd_suits(s) && s->c >= 16 && WGRAD_IMAGES * tiles <= 256;
}

int fnn_conv2d_winograd_weight_grad(const float *x, const float *gy, const float *y, float *gw,
                                    float *gb, const fnn_iconv *s)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_CONV_WINOGRAD], 1, __ATOMIC_RELAXED);
    const ptrdiff_t cin = s->c, oc = s->oc, oh = s->oh, ow = s->ow, oc_all = s->groups * oc;
    const ptrdiff_t th = (oh + 1) / 2, tw = (ow + 1) / 2, T = th * tw, P = oh * ow;
    const ptrdiff_t hp = s->h + 2 * s->ph > 2 * th + 2 ? s->h + 2 * s->ph : 2 * th + 2;
    const ptrdiff_t wp = s->w + 2 * s->pw > 2 * tw + 2 ? s->w + 2 * s->pw : 2 * tw + 2;
    const ptrdiff_t plane = hp * wp, ocpad = fnn_round_up(oc, NRW), np = ocpad / NRW;
    const ptrdiff_t cpad = fnn_round_up(cin, PANEL);
    /* the step's tiles, rounded up to whole panels (transform_inputs writes 12 lanes) */
    const ptrdiff_t ldt = fnn_round_up(WGRAD_IMAGES * T, PANEL);
    const ptrdiff_t acc_size = s->groups * XI * cpad * ocpad; /* one run's dU, all groups */
    const ptrdiff_t steps = fnn_ceil_div(s->n, WGRAD_IMAGES);
    const ptrdiff_t parts = fnn_conv_parts(steps, acc_size);
    int threads = fnn_region_threads();
    if (threads > parts) threads = (int)parts;
    float *acc = fnn_calloc((size_t)(parts * acc_size), sizeof(float));
    double *acc_b = gb ? fnn_calloc((size_t)(parts * oc_all), sizeof(double)) : NULL;
    int status = !acc || (gb && !acc_b) ? FNN_ENOMEM : FNN_OK;
    fnn_region region = {.start = fnn_now_ns(), .threads = threads};
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        /* The thread's buffers (fnn_thread_buffers: fresh ones cost page faults on every call,
         * 12% of this pass): xp (zero borders), v (zero rows past cin), dmp, one image's
         * masked gradient planes (ocpad x P, zero rows past oc), then the step's images
         * pixel-major. */
        float *buf[5];
        const size_t sizes[5] = {(size_t)(WGRAD_IMAGES * cin * plane), (size_t)(XI * cpad * ldt),
                                 (size_t)(XI * ocpad * ldt), (size_t)(ocpad * P),
                                 (size_t)(WGRAD_IMAGES * P * ocpad)};
        int got;
        float *owned = fnn_thread_buffers(buf, sizes, 5, &got);
        float *xp = buf[0], *v = buf[1], *dmp = buf[2], *planes = buf[3], *pixels = buf[4];
        if (got) {
            memset(xp, 0, sizes[0] * sizeof(float));
            memset(v, 0, sizes[1] * sizeof(float));
            memset(planes, 0, sizes[3] * sizeof(float));
        }
        const int ok = status == FNN_OK && got;
        double images = 0.0;
        if (!ok) FNN_CONV_FAIL(status);
#pragma omp for schedule(static) nowait
        for (ptrdiff_t part = 0; part < parts; ++part) {
            if (!ok) continue;
            for (ptrdiff_t step = steps * part / parts; step < steps * (part + 1) / parts; ++step) {
                const ptrdiff_t n0 = step * WGRAD_IMAGES;
                const ptrdiff_t nb = fnn_min_pd(WGRAD_IMAGES, s->n - n0);
                images += (double)nb;
                for (ptrdiff_t q = 0; q < s->groups; ++q) {
                    for (ptrdiff_t i = 0; i < nb; ++i) {
                        const ptrdiff_t at = ((n0 + i) * s->groups + q) * cin * s->h * s->w;
                        fnn_pad_planes(x + at, NULL, cin, s->h, s->w, xp + i * cin * plane, hp,
                                       wp, s->ph, s->pw);
                        const ptrdiff_t at_y = ((n0 + i) * s->groups + q) * oc * P;
                        const float *src = fnn_masked_grad(
                            gy + at_y, y ? y + at_y : NULL, planes, oc, P,
                            acc_b ? acc_b + part * oc_all + q * oc : NULL);
                        if (ocpad > oc && src != planes) { /* the transpose reads ocpad rows */
                            memcpy(planes, src, (size_t)(oc * P) * sizeof(float));
                            src = planes;
                        }
                        fnn_transpose_into_panel(src, P, (int)ocpad, P, pixels + i * P * ocpad);
                    }
                    const ptrdiff_t tiles = nb * T;
                    for (ptrdiff_t t0 = 0; t0 < tiles; t0 += PANEL) {
                        panel_tiles pt;
                        find_tiles(&pt, xp, t0, tiles, T, tw, cin * plane, wp, WGRAD_IMAGES);
                        transform_inputs(&pt, cin, plane, wp, v + t0, cpad * ldt, ldt);
                    }
                    transform_grads(pixels, P, ocpad, oh, ow, T, tw, tiles, ldt, dmp);
                    float *c = acc + part * acc_size + q * XI * cpad * ocpad;
                    for (int xi = 0; xi < XI; ++xi)
                        for (ptrdiff_t c0 = 0; c0 < cpad; c0 += PANEL)
                            for (ptrdiff_t jp = 0; jp < np; ++jp)
                                fnn_ukernel_avx512_strided(
                                    tiles, v + (xi * cpad + c0) * ldt, ldt, 1,
                                    dmp + (xi * np + jp) * ldt * NRW,
                                    c + (xi * cpad + c0) * ocpad + jp * NRW, ocpad, 1);
                }
            }
        }
        free(owned);
        FNN_REGION_DONE(&region, fnn_thread_index(), images);
    }
    fnn_region_judge(&region, fnn_now_ns());
    if (status == FNN_OK) {
        /* dU summed over the runs in order (into the first), then dg = G^T dU G,
         * G^T = (1, 1/2, 1/2, 0; 0, 1/2, -1/2, 0; 0, 1/2, 1/2, 1) */
        for (ptrdiff_t part = 1; part < parts; ++part) {
            const float *src = acc + part * acc_size;
#pragma omp simd
            for (ptrdiff_t i = 0; i < acc_size; ++i) acc[i] += src[i];
        }
        for (ptrdiff_t q = 0; q < s->groups; ++q)
            for (ptrdiff_t c = 0; c < cin; ++c)
                for (ptrdiff_t o = 0; o < oc; ++o) {
                    float du[4][4], a[3][4];
                    for (int xi = 0; xi < XI; ++xi)
                        du[xi / 4][xi % 4] = acc[((q * XI + xi) * cpad + c) * ocpad + o];
                    for (int j = 0; j < 4; ++j) { /* G^T dU */
                        a[0][j] = du[0][j] + 0.5f * (du[1][j] + du[2][j]);
                        a[1][j] = 0.5f * (du[1][j] - du[2][j]);
                        a[2][j] = 0.5f * (du[1][j] + du[2][j]) + du[3][j];
                    }
                    float *g = gw + ((q * oc + o) * cin + c) * 9;
                    for (int i = 0; i < 3; ++i) { /* (G^T dU) G */
                        g[i * 3 + 0] = a[i][0] + 0.5f * (a[i][1] + a[i][2]);
                        g[i * 3 + 1] = 0.5f * (a[i][1] - a[i][2]);
                        g[i * 3 + 2] = 0.5f * (a[i][1] + a[i][2]) + a[i][3];
                    }
                }
    }
    if (status == FNN_OK && gb) fnn_bias_from_parts(acc_b, parts, oc_all, gb);
    free(acc);
    free(acc_b);
    return status;
}
#else /* not x86-64: fnn_conv2d_winograd_suits is never true (no AVX-512) */
int fnn_conv2d_winograd_forward(const float *x, const float *mask, const float *w,
                                const float *bias, int relu, float *y, const fnn_iconv *s)
{
    (void)x; (void)mask; (void)w; (void)bias; (void)relu; (void)y; (void)s;
    return FNN_ENOMEM;
}
int fnn_conv2d_winograd_weight_grad_suits(const fnn_iconv *s)
{
    (void)s;
    return 0;
}
int fnn_conv2d_winograd_weight_grad(const float *x, const float *gy, const float *y, float *gw,
                                    float *gb, const fnn_iconv *s)
{
    (void)x; (void)gy; (void)y; (void)gw; (void)gb; (void)s;
    return FNN_ENOMEM;
}
#endif
