"""Whether ops record the graph: no_grad / enable_grad / set_grad_enabled / inference_mode.

The mode is thread-local, as torch's: a serving thread inside no_grad() does not stop another
thread's training from recording its graph."""
import functools
import threading


class _State(threading.local):
    enabled = True  # class attribute: every new thread starts with recording on


_state = _State()


def is_grad_enabled():
    return _state.enabled


def is_inference_mode_enabled():
    return getattr(_state, "inference", False)


class _GradModeContext:
    """A context manager that is also a decorator (a fresh context per call)."""

    mode = True

    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self._fresh():
                return fn(*args, **kwargs)
        return wrapper

    def _fresh(self):
        return type(self)()


class no_grad(_GradModeContext):
    """Ops inside do not record the graph (prediction, optimizer updates)."""
    mode = False


class enable_grad(_GradModeContext):
    mode = True


class set_grad_enabled(_GradModeContext):
    """set_grad_enabled(mode): takes effect at once (as torch's function form) and restores
    the previous mode when used as a context manager."""

    def __init__(self, mode):
        self.mode = bool(mode)
        self._prev = _state.enabled
        _state.enabled = self.mode

    def __enter__(self):
        return self

    def _fresh(self):
        return set_grad_enabled(self.mode)


class inference_mode(_GradModeContext):
    """inference_mode(mode=True): no graph recording, as no_grad (fastnn has no separate
    inference tensors, so tensors made inside may later be used in a graph)."""

    def __init__(self, mode=True):
        self.mode = not mode

    def __enter__(self):
        self._prev_inference = getattr(_state, "inference", False)
        _state.inference = not self.mode
        return super().__enter__()

    def __exit__(self, *exc):
        _state.inference = self._prev_inference
        return super().__exit__(*exc)

    def __call__(self, fn=None):
        if fn is None:
            return self
        return super().__call__(fn)

    def _fresh(self):
        return inference_mode(not self.mode)
