"""Whether ops record the graph: no_grad / enable_grad / set_grad_enabled, as in torch."""
import functools

_enabled = True


def is_grad_enabled():
    return _enabled


class set_grad_enabled:
    """Context manager (and decorator) that turns graph recording on or off."""

    def __init__(self, mode):
        global _enabled
        self._prev = _enabled
        _enabled = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        global _enabled
        _enabled = self._prev
        return False


class _GradModeContext:
    mode = True

    def __enter__(self):
        global _enabled
        self._prev = _enabled
        _enabled = self.mode
        return self

    def __exit__(self, *exc):
        global _enabled
        _enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradModeContext):
    """Ops inside do not record the graph (prediction, optimizer updates)."""
    mode = False


class enable_grad(_GradModeContext):
    mode = True
