/* The sum of a float32 array (torch.sum / Tensor.sum with no dim): a streaming reduction, bound
 * by memory bandwidth, so it is split over threads like ReLU. NumPy's pairwise sum ran at
 * ~24 GB/s on one core (0.27 ms for a conv layer's 6.4 MB output, which every
 * `conv(x).sum().backward()` reduces); torch's at 0.04 ms on two (issue 12).
 *
 * Numerics: float32 lanes over blocks of 4096 values, block totals in float64 (sum_ranges.h),
 * then the parts in order; the result is rounded once to float32 by the caller. The array is cut
 * into SUM_PARTS fixed parts whatever the thread count, so the bits do not depend on it. */
#include "fastnn_kernels.h"

#include "parallel.h"

#define FNN_VARIANTS_FILE "sum_ranges.h"
#include "isa_variants.h"

extern long long fnn_call_counts[FNN_K_COUNT];

enum { SUM_PARTS = 64 };
/* 256 Ki floats (1 MiB): below this one core streams it faster than two synchronise */
#define SUM_PARALLEL_MIN (1 << 18)

double fnn_sum_f32(const float *x, ptrdiff_t n)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_SUM], 1, __ATOMIC_RELAXED);
    double part[SUM_PARTS];
    /* the parts over the team once the array is large enough to amortise a fork/join */
    const ptrdiff_t parts_to_thread = n >= SUM_PARALLEL_MIN ? 0 : SUM_PARTS + 1;
    FNN_FOR_RANGES((ptrdiff_t)SUM_PARTS, parts_to_thread, {
        for (ptrdiff_t p = lo; p < hi; ++p)
            FNN_ISA_CALL(sum_part, x + n * p / SUM_PARTS,
                         n * (p + 1) / SUM_PARTS - n * p / SUM_PARTS, &part[p]);
    });
    double total = 0.0;
    for (int p = 0; p < SUM_PARTS; ++p) total += part[p];
    return total;
}

/* The adjoint of a row sum: every row of out filled with its value (the input gradient of a
 * global average pooling, each pixel its plane's share). A memory-bound write, split over the
 * threads by rows like ReLU: NumPy's broadcast assignment ran on one core, 1.0 ms of the 2.1 ms
 * AdaptiveAvgPool1d(1) step on d2l's TextCNN maps (64,100,498) at 2 threads, where torch's
 * parallel loop took 0.3 (issue 12). The stores are ordinary ones, so the gradient is still in
 * the cache for the op that reads it next. */
void fnn_fill_rows(const float *values, float *out, ptrdiff_t rows, ptrdiff_t width)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_FILL_ROWS], 1, __ATOMIC_RELAXED);
    if (rows <= 0 || width <= 0) return;
    /* rows from which the team splits them: SUM_PARALLEL_MIN floats written in all */
    const ptrdiff_t min_rows = (SUM_PARALLEL_MIN + width - 1) / width;
    FNN_FOR_RANGES(rows, min_rows, {
        for (ptrdiff_t r = lo; r < hi; ++r) {
            const float v = values[r];
            float *row = out + r * width;
            for (ptrdiff_t j = 0; j < width; ++j) row[j] = v;
        }
    });
}
