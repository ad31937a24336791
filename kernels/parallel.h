/* Splitting a 1-D range over the OpenMP team, shared by the streaming kernels (ReLU,
 * optimizer updates). FNN_FOR_RANGES(n, min, body) runs `body` with `lo`/`hi` bound to each
 * thread's share of [0, n), serially when n < min (below a few hundred KiB one core streams
 * faster than two threads synchronise). */
#ifndef FASTNN_PARALLEL_H
#define FASTNN_PARALLEL_H
#include <stddef.h>
#ifdef _OPENMP
#include <omp.h>
#define FNN_FOR_RANGES(n, min, body)                                                \
    do {                                                                           \
        const int threads_ = (n) >= (min) ? fnn_region_threads() : 1;             \
        _Pragma("omp parallel num_threads(threads_) if (threads_ > 1)")            \
        {                                                                          \
            const int t_ = omp_get_thread_num(), nt_ = omp_get_num_threads();      \
            const ptrdiff_t lo = (n) * t_ / nt_, hi = (n) * (t_ + 1) / nt_;        \
            body;                                                                  \
        }                                                                          \
    } while (0)
#else
#define FNN_FOR_RANGES(n, min, body)        \
    do {                                    \
        const ptrdiff_t lo = 0, hi = (n);   \
        body;                               \
    } while (0)
#endif

/* This thread's number in the OpenMP team (0 without OpenMP). */
static inline int fnn_thread_index(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

#endif
