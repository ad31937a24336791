/* 2-D convolution as im2col + GEMM (Chellapilla et al. 2006), parallel over the batch.
 *
 * For one image and one group, the (cpg*kh*kw) x (oh*ow) column matrix holds every receptive
 * field as a column (zeros where the window hangs over the padding), so the convolution is the
 * product W_g (ocpg x cpg*kh*kw) @ col, done by fastnn's own GEMM. Each thread takes blocks of
 * IMAGES_PER_GEMM whole images and calls the single-threaded GEMM (fnn_sgemm_serial) on their
 * column matrices side by side: with a batch of 128 and two cores this keeps both busy with no
 * synchronisation inside a block.
 *
 * With relu set, the epilogue also applies ReLU (Conv2d followed by ReLU in a Sequential), and
 * backward, given the ReLU output y, masks grad_y per image while it is in cache.
 *
 * Backward: grad_col = W_g^T @ grad_y then col2im (scatter-add) gives grad_x; grad_W is
 * sum over images of grad_y @ col^T, accumulated per thread and reduced in thread order (so a
 * given thread count always gives the same bits); grad_b sums grad_y over the batch and pixels.
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
#ifdef _OPENMP
#include <omp.h>
#endif

extern long long fnn_call_counts[FNN_K_COUNT];

int fnn_sgemm_serial(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                     const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                     const float *B, ptrdiff_t rsb, ptrdiff_t csb,
                     float *C, ptrdiff_t ldc, const float *bias, int relu, int accumulate);

/* The output columns ox whose input column ox*sw + off lies in [0, w): [lo, hi). */
static void valid_columns(ptrdiff_t off, ptrdiff_t sw, ptrdiff_t w, ptrdiff_t ow, ptrdiff_t *lo,
                          ptrdiff_t *hi)
{
    ptrdiff_t a = off < 0 ? (-off + sw - 1) / sw : 0;
    ptrdiff_t b = w - off <= 0 ? 0 : (w - off + sw - 1) / sw;
    *lo = a < ow ? a : ow;
    *hi = b < ow ? b : ow;
    if (*hi < *lo) *hi = *lo;
}

/* col[(ci*kh + i)*kw + j][oy*ow + ox] = x[c0 + ci][oy*sh - ph + i*dh][ox*sw - pw + j*dw],
 * rows of col `plane` apart (several images' column matrices side by side). The rows are
 * short (14 pixels in the CNN), so the copies are inline loops over precomputed valid ranges:
 * a memcpy call per row cost more than the copy. */
