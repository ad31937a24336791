"""Automatic mixed precision, as torch.autocast on the CPU.

Inside `with fastnn.autocast(device_type="cpu", dtype=fastnn.bfloat16):` the ops on PyTorch's
CPU "lower precision" list that fastnn has (linear, matmul/mm/bmm, conv2d) take their floating
inputs rounded to the autocast dtype, accumulate in float32 and return the autocast dtype;
the losses on PyTorch's CPU float32 list take float32 inputs. Everything else runs in the
dtype it is given (a ReLU of a bfloat16 tensor is bfloat16, as in torch). Parameters stay
float32 masters: the casts are differentiable, so their gradients arrive in float32.

The state is per thread and per device, as torch's: blocks nest, `enabled=False` switches it
off inside an enabled block, and the previous state comes back at exit.
"""
import functools
import threading
import warnings

from fastnn import dtypes

class _AutocastState(threading.local):
    cpu = None  # the active autocast dtype, or None when off (a class default: reading it
    # costs no failed lookup, as getattr(local, "cpu", None) did on every op)


_state = _AutocastState()

# torch.get_autocast_dtype's defaults per device
_DEFAULT_DTYPE = {"cpu": dtypes.bfloat16, "cuda": dtypes.float16}
_SUPPORTED_CPU = (dtypes.bfloat16, dtypes.float16)
_KNOWN_DEVICES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip",
                  "ve", "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                  "privateuseone")


def active_dtype():
    """The CPU autocast dtype in force on this thread, or None (the ops' one cheap check)."""
    return _state.cpu


def is_autocast_enabled(device_type=None):
    """torch.is_autocast_enabled: with no argument it asks about CUDA (never on here)."""
    if device_type is None:
        return False
    return _device(device_type) == "cpu" and active_dtype() is not None


def is_autocast_cpu_enabled():
    warnings.warn("fastnn.is_autocast_cpu_enabled() is deprecated. Please use "
                  "fastnn.is_autocast_enabled('cpu') instead.", DeprecationWarning, stacklevel=2)
    return active_dtype() is not None


def get_autocast_dtype(device_type):
    device = _device(device_type)
    if device == "cpu":
        return getattr(_state, "cpu_dtype", _DEFAULT_DTYPE["cpu"])
    return _DEFAULT_DTYPE.get(device, dtypes.float16)


def get_autocast_cpu_dtype():
    warnings.warn("fastnn.get_autocast_cpu_dtype() is deprecated. Please use "
                  "fastnn.get_autocast_dtype('cpu') instead.", DeprecationWarning, stacklevel=2)
    return get_autocast_dtype("cpu")


def set_autocast_enabled(device_type, enabled):
    if _device(device_type) == "cpu":
        _state.cpu = get_autocast_dtype("cpu") if enabled else None


def set_autocast_dtype(device_type, dtype):
    if _device(device_type) == "cpu":
        _state.cpu_dtype = dtypes.to_dtype(dtype)
        if active_dtype() is not None:
            _state.cpu = _state.cpu_dtype


def _device(device_type):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    name = device_type.split(":")[0]
    if name not in _KNOWN_DEVICES:
        raise RuntimeError(f"Expected one of {', '.join(_KNOWN_DEVICES)} device type at start "
                           f"of device string: {device_type}")
    return name


