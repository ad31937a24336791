/* One pass of torch.optim.SGD's update over a parameter (torch/optim/sgd.py):
 *   d = g + weight_decay * p
 *   with momentum: buf = d on the first step, else momentum * buf + (1 - dampening) * d;
 *                  d = d + momentum * buf (nesterov) or buf
 *   p -= lr * d
 * Read g (and buf), update p (and buf) in place: one streaming pass instead of the three or four
 * NumPy expressions with temporaries. Vectorised by the compiler, threaded for large tensors. */
#include "fastnn_kernels.h"
#ifdef _OPENMP
#include <omp.h>
#endif

extern long long fnn_call_counts[FNN_K_COUNT];

#define SGD_PARALLEL_MIN (1 << 18)

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FNN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FNN_CLONES
#endif

FNN_CLONES
static void sgd_range(float *p, const float *g, float *buf, ptrdiff_t n, float lr, float wd,
                      float momentum, float dampening, int nesterov, int first)
{
    if (!buf) {
#pragma omp simd
        for (ptrdiff_t i = 0; i < n; ++i) p[i] -= lr * (g[i] + wd * p[i]);
        return;
    }
#pragma omp simd
    for (ptrdiff_t i = 0; i < n; ++i) {
        const float d = g[i] + wd * p[i];
        const float b = first ? d : momentum * buf[i] + (1.0f - dampening) * d;
        buf[i] = b;
        p[i] -= lr * (nesterov ? d + momentum * b : b);
    }
}

void fnn_sgd_step(float *p, const float *g, float *buf, ptrdiff_t n, float lr, float wd,
                  float momentum, float dampening, int nesterov, int first)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_SGD], 1, __ATOMIC_RELAXED);
    const int threads = n >= SGD_PARALLEL_MIN ? fnn_get_num_threads() : 1;
    if (threads <= 1) {
        sgd_range(p, g, buf, n, lr, wd, momentum, dampening, nesterov, first);
        return;
    }
#pragma omp parallel num_threads(threads)
    {
#ifdef _OPENMP
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
#else
        const int t = 0, nt = 1;
#endif
        const ptrdiff_t lo = n * t / nt, hi = n * (t + 1) / nt;
        sgd_range(p + lo, g + lo, buf ? buf + lo : NULL, hi - lo, lr, wd, momentum, dampening,
                  nesterov, first);
    }
}
