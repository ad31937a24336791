"""fastnn.mps (Apple GPUs) on a CPU engine: the calls programs make around an absent MPS
device do nothing, as torch's do on a build without it (availability is
fastnn.backends.mps.is_available())."""
from fastnn.cuda import empty_cache, manual_seed, synchronize  # noqa: F401


def device_count():
    return 0
