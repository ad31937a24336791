/* ReLU forward and backward: memory-bound, so one streaming pass each, vectorised by the
 * compiler once per instruction set (relu_ranges.h through isa_variants.h; the copy that runs is
 * the one fnn_isa_active() names, as for every kernel), threaded only when the array is large
 * enough to amortise a fork/join. */
#include "fastnn_kernels.h"
#include "parallel.h"

#define FNN_VARIANTS_FILE "relu_ranges.h"
#include "isa_variants.h"

extern long long fnn_call_counts[FNN_K_COUNT];

/* 256 Ki floats = 1 MiB in + 1 MiB out: below this one core streams faster than two sync. */
#define RELU_PARALLEL_MIN (1 << 18)




void fnn_relu_forward(const float *x, float *y, ptrdiff_t n)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_RELU_FWD], 1, __ATOMIC_RELAXED);
    FNN_FOR_RANGES(n, RELU_PARALLEL_MIN, FNN_ISA_CALL(relu_forward_range, x + lo, y + lo, hi - lo));
}

void fnn_relu_backward(const float *x, const float *gy, float *gx, ptrdiff_t n)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_RELU_BWD], 1, __ATOMIC_RELAXED);
    FNN_FOR_RANGES(n, RELU_PARALLEL_MIN,
                   FNN_ISA_CALL(relu_backward_range, x + lo, gy + lo, gx + lo, hi - lo));
}

/* Backward of ReLU(x W^T + b) in one pass over the (rows x cols) gradient:
 * gz = gy where y > 0 else 0, and bias_grad[j] = sum_i gz[i, j] (when bias_grad != NULL).
 * Threads split the columns, so each column's sum runs in the same order for any thread count
 * (bitwise reproducible); within a thread the row loop is outer so the j loop vectorises. */

void fnn_relu_backward_bias(const float *y, const float *gy, float *gz, float *bias_grad,
                            ptrdiff_t rows, ptrdiff_t cols)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_RELU_BWD_BIAS], 1, __ATOMIC_RELAXED);
    int threads = rows * cols >= RELU_PARALLEL_MIN ? fnn_region_threads() : 1;
    if (threads > cols / 16) threads = cols / 16 > 1 ? (int)(cols / 16) : 1;
    if (threads <= 1) {
        FNN_ISA_CALL(relu_bias_cols, y, gy, gz, bias_grad, rows, cols, 0, cols);
        return;
    }
#pragma omp parallel num_threads(threads)
    {
#ifdef _OPENMP
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
#else
        const int t = 0, nt = 1;
#endif
        /* column ranges in multiples of 16 floats (one cache line) so threads never share one */
        const ptrdiff_t blocks = (cols + 15) / 16;
        const ptrdiff_t j0 = blocks * t / nt * 16, j1 = blocks * (t + 1) / nt * 16;
        FNN_ISA_CALL(relu_bias_cols, y, gy, gz, bias_grad, rows, cols, j0, j1 < cols ? j1 : cols);
    }
}
