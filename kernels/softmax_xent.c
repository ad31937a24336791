/* Fused softmax + cross-entropy, forward and gradient in one pass over each row, following
 * scikit-learn's multinomial loss (sklearn/_loss/_loss.pyx.tp):
 *   m = max_k x_k;  s = sum_k exp(x_k - m)  (accumulated in double: with C = 1000 classes a
 *   float32 sum loses ~3 digits);  loss = log(s) + m - x_y;
 *   grad_k = scale * (exp(x_k - m) / s - [k == y]).
 * Subtracting the row max keeps exp() in (0, 1], so logits of 1e4 give a finite, exact loss.
 * NaN anywhere in a row makes s NaN and so the loss NaN, as in PyTorch; nothing crashes. */
#include "fastnn_kernels.h"
#include "softmax_xent_rows.h"
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

extern long long fnn_call_counts[FNN_K_COUNT];

/* Rows per thread below which a fork/join costs more than the work (one 10-class row is ~50 ns). */
#define XENT_PARALLEL_MIN_ELEMS (1 << 15)

/* The portable row kernel: scalar expf from libm. Also the path for rows holding a NaN. */
static void xent_row(ptrdiff_t C, const float *x, int64_t y, float *loss, float *grad,
                    float scale)
{
    float m = -INFINITY;
    for (ptrdiff_t k = 0; k < C; ++k) m = x[k] > m ? x[k] : m;
    int has_nan = 0;
    for (ptrdiff_t k = 0; k < C; ++k) has_nan |= x[k] != x[k];
    if (has_nan) m = NAN;
    double s = 0.0;
    if (grad) {
        for (ptrdiff_t k = 0; k < C; ++k) {
            const float e = expf(x[k] - m);
            grad[k] = e;
            s += e;
        }
    } else {
        for (ptrdiff_t k = 0; k < C; ++k) s += expf(x[k] - m);
    }
    const int bad = y < 0 || y >= C;
    const double xy = bad ? NAN : (double)x[y];
    *loss = (float)(log(s) + (double)m - xy);
    if (grad) {
        const float r = (float)(scale / s);
        for (ptrdiff_t k = 0; k < C; ++k) grad[k] *= r;
        if (!bad) grad[y] -= scale;
    }
}

ptrdiff_t fnn_softmax_xent(ptrdiff_t N, ptrdiff_t C, const float *x, ptrdiff_t ldx,
                           const int64_t *y, float *loss, float *grad, float grad_scale)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_SOFTMAX_XENT], 1, __ATOMIC_RELAXED);
    ptrdiff_t bad = 0;
    const int isa = fnn_isa_active();
    const fnn_xent_row vector_row = isa == FNN_ISA_AVX512 ? fnn_xent_row_avx512
                                  : isa == FNN_ISA_AVX2   ? fnn_xent_row_avx2
                                                          : NULL;
    const int threads = N * C >= XENT_PARALLEL_MIN_ELEMS ? fnn_region_threads() : 1;
#pragma omp parallel for num_threads(threads) reduction(+ : bad) schedule(static) if (threads > 1)
    for (ptrdiff_t i = 0; i < N; ++i) {
        float *g = grad ? grad + i * C : NULL;
        if (!vector_row || vector_row(C, x + i * ldx, y[i], loss + i, g, grad_scale))
            xent_row(C, x + i * ldx, y[i], loss + i, g, grad_scale);
        bad += y[i] < 0 || y[i] >= C;
    }
    return bad;
}
