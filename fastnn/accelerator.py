"""fastnn.accelerator (torch.accelerator): no accelerator on a CPU engine."""


def is_available():
    return False


def current_accelerator(check_available=False):
    return None


def device_count():
    return 0


_NONE = "Cannot access accelerator device when none is available."


def current_device_index():
    raise RuntimeError(_NONE)


def set_device_index(device):
    raise RuntimeError(_NONE)


def synchronize(device=None):
    raise RuntimeError(_NONE)


class device_index:
    """torch.accelerator.device_index(idx): a context manager switching the current device;
    with no accelerator only device None is possible (torch's no-op)."""

    def __init__(self, device):
        self.idx = device

    def __enter__(self):
        if self.idx is not None:
            raise RuntimeError(_NONE)
        return self

    def __exit__(self, *exc):
        return False
