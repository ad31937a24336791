/* Optimizer updates, each one streaming pass over a parameter and its state, following
 * torch.optim's single-tensor update rules (torch/optim/{sgd,adam,adamw,adagrad,rmsprop}.py).
 * Scalars that depend on the step count (bias corrections, decayed learning rates) are computed
 * by the Python side in double precision, as torch computes them, and passed in.
 *
 * SGD:
 *   d = g + weight_decay * p
 *   with momentum: buf = d on the first step, else momentum * buf + (1 - dampening) * d;
 *                  d = d + momentum * buf (nesterov) or buf
 *   p -= lr * d
 * Read g (and buf), update p (and buf) in place: one streaming pass instead of the three or four
 * NumPy expressions with temporaries. Vectorised by the compiler, threaded for large tensors. */
#include "fastnn_kernels.h"
#include "parallel.h"
#include <math.h>

#define FNN_VARIANTS_FILE "optimizer_ranges.h"
#include "isa_variants.h"

extern long long fnn_call_counts[FNN_K_COUNT];

/* From 32 Ki floats up the update is split over the threads. On its own one core streams a
 * 200 Ki-float tensor about as fast as two, but in training the gradient and the weights sit
 * in the caches of the threads whose GEMM blocks produced and will pack them, and splitting the
 * update keeps each half on its core: 3-9% off a 2-thread MLP epoch (784-256-10, SGD), measured
 * side by side on Zen 5. Below 32 Ki floats the fork/join costs more than the update. */
#define OPTIM_PARALLEL_MIN (1 << 15)



void fnn_sgd_step(float *p, const float *g, float *buf, ptrdiff_t n, float lr, float wd,
                  float momentum, float dampening, int nesterov, int first)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_SGD], 1, __ATOMIC_RELAXED);
    FNN_FOR_RANGES(n, OPTIM_PARALLEL_MIN,
                   FNN_ISA_CALL(sgd_range, p + lo, g + lo, buf ? buf + lo : NULL, hi - lo, lr, wd, momentum,
                             dampening, nesterov, first));
}

/* Adam / AdamW with amsgrad: g += l2 * p (Adam's weight decay); p *= decay (AdamW's decoupled
 * decay, 1 - lr * wd); m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 * vmax = max(vmax, v) (amsgrad, vmax != NULL); p -= step_size * m / (sqrt(v or vmax) *
 * inv_bc2_sqrt + eps), with step_size = lr / (1 - b1^t), inv_bc2_sqrt = 1 / sqrt(1 - b2^t). */

void fnn_adam_step(float *p, const float *g, float *m, float *v, float *vmax, ptrdiff_t n,
                   float step_size, float inv_bc2_sqrt, float b1, float b2, float eps, float l2,
                   float decay)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_OPTIM], 1, __ATOMIC_RELAXED);
    FNN_FOR_RANGES(n, OPTIM_PARALLEL_MIN, FNN_ISA_CALL(adam_range, p + lo, g + lo, m + lo, v + lo, vmax ? vmax + lo : NULL, hi - lo,
                             step_size, inv_bc2_sqrt, b1, b2, eps, l2, decay));
}

/* Adagrad: g += wd * p; sum += g^2; p -= clr * g / (sqrt(sum) + eps). */

void fnn_adagrad_step(float *p, const float *g, float *sum, ptrdiff_t n, float clr, float wd,
                      float eps)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_OPTIM], 1, __ATOMIC_RELAXED);
    FNN_FOR_RANGES(n, OPTIM_PARALLEL_MIN, FNN_ISA_CALL(adagrad_range, p + lo, g + lo, sum + lo, hi - lo, clr, wd, eps));
}

/* RMSprop: g += wd * p; sq = alpha sq + (1 - alpha) g^2; centered: ga = alpha ga + (1 - alpha) g
 * and avg = sqrt(sq - ga^2) + eps, else avg = sqrt(sq) + eps; with momentum buf = momentum buf
 * + g / avg and p -= lr * buf, else p -= lr * g / avg. */

void fnn_rmsprop_step(float *p, const float *g, float *sq, float *ga, float *buf, ptrdiff_t n,
                      float lr, float alpha, float eps, float wd, float momentum)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_OPTIM], 1, __ATOMIC_RELAXED);
    FNN_FOR_RANGES(n, OPTIM_PARALLEL_MIN, FNN_ISA_CALL(rmsprop_range, p + lo, g + lo, sq + lo, ga ? ga + lo : NULL,
                                buf ? buf + lo : NULL, hi - lo, lr, alpha, eps, wd, momentum));
}

void fnn_adadelta_step(float *p, const float *g, float *sq, float *acc, ptrdiff_t n, float lr,
                       float rho, float eps, float wd)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_OPTIM], 1, __ATOMIC_RELAXED);
    FNN_FOR_RANGES(n, OPTIM_PARALLEL_MIN, FNN_ISA_CALL(adadelta_range, p + lo, g + lo, sq + lo,
                                                       acc + lo, hi - lo, lr, rho, eps, wd));
}

void fnn_adamax_step(float *p, const float *g, float *m, float *u, ptrdiff_t n, float clr,
                     float b1, float b2, float eps, float wd)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_OPTIM], 1, __ATOMIC_RELAXED);
    FNN_FOR_RANGES(n, OPTIM_PARALLEL_MIN, FNN_ISA_CALL(adamax_range, p + lo, g + lo, m + lo,
                                                       u + lo, hi - lo, clr, b1, b2, eps, wd));
}

void fnn_nadam_step(float *p, const float *g, float *m, float *v, ptrdiff_t n, float grad_coef,
                    float avg_coef, float b1, float b2, float inv_bc2, float eps, float wd,
                    float decay)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_OPTIM], 1, __ATOMIC_RELAXED);
    FNN_FOR_RANGES(n, OPTIM_PARALLEL_MIN,
                   FNN_ISA_CALL(nadam_range, p + lo, g + lo, m + lo, v + lo, hi - lo, grad_coef,
                                avg_coef, b1, b2, inv_bc2, eps, wd, decay));
}

void fnn_radam_step(float *p, const float *g, float *m, float *v, ptrdiff_t n, float step_size,
                    float rect_scale, int rectified, float b1, float b2, float eps, float wd,
                    float decay)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_OPTIM], 1, __ATOMIC_RELAXED);
    FNN_FOR_RANGES(n, OPTIM_PARALLEL_MIN,
                   FNN_ISA_CALL(radam_range, p + lo, g + lo, m + lo, v + lo, hi - lo, step_size,
                                rect_scale, rectified, b1, b2, eps, wd, decay));
}