class autocast:
    """torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None): a context
    manager and a decorator. On "cpu" the dtype is bfloat16 (default) or float16; any other
    dtype, and any device fastnn does not have, disables it with torch's warning."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        self.device = _device(device_type)
        self.fast_dtype = (get_autocast_dtype(self.device) if dtype is None
                           else dtypes.to_dtype(dtype))
        self._enabled = bool(enabled)
        self._cache_enabled = True if cache_enabled is None else bool(cache_enabled)
        if self.device == "cuda" and self._enabled:
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.",
                          UserWarning, stacklevel=2)
            self._enabled = False
        elif self.device == "cpu" and self._enabled and self.fast_dtype not in _SUPPORTED_CPU:
            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling "
                          "autocast.\nCPU Autocast only supports dtypes of fastnn.bfloat16, "
                          "fastnn.float16 currently.", UserWarning, stacklevel=2)
            self._enabled = False
        elif self.device not in ("cpu", "cuda") and self._enabled:
            warnings.warn(f"fastnn runs on the CPU only: autocast for '{self.device}' is "
                          "disabled.", UserWarning, stacklevel=2)
            self._enabled = False

    def __enter__(self):
        self._previous = (getattr(_state, "cpu", None), getattr(_state, "cpu_dtype", None))
        if self.device == "cpu":
            _state.cpu = self.fast_dtype if self._enabled else None
            _state.cpu_dtype = self.fast_dtype
        return self

    def __exit__(self, exc_type, exc, tb):
        _state.cpu, previous_dtype = self._previous
        if previous_dtype is None:
            _state.__dict__.pop("cpu_dtype", None)
        else:
            _state.cpu_dtype = previous_dtype
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled, self._cache_enabled):
                return func(*args, **kwargs)
        return wrapper


def float32_inputs(op):
    """Decorate an op on PyTorch's CPU autocast float32 list (the losses): under autocast its
    bfloat16/float16 tensor arguments are cast to float32 (differentiably) before it runs."""
    @functools.wraps(op)
    def wrapper(*args, **kwargs):
        if getattr(_state, "cpu", None) is None:
            return op(*args, **kwargs)
        return op(*map(_to_float32, args), **{k: _to_float32(v) for k, v in kwargs.items()})
    return wrapper


def _to_float32(value):
    from fastnn.tensor import Tensor
    if isinstance(value, Tensor) and value._data.dtype.kind in "fV" and \
            value._data.dtype.itemsize == 2:
        return value._cast(dtypes.float32)
    return value


def eligible(value):
    """Whether autocast's lower-precision cast applies to an argument: a floating tensor other
    than float64 (torch's is_eligible)."""
    from fastnn.tensor import Tensor
    return isinstance(value, Tensor) and value._data.dtype.kind in "fV" and \
        value._data.dtype.itemsize < 8


def lower_precision(value, dtype):
    """An argument of a lower-precision op under autocast: eligible tensors cast to `dtype`,
    everything else as it is."""
    if eligible(value) and value._data.dtype != dtype.numpy:
        return value._cast(dtype)
    return value


from fastnn.grad_scaler import GradScaler  # noqa: E402,F401  (torch.amp.GradScaler)


def is_autocast_available(device_type):
    """Whether autocast runs on this device type here: the CPU only."""
    return _device(device_type) == "cpu"


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorator for a custom Function's forward: with cast_inputs, under autocast its floating
    tensor arguments are cast to that dtype and it runs with autocast off (torch.amp's)."""
    import functools
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def wrapper(*args, **kwargs):
        active = _device(device_type) == "cpu" and active_dtype() is not None
        args[0]._fwd_used_autocast = active  # the ctx, for custom_bwd
        if cast_inputs is None or not active:
            return fwd(*args, **kwargs)
        target = dtypes.to_dtype(cast_inputs)
        cast = [lower_precision(a, target) if eligible(a) else a for a in args[1:]]
        with autocast(device_type, enabled=False):
            return fwd(args[0], *cast, **{k: lower_precision(v, target) if eligible(v) else v
                                           for k, v in kwargs.items()})
    return wrapper


def custom_bwd(bwd=None, *, device_type):
    """Decorator for a custom Function's backward: it runs with the autocast state its forward
    ran with."""
    import functools
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def wrapper(*args, **kwargs):
        ctx = args[0]
        with autocast(device_type, enabled=getattr(ctx, "_fwd_used_autocast", False)):
            return bwd(*args, **kwargs)
    return wrapper
