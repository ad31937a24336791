"""fastnn.cuda on a CPU engine: nothing is available, as on a CPU-only torch build, so the
usual `device = "cuda" if torch.cuda.is_available() else "cpu"` picks the CPU."""


def is_available():
    return False


def device_count():
    return 0


def is_bf16_supported(including_emulation=True):
    return False


def manual_seed(seed):
    """Seeding CUDA is a no-op without CUDA (as torch's is when CUDA is absent)."""


manual_seed_all = manual_seed


def synchronize(device=None):
    pass


def empty_cache():
    pass


def current_device():
    raise AssertionError("Torch not compiled with CUDA enabled")


def memory_allocated(device=None):
    """Bytes of CUDA memory in use: none here (torch's CPU build reports 0 as well)."""
    return 0


memory_reserved = max_memory_allocated = max_memory_reserved = memory_allocated


def set_device(device):
    raise AssertionError("Torch not compiled with CUDA enabled")


def get_device_name(device=None):
    raise AssertionError("Torch not compiled with CUDA enabled")


def _amp():
    from fastnn import amp_aliases, dtypes
    return amp_aliases.namespace("cuda", dtypes.float16)


def __getattr__(name):
    # torch.cuda.amp.autocast / GradScaler: made on first use (fastnn.amp imports after this)
    if name == "amp":
        globals()["amp"] = namespace = _amp()
        return namespace
    raise AttributeError(f"module 'fastnn.cuda' has no attribute '{name}'")
