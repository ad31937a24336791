/* 2-D convolution as im2col + GEMM (Chellapilla et al. 2006), parallel over the batch.
 *
 * For one image and one group, the (cpg*kh*kw) x (oh*ow) column matrix holds every receptive
 * field as a column (zeros where the window hangs over the padding), so the convolution is the
 * product W_g (ocpg x cpg*kh*kw) @ col, done by fastnn's own GEMM. Each thread takes whole
 * images and calls the single-threaded GEMM (fnn_sgemm_serial): with a batch of 128 and two
 * cores this keeps both busy with no synchronisation inside an image, and every image's column
 * matrix (at most a few hundred KiB here) stays in that core's L2 between im2col and GEMM.
 *
 * With relu set, the epilogue also applies ReLU (Conv2d followed by ReLU in a Sequential), and
 * backward, given the ReLU output y, masks grad_y per image while it is in cache.
 *
 * Backward: grad_col = W_g^T @ grad_y then col2im (scatter-add) gives grad_x; grad_W is
 * sum over images of grad_y @ col^T, accumulated per thread and reduced in thread order (so a
 * given thread count always gives the same bits); grad_b sums grad_y over the batch and pixels.
 */
#include "conv.h"
#include "fastnn_kernels.h"

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

extern long long fnn_call_counts[FNN_K_COUNT];

void fnn_sgemm_serial(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                      const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                      const float *B, ptrdiff_t rsb, ptrdiff_t csb,
                      float *C, ptrdiff_t ldc, const float *bias, int relu, int accumulate);

/* col[(ci*kh + i)*kw + j][oy*ow + ox] = x[c0 + ci][oy*sh - ph + i*dh][ox*sw - pw + j*dw] */
static void im2col(const float *x, const fnn_conv_shape *s, ptrdiff_t c0, ptrdiff_t cn,
                   float *col)
{
    const ptrdiff_t plane = s->oh * s->ow;
    for (ptrdiff_t ci = 0; ci < cn; ++ci) {
        const float *xc = x + (c0 + ci) * s->h * s->w;
        for (ptrdiff_t i = 0; i < s->kh; ++i) {
            for (ptrdiff_t j = 0; j < s->kw; ++j) {
                float *row = col + ((ci * s->kh + i) * s->kw + j) * plane;
                for (ptrdiff_t oy = 0; oy < s->oh; ++oy) {
                    const ptrdiff_t y = oy * s->sh - s->ph + i * s->dh;
                    float *out = row + oy * s->ow;
                    if (y < 0 || y >= s->h) {
                        memset(out, 0, (size_t)s->ow * sizeof(float));
                        continue;
                    }
                    const float *xr = xc + y * s->w;
                    const ptrdiff_t off = j * s->dw - s->pw;
                    if (s->sw == 1 && off >= 0 && off + s->ow <= s->w) {
                        memcpy(out, xr + off, (size_t)s->ow * sizeof(float));
                        continue;
                    }
                    for (ptrdiff_t ox = 0; ox < s->ow; ++ox) {
                        const ptrdiff_t xx = ox * s->sw + off;
                        out[ox] = (xx >= 0 && xx < s->w) ? xr[xx] : 0.0f;
                    }
                }
            }
        }
    }
}

/* The adjoint of im2col: x[c0 + ci][...] += col[...] over every window position. */
static void col2im(const float *col, const fnn_conv_shape *s, ptrdiff_t c0, ptrdiff_t cn,
                   float *x)
{
    const ptrdiff_t plane = s->oh * s->ow;
    for (ptrdiff_t ci = 0; ci < cn; ++ci) {
        float *xc = x + (c0 + ci) * s->h * s->w;
        for (ptrdiff_t i = 0; i < s->kh; ++i) {
            for (ptrdiff_t j = 0; j < s->kw; ++j) {
                const float *row = col + ((ci * s->kh + i) * s->kw + j) * plane;
                for (ptrdiff_t oy = 0; oy < s->oh; ++oy) {
                    const ptrdiff_t y = oy * s->sh - s->ph + i * s->dh;
                    if (y < 0 || y >= s->h) continue;
                    float *xr = xc + y * s->w;
                    const float *in = row + oy * s->ow;
                    const ptrdiff_t off = j * s->dw - s->pw;
                    for (ptrdiff_t ox = 0; ox < s->ow; ++ox) {
                        const ptrdiff_t xx = ox * s->sw + off;
                        if (xx >= 0 && xx < s->w) xr[xx] += in[ox];
                    }
                }
            }
        }
    }
}

static int conv_threads(const fnn_conv_shape *s)
{
    const int t = fnn_get_num_threads();
    return s->n < t ? (int)(s->n > 0 ? s->n : 1) : t;
}

