"""torch.backends.mkldnn: fastnn's CPU kernels are its own, not oneDNN's, so it is not
available; `enabled` and `flags` exist for programs that toggle them."""
import contextlib

enabled = False
deterministic = False


def is_available():
    return False


@contextlib.contextmanager
def flags(enabled=False, deterministic=False):
    global_state = globals()
    saved = global_state["enabled"], global_state["deterministic"]
    global_state["enabled"], global_state["deterministic"] = enabled, deterministic
    try:
        yield
    finally:
        global_state["enabled"], global_state["deterministic"] = saved
