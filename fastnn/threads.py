"""Thread count for every kernel on every backend, as torch.set_num_threads: one setting for the
whole process (every Python thread's kernels use it, on the compiled and the Numba backend)."""
import contextlib
import os

_threads = None


def _default_threads():
    from_env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if from_env.isdigit() and int(from_env) >= 1:
        return int(from_env)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def set_num_threads(n):
    """Use `n` threads in the kernels (n >= 1)."""
    global _threads
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads expects an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"Number of threads must be positive, got {n}")
    _threads = n
    try:
        from fastnn import _kernels
        _kernels.set_num_threads(n)
    except ImportError:
        pass
    from fastnn import backend
    if "numba" in backend._loaded:
        backend._loaded["numba"].set_num_threads(n)


def get_num_threads():
    """The number of threads the kernels use (default: OMP_NUM_THREADS, else all cores)."""
    if _threads is None:
        set_num_threads(_default_threads())
    return _threads


@contextlib.contextmanager
def num_threads(n):
    """Use `n` kernel threads inside the block, then the previous count again. Like
    set_num_threads this is process-wide: other Python threads see the change meanwhile."""
    previous = get_num_threads()
    set_num_threads(n)
    try:
        yield n
    finally:
        set_num_threads(previous)
