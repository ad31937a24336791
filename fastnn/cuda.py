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


def _not_compiled(*args, **kwargs):
    raise AssertionError("Torch not compiled with CUDA enabled")


synchronize = get_device_properties = mem_get_info = reset_peak_memory_stats = _not_compiled


class Event:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("Tried to instantiate dummy base class Event")


class Stream:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("torch.cuda.Stream requires CUDA support")


class StreamContext:
    """`with torch.cuda.stream(None):` selects no stream, as in torch without CUDA."""

    def __init__(self, stream):
        if stream is not None:
            raise RuntimeError("torch.cuda.Stream requires CUDA support")
        self.stream = stream

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def stream(stream):
    return StreamContext(stream)


def empty_cache():
    pass


current_device = _not_compiled


def memory_allocated(device=None):
    """Bytes of CUDA memory in use: none here (torch's CPU build reports 0 as well)."""
    return 0


memory_reserved = max_memory_allocated = max_memory_reserved = memory_allocated


set_device = get_device_name = _not_compiled


def _amp():
    from fastnn import amp_aliases, dtypes
    return amp_aliases.namespace("cuda", dtypes.float16)


def __getattr__(name):
    # torch.cuda.amp.autocast / GradScaler: made on first use (fastnn.amp imports after this)
    if name == "amp":
        globals()["amp"] = namespace = _amp()
        return namespace
    raise AttributeError(f"module 'fastnn.cuda' has no attribute '{name}'")
