# NumPy's data allocator, 64-byte aligned (issue 12: batch-1 speed). Included by _kernels.pyx.
#
# glibc's malloc returns 16-byte aligned blocks, so NumPy's arrays start 16 bytes into a cache
# line and every 64-byte vector load of a row straddles two lines. Measured on Zen 5, 1 thread:
# x @ W1^T for the MLP's 256 x 784 weight 8.1-9.2 us against 6.1-6.6 us aligned, its weight
# gradient's outer product 13.1 against 11.4-11.7, its SGD update 17.7 against 16.5-16.9.
# PyTorch's CPU allocator aligns every tensor to 64 bytes (c10's gAlignment) for this reason.
#
# The handler (NumPy's PyDataMem_Handler, NEP 49) gives blocks from 1 KiB up to 4 MiB 64-byte
# alignment and leaves the rest to NumPy's default allocator: small blocks keep its cache, and
# large ones its transparent-huge-page advice and glibc's exact-size reuse. posix_memalign
# splits a block to align it, and for arrays of 10 MiB freed and made again each round those
# splits moved the blocks across the heap: 2560-7680 page faults in five rounds in 3 of 8 runs,
# against 0 with NumPy's allocator (tests/test_memory.py caught it); the batch-1 weights the
# alignment is for are well below 4 MiB. Every block either path returns is a libc heap block,
# so free and realloc work whichever path made it (realloc may return a 16-byte aligned block:
# still correct). calloc stays NumPy's: np.zeros of a large array keeps the kernel's zero pages.
# NumPy keeps the handler's capsule alive with each array it allocates, and sets handlers per
# context (thread): fastnn installs it in the thread that imports it.

cdef extern from *:
    """
    #include <stdlib.h>

    #define FNN_ALIGNED_MIN 1024
    #define FNN_ALIGNED_MAX (4u << 20)

    static PyDataMem_Handler *fnn_default_handler = NULL;

    static void *fnn_aligned_data_malloc(void *ctx, size_t size)
    {
        (void)ctx;
        if (size < FNN_ALIGNED_MIN || size >= FNN_ALIGNED_MAX)
            return fnn_default_handler->allocator.malloc(fnn_default_handler->allocator.ctx, size);
        void *p = NULL;
        if (posix_memalign(&p, 64, size) != 0) return NULL;
        return p;
    }

    static void *fnn_aligned_data_calloc(void *ctx, size_t nelem, size_t elsize)
    {
        (void)ctx;
        return fnn_default_handler->allocator.calloc(fnn_default_handler->allocator.ctx, nelem,
                                                     elsize);
    }

    static void *fnn_aligned_data_realloc(void *ctx, void *ptr, size_t new_size)
    {
        (void)ctx;
        return realloc(ptr, new_size);
    }

    static void fnn_aligned_data_free(void *ctx, void *ptr, size_t size)
    {
        (void)ctx;
        if (size < FNN_ALIGNED_MIN) /* NumPy's cache of small blocks, or free */
            fnn_default_handler->allocator.free(fnn_default_handler->allocator.ctx, ptr, size);
        else
            free(ptr);  /* (what NumPy's default allocator does with a large block too) */
    }

    static PyDataMem_Handler fnn_aligned_handler = {
        "fastnn_aligned_64",
        1,
        {NULL, fnn_aligned_data_malloc, fnn_aligned_data_calloc, fnn_aligned_data_realloc,
         fnn_aligned_data_free},
    };

    /* A new capsule for the handler, after finding NumPy's default one (which it delegates
     * small blocks to); NULL with an exception set on failure. */
    static PyObject *fnn_aligned_handler_capsule(void)
    {
        if (!fnn_default_handler) {
            fnn_default_handler =
                (PyDataMem_Handler *)PyCapsule_GetPointer(PyDataMem_DefaultHandler, "mem_handler");
            if (!fnn_default_handler) return NULL;
        }
        return PyCapsule_New(&fnn_aligned_handler, "mem_handler", NULL);
    }

    /* Install `handler` (NULL: NumPy's default) in the current context; the previous one. */
    static PyObject *fnn_set_data_handler(PyObject *handler)
    {
        return PyDataMem_SetHandler(handler);
    }
    """
    object fnn_aligned_handler_capsule()
    object fnn_set_data_handler(void *handler)
    object PyDataMem_GetHandler()


_aligned_capsule = None


def set_aligned_allocator(bint enabled):
    """Make NumPy allocate arrays of 1 KiB to 4 MiB 64-byte aligned in the calling thread's
    context (enabled), or restore NumPy's default allocator there. Returns whether the aligned
    allocator was in use before."""
    global _aligned_capsule
    if _aligned_capsule is None:
        _aligned_capsule = fnn_aligned_handler_capsule()
    previous = fnn_set_data_handler(<void *>_aligned_capsule if enabled else NULL)
    return previous is _aligned_capsule


def aligned_allocator_in_use():
    """Whether the calling thread's context allocates NumPy arrays with fastnn's handler."""
    return _aligned_capsule is not None and PyDataMem_GetHandler() is _aligned_capsule
