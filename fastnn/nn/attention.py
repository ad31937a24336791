"""torch.nn.attention: SDPBackend and sdpa_kernel, which programs use to pick
scaled_dot_product_attention's implementation. fastnn has one implementation on the CPU (the
math one, with its fused softmax), so sdpa_kernel only checks its argument, as torch does, and
every backend choice runs it."""
import contextlib
import enum

__all__ = ["SDPBackend", "sdpa_kernel"]


class SDPBackend(enum.IntEnum):
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4

    def __repr__(self):
        return f"SDPBackend.{self.name}"

    __str__ = __repr__


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """with sdpa_kernel(SDPBackend.MATH): ... (a backend or a list of them)."""
    chosen = [backends] if isinstance(backends, SDPBackend) else list(backends)
    for b in chosen:
        if not isinstance(b, SDPBackend):
            raise AssertionError("Backend must be an instance of SDPBackend")
    yield
