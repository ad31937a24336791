"""fastnn.mps (Apple GPUs) on a CPU engine: seeding does nothing and the calls that need the
device raise torch's errors, as on a build without MPS (availability is
fastnn.backends.mps.is_available())."""
from fastnn.cuda import manual_seed  # noqa: F401


def device_count():
    return 0


def synchronize():
    raise RuntimeError("Cannot execute deviceSynchronize() without MPS backend.")


def empty_cache():
    raise RuntimeError("Cannot execute emptyCache() without MPS backend.")
