"""Freed array memory kept for reuse, and arrays aligned to cache lines (issue 12).

A training step allocates the same large arrays every time: a conv layer's output, its
gradient, im2col buffers. glibc's malloc serves requests above its mmap threshold (128 KiB,
rising to the largest freed block, at most 32 MiB) with fresh mmaps, and returns the top of the
heap to the kernel once more than twice that threshold is free. Either way the next step's
arrays arrive as untouched pages, and the kernel zeroes every page on first write: for the
(128,1,28,28) -> 32 conv layer at 2 threads, 14% of the step was `clear_page_erms` under page
faults (5.6 ms a step; 3.7-4.2 ms with the settings below, against PyTorch's 4.9 ms).

So at import fastnn raises glibc's two thresholds (the effect of preloading tcmalloc or
jemalloc, which PyTorch's CPU performance tuning guide recommends): blocks up to MMAP_THRESHOLD
come from the heap, and up to TRIM_THRESHOLD of free memory stays mapped at its top. Nothing
changes where malloc is not glibc's, where the environment already tunes it (MALLOC_*_
variables, GLIBC_TUNABLES), or with FASTNN_MALLOC_TUNING=0; `fastnn.show_config()` says which
applies. The setting is process-wide: other libraries in the process (PyTorch too) get it.
"""
import ctypes
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (malloc.h)
MMAP_THRESHOLD = 32 << 20   # glibc's own ceiling for its dynamic threshold
TRIM_THRESHOLD = 128 << 20  # 64 MiB still let the CNN step's freed arrays be trimmed at times

_ENV_TUNING = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TOP_PAD_")

state = "not applied"
alignment = "not applied"


def tune_malloc():
    """Apply the thresholds once, at import; returns the state show_config reports."""
    global state
    if os.environ.get("FASTNN_MALLOC_TUNING", "1") == "0":
        state = "glibc defaults (FASTNN_MALLOC_TUNING=0)"
    elif any(name in os.environ for name in _ENV_TUNING) or \
            "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        state = "as the environment sets it (MALLOC_* / GLIBC_TUNABLES)"
    elif not _glibc():
        state = "the platform's defaults (not glibc)"
    else:
        mallopt = ctypes.CDLL(None).mallopt
        mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
        if mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD):
            state = (f"freed memory kept for reuse (glibc mmap threshold "
                     f"{MMAP_THRESHOLD >> 20} MiB, trim threshold {TRIM_THRESHOLD >> 20} MiB)")
        else:
            state = "glibc defaults (mallopt refused the thresholds)"
    return state


def _glibc():
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, ValueError, OSError):
        return False


def align_arrays():
    """At import: NumPy arrays of 1 KiB to 4 MiB allocated 64-byte aligned in the importing
    thread (kernels/_aligned_alloc.pxi says why and how), unless FASTNN_ALIGNED_ARRAYS=0 or the
    compiled kernels are not built. Returns the state show_config reports."""
    global alignment
    if os.environ.get("FASTNN_ALIGNED_ARRAYS", "1") == "0":
        alignment = "NumPy's default (FASTNN_ALIGNED_ARRAYS=0)"
        return alignment
    try:
        from fastnn import _kernels
    except ImportError:
        alignment = "NumPy's default (the compiled kernels are not built)"
        return alignment
    _kernels.set_aligned_allocator(True)
    alignment = ("64-byte aligned arrays of 1 KiB to 4 MiB (fastnn's NumPy allocator, in the "
                 "thread that imported fastnn)")
    return alignment
