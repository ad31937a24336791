/* Every heap allocation the kernels make goes through here, so that a failure is reported
 * (the kernel returns FNN_ENOMEM and the Cython wrapper raises MemoryError) and so that the
 * tests can make the next allocations fail on purpose (fnn_fail_next_allocations) to prove
 * that no kernel then returns uninitialised output as a result. */
#include "fastnn_kernels.h"

#include <stdlib.h>

static int fail_next = 0; /* allocations still to fail; tests only */

void fnn_fail_next_allocations(int n) { __atomic_store_n(&fail_next, n, __ATOMIC_SEQ_CST); }

static int should_fail(void)
{
    int left = __atomic_load_n(&fail_next, __ATOMIC_SEQ_CST);
    while (left > 0) {
        if (__atomic_compare_exchange_n(&fail_next, &left, left - 1, 0, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST))
            return 1;
    }
    return 0;
}

void *fnn_malloc(size_t bytes) { return should_fail() ? NULL : malloc(bytes ? bytes : 1); }

void *fnn_calloc(size_t count, size_t size)
{
    return should_fail() ? NULL : calloc(count ? count : 1, size ? size : 1);
}

void *fnn_aligned_malloc(size_t alignment, size_t bytes)
{
    void *p = NULL;
    if (should_fail() || posix_memalign(&p, alignment, bytes ? bytes : 1) != 0) return NULL;
    return p;
}
