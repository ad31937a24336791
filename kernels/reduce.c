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
