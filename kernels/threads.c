/* One thread count for every kernel, kept in a global rather than OpenMP's per-thread ICV so a
 * kernel called from any Python thread sees what set_num_threads chose. Default: OpenMP's,
 * which honours OMP_NUM_THREADS and otherwise uses every core the process may run on. */
#include "fastnn_kernels.h"
#ifdef _OPENMP
#include <omp.h>
#endif

static int fnn_threads = 0;

void fnn_set_num_threads(int n)
{
    if (n >= 1) fnn_threads = n;
}

int fnn_get_num_threads(void)
{
#ifdef _OPENMP
    if (fnn_threads < 1) fnn_threads = omp_get_max_threads();
    return fnn_threads;
#else
    return 1;
#endif
}
