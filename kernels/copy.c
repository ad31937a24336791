/* A copy of a large contiguous array split over the threads, each writing the part it reads
 * next. The threaded kernels split their rows in the same halves (FNN_FOR_RANGES), so when the
 * copy that makes a tensor (`fastnn.tensor(array)`, `clone()`) is threaded the same way, every
 * cache line stays with one core from the copy through the forward and the backward pass, as
 * with torch, whose copy_ splits the same way. A single-threaded copy hands half of the array
 * to the other core. Measured on the 2-vCPU EPYC VM (issue 12): for phases of 10-60 s, d2l's
 * TextCNN head, AdaptiveAvgPool1d(1) on (64,100,498), took 3.5 ms a step at 2 threads against
 * 1.6 at one while torch beside it stayed at 1.2; perf put 37% of the samples in that copy
 * (22% otherwise). The likely cause is the host placing the two vCPUs on different core
 * complexes, where a line another core wrote crosses the fabric. With this copy: 0.65-1.0 ms
 * beside torch's 1.15-1.4 over 200 s, no slow phase. */
#include "fastnn_kernels.h"

#include <string.h>

#include "parallel.h"

extern long long fnn_call_counts[FNN_K_COUNT];

enum { LINE = 64 };
/* 1 MiB in cache lines: below it one core copies faster than two synchronise (as the sum's) */
#define COPY_PARALLEL_MIN_LINES ((1 << 20) / LINE)

void fnn_copy_bytes(const void *src, void *dst, ptrdiff_t nbytes)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_COPY], 1, __ATOMIC_RELAXED);
    if (nbytes <= 0) return;
    const ptrdiff_t lines = (nbytes + LINE - 1) / LINE;
    FNN_FOR_RANGES(lines, COPY_PARALLEL_MIN_LINES, {
        const ptrdiff_t first = lo * LINE;
        const ptrdiff_t end = hi * LINE < nbytes ? hi * LINE : nbytes;
        if (end > first)
            memcpy((char *)dst + first, (const char *)src + first, (size_t)(end - first));
    });
}