static void im2col(const float *x, const fnn_conv_shape *s, ptrdiff_t c0, ptrdiff_t cn,
                   float *col, ptrdiff_t plane)
{
    for (ptrdiff_t ci = 0; ci < cn; ++ci) {
        const float *xc = x + (c0 + ci) * s->h * s->w;
        for (ptrdiff_t i = 0; i < s->kh; ++i) {
            for (ptrdiff_t j = 0; j < s->kw; ++j) {
                float *row = col + ((ci * s->kh + i) * s->kw + j) * plane;
                const ptrdiff_t off = j * s->dw - s->pw;
                ptrdiff_t lo, hi;
                valid_columns(off, s->sw, s->w, s->ow, &lo, &hi);
                FNN_ASSERT_INDEX(c0 + ci, s->c);
                FNN_ASSERT_RANGE(lo, hi, 1, s->ow);
                if (hi > lo) { /* the first and last input columns read */
                    FNN_ASSERT_INDEX(off + lo * s->sw, s->w);
                    FNN_ASSERT_INDEX(off + (hi - 1) * s->sw, s->w);
                }
                for (ptrdiff_t oy = 0; oy < s->oh; ++oy) {
                    const ptrdiff_t yy = oy * s->sh - s->ph + i * s->dh;
                    float *out = row + oy * s->ow;
                    if (yy < 0 || yy >= s->h) {
                        for (ptrdiff_t ox = 0; ox < s->ow; ++ox) out[ox] = 0.0f;
                        continue;
                    }
                    const float *xr = xc + yy * s->w + off;
                    for (ptrdiff_t ox = 0; ox < lo; ++ox) out[ox] = 0.0f;
                    if (s->sw == 1)
                        for (ptrdiff_t ox = lo; ox < hi; ++ox) out[ox] = xr[ox];
                    else
                        for (ptrdiff_t ox = lo; ox < hi; ++ox) out[ox] = xr[ox * s->sw];
                    for (ptrdiff_t ox = hi; ox < s->ow; ++ox) out[ox] = 0.0f;
                }
            }
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>
/* col2im for stride 1 on AVX-512, gathering instead of scattering: each 16-pixel stretch of an
 * input row sums its kh * kw contributions in a register (one masked load per tap: lane x
 * reads the tap's column-matrix row at x - j dw + pw) and is added to x once. Scattering row
 * by row re-read each stretch just stored, shifted by one pixel, once per tap; with short rows
 * (10 pixels in the 5x5 layer) that took 58% of its input gradient (issue 12). Lanes outside
 * the tap's valid output columns are masked off, so nothing outside col is read. Kernels
 * wider than COL2IM_MAX_KW taps (its precomputed masks) take the scalar col2im. */
#define COL2IM_MAX_KW 32

__attribute__((target("avx512f"))) static void col2im_stride1_avx512(
    const float *col, const fnn_conv_shape *s, ptrdiff_t c0, ptrdiff_t cn, float *x,
    ptrdiff_t plane)
{
    /* A tap's mask and column offset depend only on the stretch and the tap's column j, so
     * they are found once per stretch, not once per row and tap. The taps alternate between
     * two accumulators and each kernel row starts its own pair: one chain of kh * kw dependent
     * adds made the loop latency-bound (the 5x5 layer's input gradient spent 20% of its step
     * here; issue 12). */
    __mmask16 mask[COL2IM_MAX_KW];
    ptrdiff_t offset[COL2IM_MAX_KW];
    for (ptrdiff_t ci = 0; ci < cn; ++ci) {
        float *xc = x + (c0 + ci) * s->h * s->w;
        FNN_ASSERT_INDEX(c0 + ci, s->c);
        for (ptrdiff_t x0 = 0; x0 < s->w; x0 += 16) {
            for (ptrdiff_t j = 0; j < s->kw; ++j) {
                /* input column x = ox + shift for output column ox in [0, ow) */
                const ptrdiff_t shift = j * s->dw - s->pw;
                const ptrdiff_t a = fnn_max_pd(fnn_max_pd(x0, shift), 0);
                const ptrdiff_t b = fnn_min_pd(fnn_min_pd(x0 + 16, s->ow + shift), s->w);
                mask[j] = b <= a ? 0 : (__mmask16)(((1u << (b - a)) - 1u) << (a - x0));
                offset[j] = j * plane + x0 - shift;
                if (b > a) FNN_ASSERT_RANGE(a - shift, b - shift, 1, s->ow);
            }
            const ptrdiff_t n = fnn_min_pd(16, s->w - x0);
            const __mmask16 out = (__mmask16)((1u << n) - 1u);
            for (ptrdiff_t y = 0; y < s->h; ++y) {
                __m512 acc = _mm512_setzero_ps();
                for (ptrdiff_t i = 0; i < s->kh; ++i) {
                    const ptrdiff_t oy = y + s->ph - i * s->dh;
                    if (oy < 0 || oy >= s->oh) continue;
                    const float *taps = col + (ci * s->kh + i) * s->kw * plane + oy * s->ow;
                    __m512 even = _mm512_setzero_ps(), odd = _mm512_setzero_ps();
                    ptrdiff_t j = 0;
                    for (; j + 1 < s->kw; j += 2) {
                        even = _mm512_add_ps(even, _mm512_maskz_loadu_ps(mask[j], taps + offset[j]));
                        odd = _mm512_add_ps(odd, _mm512_maskz_loadu_ps(mask[j + 1],
                                                                       taps + offset[j + 1]));
                    }
                    if (j < s->kw)
                        even = _mm512_add_ps(even, _mm512_maskz_loadu_ps(mask[j], taps + offset[j]));
                    acc = _mm512_add_ps(acc, _mm512_add_ps(even, odd));
                }
                float *xr = xc + y * s->w + x0;
                _mm512_mask_storeu_ps(xr, out, _mm512_add_ps(_mm512_maskz_loadu_ps(out, xr), acc));
            }
        }
    }
}
#endif

/* The adjoint of im2col: x[c0 + ci][...] += col[...] over every window position. */
static void col2im(const float *col, const fnn_conv_shape *s, ptrdiff_t c0, ptrdiff_t cn,
                   float *x, ptrdiff_t plane)
{
#if defined(__x86_64__)
    if (s->sw == 1 && s->sh == 1 && s->kw <= COL2IM_MAX_KW && fnn_isa_active() == FNN_ISA_AVX512) {
        col2im_stride1_avx512(col, s, c0, cn, x, plane);
        return;
    }
#endif
    for (ptrdiff_t ci = 0; ci < cn; ++ci) {
        float *xc = x + (c0 + ci) * s->h * s->w;
        for (ptrdiff_t i = 0; i < s->kh; ++i) {
            for (ptrdiff_t j = 0; j < s->kw; ++j) {
                const float *row = col + ((ci * s->kh + i) * s->kw + j) * plane;
                const ptrdiff_t off = j * s->dw - s->pw;
                ptrdiff_t lo, hi;
                valid_columns(off, s->sw, s->w, s->ow, &lo, &hi);
                FNN_ASSERT_INDEX(c0 + ci, s->c);
                if (hi > lo) { /* the first and last input columns written */
                    FNN_ASSERT_INDEX(off + lo * s->sw, s->w);
                    FNN_ASSERT_INDEX(off + (hi - 1) * s->sw, s->w);
                }
                for (ptrdiff_t oy = 0; oy < s->oh; ++oy) {
                    const ptrdiff_t yy = oy * s->sh - s->ph + i * s->dh;
                    if (yy < 0 || yy >= s->h) continue;
                    float *xr = xc + yy * s->w + off;
                    const float *in = row + oy * s->ow;
                    if (s->sw == 1)
                        for (ptrdiff_t ox = lo; ox < hi; ++ox) xr[ox] += in[ox];
                    else
                        for (ptrdiff_t ox = lo; ox < hi; ++ox) xr[ox * s->sw] += in[ox];
                }
            }
        }
    }
}

/* Images per GEMM. One image's product (64 x 196 x 288 for the CNN's second layer) is too
 * small for the GEMM: the weights were repacked per image and edge tiles and call overheads
 * took half the time (~100 GFLOP/s a core). Putting IMAGES_PER_GEMM images' column matrices
 * side by side makes one product IMAGES_PER_GEMM times wider, with the weights packed once. */
#define IMAGES_PER_GEMM 8
/* Below 16 output pixels an image (ResNet's last stages on 32 x 32 inputs: 4, 2, 1 pixels) 8
 * images are still a thin product: take enough images for about 128 columns, as many as the
 * threads leave each. resnet18's (512,1,1)->512 3x3 layer, batch 32, 1 thread, fwd+both bwd:
 * 8 images 29.2 ms. */
#define TINY_PIXELS 16
#define IMPLICIT_MIN_PIXELS 32
#define TINY_COLUMNS 128

static ptrdiff_t images_per_gemm(const fnn_conv_shape *s)
{
    const ptrdiff_t P = s->oh * s->ow;
    if (P >= TINY_PIXELS || P <= 0) return IMAGES_PER_GEMM;
    const ptrdiff_t threads = fnn_region_threads(), wanted = (TINY_COLUMNS + P - 1) / P;
    const ptrdiff_t share = (s->n + threads - 1) / threads;
    const ptrdiff_t b = wanted < share ? wanted : share;
    return b > IMAGES_PER_GEMM ? b : IMAGES_PER_GEMM;
}

/* Whether the M x N product runs better as its transpose, on the active micro-kernel. */
static int transpose_is_better(ptrdiff_t M, ptrdiff_t N)
{
    const fnn_gemm_config *cfg = &fnn_gemm_configs[fnn_isa_active()];
    return fnn_transpose_pads_less(cfg->mr, cfg->nr, M, N);
}

static int conv_threads(const fnn_conv_shape *s)
{
    const ptrdiff_t per = images_per_gemm(s), blocks = (s->n + per - 1) / per;
    const int t = fnn_region_threads();
    return blocks < t ? (int)(blocks > 0 ? blocks : 1) : t;
}

/* Which stride-1 passes run as implicit GEMMs (conv_implicit.c), by side-by-side measurement
 * against im2col here (issue 12, Zen 5, 1 thread, fwd / wgrad / igrad ms):
 *   (128,32,14,14)->64 3x3  im2col 7.4 / 7.0 / 6.4   implicit 6.4 / 6.7 / 6.6
 *   (256,6,14,14)->16 5x5           2.3 / 3.0 / 2.2            1.7 / 2.3 / 4.3
 *   (64,64,14,14)->64 3x3           6.7 / 6.8 / 6.1            5.6 / 6.0 / 5.6
 *   (128,1,28,28)->32 3x3           1.2 / 3.2 / 1.4            2.1 / 3.4 / 5.9
 * The GEMM is one image's, so it needs depth: short filters (K below 128 taps: first layers)
 * leave the forward's micro-tiles storing more than they multiply, while im2col puts 8 images
 * side by side. 1x1 unpadded layers from 64 channels are the exception: their planes are the
 * micro-kernel's A in place (no packing), (64,64,14,14) -> 128: 1.21 ms against im2col's 1.31
 * at 1 thread, 0.61 against 0.70 at 2. The input gradient is the forward of a convolution with
 * cpg output channels, so it wants as many, and the weight gradient only a few taps. */
enum { PASS_FORWARD, PASS_INPUT_GRAD, PASS_WEIGHT_GRAD };

static int implicit_suits(const fnn_conv_shape *s, int pass)
{
    const int mode = fnn_conv_implicit_mode();
    if (mode == FNN_IMPLICIT_NEVER || s->sh != 1 || s->sw != 1) return 0;
    /* the input gradient is a forward convolution of gy padded by d (k - 1) - p >= 0 */
    if (pass == PASS_INPUT_GRAD && (s->ph > s->dh * (s->kh - 1) || s->pw > s->dw * (s->kw - 1)))
        return 0;
    if (mode == FNN_IMPLICIT_ALWAYS) return 1;
    /* an image's product (and Winograd's 2 x 2 tiles) has too few pixels below TINY_PIXELS:
     * (256,2,2)->256 3x3, batch 32, fwd+both bwd: Winograd/implicit 13.4 ms, im2col 9.2 */
    if (s->oh * s->ow < TINY_PIXELS) return 0;
    /* and the forward-shaped passes below IMPLICIT_MIN_PIXELS: on 4 x 4 images (resnet18's
     * (32,128,4,4) -> 128 3x3, Zen 5) Winograd's four tiles an image and the implicit GEMM's
     * 16 columns took fwd / igrad 1.31 / 1.37 ms at 1 thread, 1.09 / 1.18 at 2, against
     * im2col's 8 images a product 1.21 / 0.80 and 0.68 / 0.42; its weight gradient stays
     * (1.14 / 0.84 against 1.35 / 0.93) */
    if (pass != PASS_WEIGHT_GRAD && s->oh * s->ow < IMPLICIT_MIN_PIXELS) return 0;
    const ptrdiff_t cpg = s->c / s->groups, ocpg = s->oc / s->groups, taps = s->kh * s->kw;
    switch (pass) {
    case PASS_FORWARD: /* or 1x1 unpadded, whose planes the micro-kernel reads in place */
        return cpg * taps >= 128 || (taps == 1 && s->ph == 0 && s->pw == 0 && cpg >= 64);
    case PASS_INPUT_GRAD: return cpg >= 32 && ocpg * taps >= 128;
    default: return cpg * taps >= 16;
    }
}

static fnn_iconv implicit_shape(const fnn_conv_shape *s)
{
    const fnn_iconv is = {.n = s->n, .groups = s->groups, .c = s->c / s->groups, .h = s->h,
                          .w = s->w, .oc = s->oc / s->groups, .oh = s->oh, .ow = s->ow,
                          .kh = s->kh, .kw = s->kw, .ph = s->ph, .pw = s->pw, .dh = s->dh,
                          .dw = s->dw};
    return is;
}

/* Whether a strided pass runs as the stride-1 convolution on the input's phases
 * (conv_phased.c), written to *ps: where that convolution suits the implicit GEMM and an image
 * has enough output pixels (PHASED_MIN_PIXELS_*). The implicit GEMM is one image's, with the
 * pixels as its N (forward); im2col puts 8 images side by side. DCGAN's 4x4 stride-2 layers,
 * batch 64, fwd / igrad / wgrad ms, im2col against phases (Zen 4, issue 12):
 *   1 thread   (64,32,32)->128   P 256   71.3 / 61.8 / 82.3    51.2 / 59.4 / 57.7
 *              (128,16,16)->256  P 64    63.4 / 59.8 / 64.9    47.2 / 60.2 / 56.4
 *              (256,8,8)->512    P 16    56.0 / 51.7 / 134     67.8 / 96.3 / 233
 *   2 threads  (64,32,32)->128           41.5 / 34.1 / 36.8    25.0 / 31.0 / 33.2
 *              (128,16,16)->256          33.0 / 28.4 / 27.9    24.7 / 32.7 / 37.2
 * At 16 pixels an image's product streams all the filters (8 MiB) for 16 columns. With the
 * weight gradient reducing several images per block, the two backward passes at 64 pixels,
 * measured again, igrad / wgrad: 51.5-57.3 / 56.9-66.0 against 59.5-59.9 / 57.5-58.1 at 1
 * thread, 27.1-29.1 / 27.8-31.2 against 34.5-56.6 / 36.9-53.2 at 2: im2col's below 256. */
#define PHASED_MIN_PIXELS_FORWARD 64
#define PHASED_MIN_PIXELS_BACKWARD 256
static int phased_suits(const fnn_conv_shape *s, int pass, fnn_conv_shape *ps)
{
    const ptrdiff_t least =
        pass == PASS_FORWARD ? PHASED_MIN_PIXELS_FORWARD : PHASED_MIN_PIXELS_BACKWARD;
    const int enough = s->oh * s->ow >= least ||
                       fnn_conv_implicit_mode() == FNN_IMPLICIT_ALWAYS; /* (tests) */
    return enough && fnn_conv_phased_shape(s, ps) && implicit_suits(ps, pass);
}

/* Whether every filter covers its whole image exactly once: one output pixel, no padding (what
 * fastnn/ops/conv.py's live_taps leaves of resnet18's last stages on 32 x 32 inputs: a 3x3
 * filter with padding 1 on 1 x 1 images is its centre tap, a 3x3 stride-2 one on 2 x 2 images
 * its lower-right 2 x 2). The convolution is then one product of the batch's images, n x
 * (c h w), with the filters: no im2col, whose per-tap set-up for 1 pixel was most of those
 * layers' time, and the whole team on each product (the im2col drivers give each thread its
 * own images, and each packed all 4.5 MiB of filters: no gain from a second thread). */
static int whole_image_windows(const fnn_conv_shape *s)
{
    /* (the forced modes keep their passes: tests and side-by-side benchmarks) */
    return fnn_conv_implicit_mode() == FNN_IMPLICIT_AUTO && s->oh == 1 && s->ow == 1 &&
           s->kh == s->h && s->kw == s->w && s->ph == 0 && s->pw == 0 &&
           (s->dh == 1 || s->kh == 1) && (s->dw == 1 || s->kw == 1) && s->groups == 1;
}

/* y (n x oc) = x (n x K) @ W^T (+ bias, then ReLU). */
static int forward_whole_images(const float *x, const float *w, const float *bias, int relu,
                                float *y, const fnn_conv_shape *s)
{
    const ptrdiff_t K = s->c * s->kh * s->kw;
    return fnn_sgemm(s->n, s->oc, K, x, K, 1, w, 1, K, y, s->oc, bias, relu, 0);
}

/* The backward of forward_whole_images: gx = gy W, gw = gy^T x, gb = the column sums of gy
 * (in double, image by image: the same bits on any thread count), gy masked by y first. */
static int backward_whole_images(const float *x, const float *w, const float *y,
                                 const float *gy, float *gx, float *gw, float *gb,
                                 const fnn_conv_shape *s)
{
    const ptrdiff_t K = s->c * s->kh * s->kw, n = s->n, oc = s->oc;
    float *masked = NULL;
    if (y) {
        masked = fnn_malloc((size_t)(n * oc > 0 ? n * oc : 1) * sizeof(float));
        if (!masked) return FNN_ENOMEM;
        fnn_relu_mask(y, gy, masked, n * oc);
        gy = masked;
    }
    int status = FNN_OK;
    if (gx) status = fnn_sgemm(n, K, oc, gy, oc, 1, w, K, 1, gx, K, NULL, 0, 0);
    if (gw && status == FNN_OK) status = fnn_sgemm(oc, K, n, gy, 1, oc, x, K, 1, gw, K, NULL, 0, 0);
    for (ptrdiff_t o = 0; gb && o < oc; ++o) {
        double sum = 0.0;
        for (ptrdiff_t i = 0; i < n; ++i) sum += gy[i * oc + o];
        gb[o] = (float)sum;
    }
    free(masked);
    return status;
}

int fnn_conv2d_forward(const float *x, const float *w, const float *bias, int relu, float *y,
                       const fnn_conv_shape *s)
{
    int status = FNN_OK;
    __atomic_fetch_add(&fnn_call_counts[FNN_K_CONV], 1, __ATOMIC_RELAXED);
    if (whole_image_windows(s)) return forward_whole_images(x, w, bias, relu, y, s);
    if (implicit_suits(s, PASS_FORWARD)) {
        const fnn_iconv is = implicit_shape(s);
        return fnn_conv2d_implicit_forward(x, NULL, w, bias, relu, y, &is);
    }
    fnn_conv_shape ps;
    if (phased_suits(s, PASS_FORWARD, &ps))
        return fnn_conv2d_phased_forward(x, w, bias, relu, y, s, &ps);
    const ptrdiff_t cpg = s->c / s->groups, ocpg = s->oc / s->groups;
    const ptrdiff_t K = cpg * s->kh * s->kw, P = s->oh * s->ow, B = images_per_gemm(s);
    const ptrdiff_t blocks = (s->n + B - 1) / B;
    const int threads = conv_threads(s);
    /* the product as out^T = col^T @ W^T when that shape suits the micro-kernel better (the
     * block's width B*P is the same for every block but the last, which follows the rest) and
     * the filters are deep: measured side by side (fwd + both bwd), 3x3 on 32 and 64 channels
     * (K 288, 576) ran 5-10% faster so, 1x1 on 64 channels and 3x3 on one channel 15-19%
     * slower */
    const int by_pixels = K >= 128 && transpose_is_better(ocpg, (s->n < B ? s->n : B) * P);
    fnn_region region = {.start = fnn_now_ns(), .threads = threads};
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        /* col: K x (B*P); out: ocpg x (B*P) (or its transpose), before the scatter to NCHW */
        float *buf[2];
        const size_t sizes[2] = {(size_t)(K * B * P), (size_t)(ocpg * B * P)};
        int got;
        float *owned = fnn_thread_buffers(buf, sizes, 2, &got);
        float *col = buf[0], *out = buf[1];
        double images = 0.0; /* this thread's share, for the busy-core check (threads.c) */
        if (!got) FNN_CONV_FAIL(status);
#pragma omp for schedule(static) nowait
        for (ptrdiff_t blk = 0; blk < blocks; ++blk) {
            if (!got) continue;
            const ptrdiff_t n0 = blk * B, nb = s->n - n0 < B ? s->n - n0 : B, ld = nb * P;
            images += (double)nb;
            for (ptrdiff_t g = 0; g < s->groups; ++g) {
                for (ptrdiff_t i = 0; i < nb; ++i)
                    im2col(x + (n0 + i) * s->c * s->h * s->w, s, g * cpg, cpg, col + i * P, ld);
                FNN_ASSERT_INDEX(n0 + nb - 1, s->n);
                if (by_pixels) {
                    /* out (ld x ocpg) = col^T @ W_g^T with bias and ReLU in the GEMM's
                     * epilogue, then each image's block transposed into its NCHW planes */
                    if (fnn_sgemm_serial(ld, ocpg, K, col, 1, ld, w + g * ocpg * K, 1, K, out,
                                         ocpg, bias ? bias + g * ocpg : NULL, relu, 0))
                        FNN_CONV_FAIL(status);
                    for (ptrdiff_t i = 0; i < nb; ++i)
                        fnn_planes_from_pixels(out + i * P * ocpg, ocpg, ocpg, P, P, NULL, 0,
                                               y + ((n0 + i) * s->oc + g * ocpg) * P);
                    continue;
                }
                if (fnn_sgemm_serial(ocpg, ld, K, w + g * ocpg * K, K, 1, col, ld, 1, out, ld,
                                     NULL, 0, 0))
                    FNN_CONV_FAIL(status);
                /* scatter to NCHW with the epilogue: bias, then ReLU (NaN kept) */
                for (ptrdiff_t i = 0; i < nb; ++i)
                    for (ptrdiff_t o = 0; o < ocpg; ++o) {
                        const ptrdiff_t oc = g * ocpg + o;
                        FNN_ASSERT_INDEX(oc, s->oc);
                        fnn_bias_relu(out + o * ld + i * P, y + ((n0 + i) * s->oc + oc) * P, P,
                                  bias ? bias[oc] : 0.0f, relu);
                    }
            }
        }
        free(owned);
        FNN_REGION_DONE(&region, fnn_thread_index(), images);
    }
    fnn_region_judge(&region, fnn_now_ns());
    return status;
}

static int backward_im2col(const float *x, const float *w, const float *y, const float *gy,
                           float *gx, float *gw, float *gb, const fnn_conv_shape *s);

int fnn_conv2d_backward(const float *x, const float *w, const float *y, const float *gy,
                        float *gx, float *gw, float *gb, const fnn_conv_shape *s)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_CONV], 1, __ATOMIC_RELAXED);
    if (whole_image_windows(s)) return backward_whole_images(x, w, y, gy, gx, gw, gb, s);
    const fnn_iconv is = implicit_shape(s);
    if (gx && implicit_suits(s, PASS_INPUT_GRAD)) {
        const int status = fnn_conv2d_implicit_input_grad(gy, y, w, gx, &is);
        if (status != FNN_OK) return status;
        gx = NULL;
    }
    if ((gw || gb) && implicit_suits(s, PASS_WEIGHT_GRAD)) {
        const int status = fnn_conv2d_implicit_weight_grad(x, gy, y, gw, gb, &is);
        if (status != FNN_OK) return status;
        gw = NULL;
        gb = NULL;
    }
    fnn_conv_shape ps;
    if (gx && phased_suits(s, PASS_INPUT_GRAD, &ps)) {
        const int status = fnn_conv2d_phased_input_grad(gy, y, w, gx, s, &ps);
        if (status != FNN_OK) return status;
        gx = NULL;
    }
    if ((gw || gb) && phased_suits(s, PASS_WEIGHT_GRAD, &ps)) {
        const int status = fnn_conv2d_phased_weight_grad(x, gy, y, gw, gb, s, &ps);
        if (status != FNN_OK) return status;
        gw = NULL;
        gb = NULL;
    }
    if (!gx && !gw && !gb) return FNN_OK;
    return backward_im2col(x, w, y, gy, gx, gw, gb, s);
}

