"""torch.backends.openmp: whether the kernels were built with OpenMP threads."""


def is_available():
    """True when the compiled kernels take a thread count: built without OpenMP they report
    one thread whatever they are told (kernels/threads.c)."""
    try:
        from fastnn import _kernels
    except ImportError:
        return False
    before = _kernels.get_num_threads()
    _kernels.set_num_threads(before + 1)
    threaded = _kernels.get_num_threads() == before + 1
    _kernels.set_num_threads(before)
    return threaded
