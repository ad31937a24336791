"""torch.cpu.amp and torch.cuda.amp: the older, device-specific spellings of autocast and
GradScaler, deprecated in torch for torch.amp.autocast(device, ...) and
torch.amp.GradScaler(device, ...) with a FutureWarning that names the replacement. On "cuda"
both then disable themselves (no CUDA here), as torch's do on a CPU-only machine."""
import types
import warnings

from fastnn import amp as _amp
from fastnn.grad_scaler import GradScaler as _GradScaler


def _deprecated(device, name):
    warnings.warn(f"`torch.{device}.amp.{name}(args...)` is deprecated. Please use "
                  f"`torch.amp.{name}('{device}', args...)` instead.", FutureWarning,
                  stacklevel=3)


def namespace(device, default_dtype):
    """The `amp` namespace of fastnn.<device>: autocast and GradScaler bound to `device`."""

    class autocast(_amp.autocast):
        def __init__(self, enabled=True, dtype=default_dtype, cache_enabled=True):
            _deprecated(device, "autocast")
            super().__init__(device, dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)

    class GradScaler(_GradScaler):
        def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                     growth_interval=2000, enabled=True):
            _deprecated(device, "GradScaler")
            super().__init__(device, init_scale=init_scale, growth_factor=growth_factor,
                             backoff_factor=backoff_factor, growth_interval=growth_interval,
                             enabled=enabled)

    autocast.__qualname__ = autocast.__name__ = "autocast"
    return types.SimpleNamespace(autocast=autocast, GradScaler=GradScaler)