/* The transposed weight gradient is added into its partial sum from a separate product: only
 * while both fit in L2 (the tiny filters it is for), not for a large filter bank, where the
 * extra write and read of the whole gradient per block cost more than padding the tile. */
#define TRANSPOSED_MAX_FLOATS (64 * 1024)

/* dst[o * k_n + k] += src[k * o_n + o], in 32 x 32 blocks. Element by element, one of the
 * two arrays was walked with a stride of a whole row: with 4096 taps and 512 filters (DCGAN's
 * 4x4 layer from 256 channels) every access was a cache and TLB miss, 300 of the weight
 * gradient's 380 ms at 1 thread (issue 12). */
#define TRANSPOSE_BLOCK 32
static void add_transposed(const float *src, ptrdiff_t o_n, ptrdiff_t k_n, float *dst)
{
    for (ptrdiff_t k0 = 0; k0 < k_n; k0 += TRANSPOSE_BLOCK)
        for (ptrdiff_t o0 = 0; o0 < o_n; o0 += TRANSPOSE_BLOCK) {
            const ptrdiff_t k1 = fnn_min_pd(k0 + TRANSPOSE_BLOCK, k_n);
            const ptrdiff_t o1 = fnn_min_pd(o0 + TRANSPOSE_BLOCK, o_n);
            for (ptrdiff_t o = o0; o < o1; ++o)
                for (ptrdiff_t k = k0; k < k1; ++k) dst[o * k_n + k] += src[k * o_n + o];
        }
}

