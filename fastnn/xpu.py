"""fastnn.xpu (Intel GPUs) on a CPU engine: none is available, as on torch's CPU build, so
pytorch/examples' `use_xpu = torch.xpu.is_available()` device choice picks the CPU; calls
that need the device raise torch's error."""
from fastnn.cuda import (device_count, empty_cache, is_available, manual_seed,  # noqa: F401
                         manual_seed_all)


def is_bf16_supported(including_emulation=True):
    return False


def synchronize(device=None):
    raise AssertionError("Torch not compiled with XPU enabled")
