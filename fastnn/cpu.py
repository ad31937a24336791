"""torch.cpu: the CPU device module (its amp.autocast and amp.GradScaler are torch's
older spellings of fastnn.autocast("cpu", ...) and fastnn.amp.GradScaler("cpu"))."""
from fastnn import amp_aliases


def is_available():
    return True


def device_count():
    return 1


def current_device():
    return "cpu"


def synchronize(device=None):
    """CPU ops finish before they return: nothing to wait for."""


amp = amp_aliases.namespace("cpu", None)  # torch.cpu.amp.autocast's dtype: bfloat16