static int backward_im2col(const float *x, const float *w, const float *y, const float *gy,
                           float *gx, float *gw, float *gb, const fnn_conv_shape *s)
{
    int status = FNN_OK;
    const ptrdiff_t cpg = s->c / s->groups, ocpg = s->oc / s->groups;
    const ptrdiff_t K = cpg * s->kh * s->kw, P = s->oh * s->ow, B = images_per_gemm(s);
    const ptrdiff_t blocks = (s->n + B - 1) / B;
    const ptrdiff_t wsize = s->oc * K;
    /* The weight and bias gradients are summed over the batch in `parts` partial sums, each
     * over a fixed run of blocks, then added in order (fnn_conv_parts); the threads share the
     * runs out. */
    const ptrdiff_t parts = fnn_conv_parts(blocks, wsize);
    int threads = conv_threads(s);
    if (threads > parts) threads = (int)parts;
    float *partial = gw ? fnn_calloc((size_t)parts * (size_t)wsize, sizeof(float)) : NULL;
    /* per-run bias-gradient sums, in double: each sums batch x pixels terms */
    double *partial_b = gb ? fnn_calloc((size_t)parts * (size_t)s->oc, sizeof(double)) : NULL;
    if ((gw && !partial) || (gb && !partial_b)) {
        free(partial);
        free(partial_b);
        return FNN_ENOMEM;
    }
    if (gx) memset(gx, 0, (size_t)(s->n * s->c * s->h * s->w) * sizeof(float));
    fnn_region region = {.start = fnn_now_ns(), .threads = threads};
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        double images = 0.0;
#ifdef _OPENMP
        const int t = omp_get_thread_num();
#else
        const int t = 0;
#endif
        /* The weight gradient is computed transposed, gW^T = col @ gy^T, where that pads less:
         * for tiny filters (3x3 on one input channel: K = 9 would fill 9 of NR = 32 lanes) and
         * for 64 filters of 288 (M = 64 pads to 72, the transpose not at all). */
        const int transposed = transpose_is_better(ocpg, K) && ocpg * K <= TRANSPOSED_MAX_FLOATS;
        /* col; gyb: one group's output gradient for the block, ocpg x (B*P), ReLU mask
         * applied; gw_t */
        float *buf[3];
        const size_t sizes[3] = {(size_t)(K * B * P), (size_t)(ocpg * B * P),
                                 (size_t)(partial && transposed ? K * ocpg : 0)};
        int got;
        float *owned = fnn_thread_buffers(buf, sizes, 3, &got);
        float *col = buf[0], *gyb = buf[1], *gw_t = partial && transposed ? buf[2] : NULL;
        if (!got) FNN_CONV_FAIL(status);
#pragma omp for schedule(static) nowait
        for (ptrdiff_t part = 0; part < parts; ++part) {
            float *mine = partial ? partial + (size_t)part * (size_t)wsize : NULL;
            double *mine_b = partial_b ? partial_b + (size_t)part * (size_t)s->oc : NULL;
            for (ptrdiff_t blk = blocks * part / parts; blk < blocks * (part + 1) / parts; ++blk) {
                if (!col || !gyb) continue;
                const ptrdiff_t n0 = blk * B, nb = s->n - n0 < B ? s->n - n0 : B, ld = nb * P;
                images += (double)nb;
                for (ptrdiff_t g = 0; g < s->groups; ++g) {
                    for (ptrdiff_t i = 0; i < nb; ++i)
                        for (ptrdiff_t o = 0; o < ocpg; ++o) {
                            const ptrdiff_t at = ((n0 + i) * s->oc + g * ocpg + o) * P;
                            const float *src = gy + at;
                            float *dst = gyb + o * ld + i * P;
                            if (y) { /* fused ReLU: the gradient passes where the output was > 0 */
                                fnn_relu_mask(y + at, src, dst, P);
                            } else {
                                memcpy(dst, src, (size_t)P * sizeof(float));
                            }
                            if (mine_b) mine_b[g * ocpg + o] += fnn_sum_plane(dst, P);
                        }
                    const float *wg = w + g * ocpg * K;
                    if (mine) { /* gW_g += gy_block (ocpg x ld) @ col_block^T (ld x K) */
                        for (ptrdiff_t i = 0; i < nb; ++i)
                            im2col(x + (n0 + i) * s->c * s->h * s->w, s, g * cpg, cpg, col + i * P,
                                   ld);
                        if (transposed && gw_t) {
                            if (fnn_sgemm_serial(K, ocpg, ld, col, ld, 1, gyb, 1, ld, gw_t, ocpg,
                                                 NULL, 0, 0))
                                FNN_CONV_FAIL(status);
                            add_transposed(gw_t, ocpg, K, mine + g * ocpg * K);
                        } else if (!transposed) {
                            if (fnn_sgemm_serial(ocpg, K, ld, gyb, ld, 1, col, 1, ld,
                                                 mine + g * ocpg * K, K, NULL, 0, 1))
                                FNN_CONV_FAIL(status);
                        }
                    }
                    if (gx) { /* col_block = W_g^T (K x ocpg) @ gy_block, scattered into gx */
                        if (fnn_sgemm_serial(K, ld, ocpg, wg, 1, K, gyb, ld, 1, col, ld, NULL, 0, 0))
                            FNN_CONV_FAIL(status);
                        for (ptrdiff_t i = 0; i < nb; ++i)
                            col2im(col + i * P, s, g * cpg, cpg, gx + (n0 + i) * s->c * s->h * s->w,
                                   ld);
                    }
                }
            }
        }
        free(owned);
        FNN_REGION_DONE(&region, t, images);
    }
    fnn_region_judge(&region, fnn_now_ns());
    if (gw) {
        memset(gw, 0, (size_t)wsize * sizeof(float));
        for (ptrdiff_t q = 0; partial && q < parts; ++q)
            for (ptrdiff_t i = 0; i < wsize; ++i) gw[i] += partial[(size_t)q * (size_t)wsize + i];
    }
    free(partial);
    if (gb && partial_b) fnn_bias_from_parts(partial_b, parts, s->oc, gb);
    free(partial_b);
    return status;
}
