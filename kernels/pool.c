/* Max and average pooling over NCHW planes, forward and backward, with PyTorch's window rules
 * (aten/src/ATen/native/Pool.h): a window starts at o*stride - pad, spans (k-1)*dilation + 1,
 * and only its in-bounds taps count. Planes (n, c) are independent: threads split them. */
#include "conv.h"
#include "fastnn_kernels.h"

#include <math.h>
#include <string.h>

extern long long fnn_call_counts[FNN_K_COUNT];

#define POOL_PARALLEL_MIN (1 << 16)

/* Max pooling; idx[plane][o] = the argmax's flat index y*W + x in its input plane, as torch's
 * return_indices. A NaN in a window wins (torch propagates NaN through max pooling). */
void fnn_maxpool2d_forward(const float *x, float *y, int64_t *idx, const fnn_conv_shape *s)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_POOL], 1, __ATOMIC_RELAXED);
    const ptrdiff_t planes = s->n * s->c, in = s->h * s->w, out = s->oh * s->ow;
    const int threads = planes * out >= POOL_PARALLEL_MIN ? fnn_get_num_threads() : 1;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (ptrdiff_t p = 0; p < planes; ++p) {
        const float *xp = x + p * in;
        for (ptrdiff_t oy = 0; oy < s->oh; ++oy) {
            for (ptrdiff_t ox = 0; ox < s->ow; ++ox) {
                const ptrdiff_t y0 = oy * s->sh - s->ph, x0 = ox * s->sw - s->pw;
                float best = -INFINITY;
                int64_t at = -1;
                for (ptrdiff_t i = 0; i < s->kh; ++i) {
                    const ptrdiff_t yy = y0 + i * s->dh;
                    if (yy < 0 || yy >= s->h) continue;
                    for (ptrdiff_t j = 0; j < s->kw; ++j) {
                        const ptrdiff_t xx = x0 + j * s->dw;
                        if (xx < 0 || xx >= s->w) continue;
                        const float v = xp[yy * s->w + xx];
                        if (v > best || v != v || at < 0) {
                            best = v;
                            at = yy * s->w + xx;
                            if (v != v) goto done;
                        }
                    }
                }
            done:
                y[p * out + oy * s->ow + ox] = best;
                idx[p * out + oy * s->ow + ox] = at;
            }
        }
    }
}

/* gx[plane][idx] += gy: each output sends its gradient to the input that won its window. */
void fnn_maxpool2d_backward(const float *gy, const int64_t *idx, float *gx,
                            const fnn_conv_shape *s)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_POOL], 1, __ATOMIC_RELAXED);
    const ptrdiff_t planes = s->n * s->c, in = s->h * s->w, out = s->oh * s->ow;
    const int threads = planes * out >= POOL_PARALLEL_MIN ? fnn_get_num_threads() : 1;
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
    const int threads = planes * out >= POOL_PARALLEL_MIN ? fnn_get_num_threads() : 1;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (ptrdiff_t p = 0; p < planes; ++p) {
        const float *xp = x + p * in;
        for (ptrdiff_t oy = 0; oy < s->oh; ++oy) {
            for (ptrdiff_t ox = 0; ox < s->ow; ++ox) {
                ptrdiff_t ys, ye, xs, xe;
                float div;
                avg_window(s, oy, ox, count_include_pad, &ys, &ye, &xs, &xe, &div);
                float acc = 0.0f;
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
    const int threads = planes * out >= POOL_PARALLEL_MIN ? fnn_get_num_threads() : 1;
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
                for (ptrdiff_t yy = ys; yy < ye; ++yy)
                    for (ptrdiff_t xx = xs; xx < xe; ++xx) gxp[yy * s->w + xx] += g;
            }
        }
    }
}
