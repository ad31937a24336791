/* Batch normalisation over NCHW (Ioffe & Szegedy 2015): statistics per channel over N x H x W.
 * Channels are independent, so threads split them; each channel's values are N runs of H*W
 * contiguous floats. Statistics use two passes in double (mean, then the mean squared
 * deviation): E[x^2] - E[x]^2 in float loses everything when |mean| >> std.
 *
 * forward_train: y = (x - mean) * inv_std * gamma + beta; returns the batch mean and biased var.
 * forward_eval:  the same with given mean/var (the running statistics).
 * backward:      with x_hat = (x - mean) * inv_std and dxhat = g * gamma,
 *                gx = inv_std / M * (M dxhat - sum(dxhat) - x_hat sum(dxhat x_hat)),
 *                ggamma = sum(g x_hat), gbeta = sum(g).
 * gamma/beta may be NULL (affine=False). */
#include "fastnn_kernels.h"

#include <math.h>

extern long long fnn_call_counts[FNN_K_COUNT];

void fnn_batchnorm_forward(const float *x, const float *gamma, const float *beta, float *y,
                           double *mean, double *var, int training, ptrdiff_t N, ptrdiff_t C,
                           ptrdiff_t HW, double eps)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_BATCHNORM], 1, __ATOMIC_RELAXED);
    const int threads = N * C * HW >= (1 << 16) ? fnn_region_threads() : 1;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (ptrdiff_t c = 0; c < C; ++c) {
        if (training) {
            double s = 0.0;
            for (ptrdiff_t n = 0; n < N; ++n) {
                const float *xp = x + (n * C + c) * HW;
                float part = 0.0f;
                for (ptrdiff_t p = 0; p < HW; ++p) part += xp[p];
                s += part;
            }
            const double m = s / (double)(N * HW);
            double q = 0.0;
            for (ptrdiff_t n = 0; n < N; ++n) {
                const float *xp = x + (n * C + c) * HW;
                const float mf = (float)m;
                float part = 0.0f;
                for (ptrdiff_t p = 0; p < HW; ++p) {
                    const float d = xp[p] - mf;
                    part += d * d;
                }
                q += part;
            }
            mean[c] = m;
            var[c] = q / (double)(N * HW);
        }
        const float inv_std = (float)(1.0 / sqrt(var[c] + eps));
        const float scale = gamma ? gamma[c] * inv_std : inv_std;
        const float shift = (beta ? beta[c] : 0.0f) - (float)mean[c] * scale;
        for (ptrdiff_t n = 0; n < N; ++n) {
            const float *xp = x + (n * C + c) * HW;
            float *yp = y + (n * C + c) * HW;
            for (ptrdiff_t p = 0; p < HW; ++p) yp[p] = xp[p] * scale + shift;
        }
    }
}

void fnn_batchnorm_backward(const float *x, const float *g, const float *gamma,
                            const double *mean, const double *var, float *gx, float *ggamma,
                            float *gbeta, ptrdiff_t N, ptrdiff_t C, ptrdiff_t HW, double eps)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_BATCHNORM], 1, __ATOMIC_RELAXED);
    const int threads = N * C * HW >= (1 << 16) ? fnn_region_threads() : 1;
    const double M = (double)(N * HW);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (ptrdiff_t c = 0; c < C; ++c) {
        const float m = (float)mean[c];
        const float inv_std = (float)(1.0 / sqrt(var[c] + eps));
        double sg = 0.0, sgx = 0.0;
        for (ptrdiff_t n = 0; n < N; ++n) {
            const float *xp = x + (n * C + c) * HW, *gp = g + (n * C + c) * HW;
            float a = 0.0f, b = 0.0f;
            for (ptrdiff_t p = 0; p < HW; ++p) {
                a += gp[p];
                b += gp[p] * (xp[p] - m);
            }
            sg += a;
            sgx += b;
        }
        const double sum_xhat_g = sgx * inv_std; /* sum(g * x_hat) */
        if (ggamma) ggamma[c] = (float)sum_xhat_g;
        if (gbeta) gbeta[c] = (float)sg;
        if (!gx) continue;
        const float w = gamma ? gamma[c] : 1.0f;
        /* gx = w*inv_std*(g - sg/M - x_hat * sum_xhat_g / M) */
        const float k = w * inv_std;
        const float mean_g = (float)(sg / M);
        const float coef = (float)(sum_xhat_g / M) * inv_std; /* multiplies (x - mean) */
        for (ptrdiff_t n = 0; n < N; ++n) {
            const float *xp = x + (n * C + c) * HW, *gp = g + (n * C + c) * HW;
            float *op = gx + (n * C + c) * HW;
            for (ptrdiff_t p = 0; p < HW; ++p)
                op[p] = k * (gp[p] - mean_g - (xp[p] - m) * coef);
        }
    }
}