void fnn_conv2d_forward(const float *x, const float *w, const float *bias, int relu, float *y,
                        const fnn_conv_shape *s)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_CONV], 1, __ATOMIC_RELAXED);
    const ptrdiff_t cpg = s->c / s->groups, ocpg = s->oc / s->groups;
    const ptrdiff_t K = cpg * s->kh * s->kw, P = s->oh * s->ow;
    const int threads = conv_threads(s);
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        float *col = malloc((size_t)(K * P > 0 ? K * P : 1) * sizeof(float));
#pragma omp for schedule(static)
        for (ptrdiff_t n = 0; n < s->n; ++n) {
            if (!col) continue;
            const float *xn = x + n * s->c * s->h * s->w;
            float *yn = y + n * s->oc * P;
            for (ptrdiff_t g = 0; g < s->groups; ++g) {
                im2col(xn, s, g * cpg, cpg, col);
                fnn_sgemm_serial(ocpg, P, K, w + g * ocpg * K, K, 1, col, P, 1, yn + g * ocpg * P,
                                 P, NULL, 0, 0);
            }
            /* epilogue while the image's output is still in cache: bias, then ReLU (NaN kept) */
            if (bias || relu)
                for (ptrdiff_t o = 0; o < s->oc; ++o) {
                    float *row = yn + o * P;
                    const float b = bias ? bias[o] : 0.0f;
                    for (ptrdiff_t p = 0; p < P; ++p) {
                        const float v = row[p] + b;
                        row[p] = relu && v <= 0.0f ? 0.0f : v;
                    }
                }
        }
        free(col);
    }
}

void fnn_conv2d_backward(const float *x, const float *w, const float *y, const float *gy,
                         float *gx, float *gw, float *gb, const fnn_conv_shape *s)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_CONV], 1, __ATOMIC_RELAXED);
    const ptrdiff_t cpg = s->c / s->groups, ocpg = s->oc / s->groups;
    const ptrdiff_t K = cpg * s->kh * s->kw, P = s->oh * s->ow;
    const ptrdiff_t wsize = s->oc * K;
    const int threads = conv_threads(s);
    float *partial = gw ? calloc((size_t)threads * (size_t)(wsize > 0 ? wsize : 1), sizeof(float))
                        : NULL;
    /* per-thread bias-gradient sums, in double: each sums batch x pixels terms */
    double *partial_b = gb ? calloc((size_t)threads * (size_t)(s->oc > 0 ? s->oc : 1),
                                    sizeof(double)) : NULL;
    if (gx) memset(gx, 0, (size_t)(s->n * s->c * s->h * s->w) * sizeof(float));
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
#ifdef _OPENMP
        const int t = omp_get_thread_num();
#else
        const int t = 0;
#endif
        float *col = malloc((size_t)(K * P > 0 ? K * P : 1) * sizeof(float));
        float *masked = y ? malloc((size_t)(s->oc * P > 0 ? s->oc * P : 1) * sizeof(float)) : NULL;
        float *mine = partial ? partial + (size_t)t * (size_t)wsize : NULL;
#pragma omp for schedule(static)
        for (ptrdiff_t n = 0; n < s->n; ++n) {
            if (!col || (y && !masked)) continue;
            const float *xn = x + n * s->c * s->h * s->w;
            const float *gyn = gy + n * s->oc * P;
            if (y) { /* fused ReLU: the gradient passes only where the output was positive */
                const float *yn = y + n * s->oc * P;
                for (ptrdiff_t i = 0; i < s->oc * P; ++i) masked[i] = yn[i] > 0.0f ? gyn[i] : 0.0f;
                gyn = masked;
            }
            if (partial_b)
                for (ptrdiff_t o = 0; o < s->oc; ++o) {
                    float part = 0.0f;
                    for (ptrdiff_t p = 0; p < P; ++p) part += gyn[o * P + p];
                    partial_b[(size_t)t * (size_t)s->oc + o] += part;
                }
            for (ptrdiff_t g = 0; g < s->groups; ++g) {
                const float *gyg = gyn + g * ocpg * P;
                const float *wg = w + g * ocpg * K;
                if (mine) { /* gW_g += gy_g (ocpg x P) @ col^T (P x K) */
                    im2col(xn, s, g * cpg, cpg, col);
                    fnn_sgemm_serial(ocpg, K, P, gyg, P, 1, col, 1, P, mine + g * ocpg * K, K,
                                     NULL, 0, 1);
                }
                if (gx) { /* col = W_g^T (K x ocpg) @ gy_g (ocpg x P), scattered into gx */
                    fnn_sgemm_serial(K, P, ocpg, wg, 1, K, gyg, P, 1, col, P, NULL, 0, 0);
                    col2im(col, s, g * cpg, cpg, gx + n * s->c * s->h * s->w);
                }
            }
        }
        free(col);
        free(masked);
    }
    if (gw) {
        memset(gw, 0, (size_t)wsize * sizeof(float));
        for (int t = 0; partial && t < threads; ++t)
            for (ptrdiff_t i = 0; i < wsize; ++i) gw[i] += partial[(size_t)t * (size_t)wsize + i];
    }
    free(partial);
    if (gb) {
        for (ptrdiff_t o = 0; o < s->oc; ++o) {
            double acc = 0.0;
            for (int t = 0; partial_b && t < threads; ++t) acc += partial_b[(size_t)t * (size_t)s->oc + o];
            gb[o] = (float)acc;
        }
    }
    free(partial_b);
}
