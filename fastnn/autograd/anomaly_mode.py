"""torch.autograd's anomaly detection: detect_anomaly, set_detect_anomaly.

While it is on, every recorded op keeps the stack of the forward call that made it, and the
backward pass checks each gradient a node returns for NaN. A node that returns NaN (or raises)
is reported with the forward line that created it, which is the line a user has to fix: the
backward traceback alone only names engine internals. The mode is global, as torch's, and
costs one flag test per recorded op when off.
"""
import os
import traceback
import warnings

import numpy as np

from fastnn.dtypes import FLOATING_NUMPY


class _Mode:
    enabled = False
    check_nan = True


mode = _Mode()

_WARNING = ("Anomaly Detection has been enabled. This mode will increase the runtime and "
            "should only be enabled for debugging.")


def is_anomaly_enabled():
    return mode.enabled


def is_anomaly_check_nan_enabled():
    return mode.check_nan


def _switch(enabled, check_nan):
    previous = (mode.enabled, mode.check_nan)
    mode.enabled, mode.check_nan = bool(enabled), bool(check_nan)
    return previous


class detect_anomaly:
    """Context manager (and decorator) that turns anomaly detection on inside it."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        self.prev = mode.enabled
        self.prev_check_nan = mode.check_nan
        warnings.warn(_WARNING, UserWarning, stacklevel=2)

    def __enter__(self):
        self.prev, self.prev_check_nan = _switch(True, self.check_nan)

    def __exit__(self, *exc):
        _switch(self.prev, self.prev_check_nan)

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with self.__class__(self.check_nan):
                return fn(*args, **kwargs)
        return wrapped


class set_detect_anomaly:
    """Turns anomaly detection on or off; as a context manager it restores the previous state
    at exit."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev, self.prev_check_nan = _switch(mode, check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _switch(self.prev, self.prev_check_nan)


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def record_forward(ctx):
    """Called for each recorded op while the mode is on: keep where forward was called (the
    user's frames; fastnn's own are left out, as torch's C++ frames are)."""
    frames = [f for f in traceback.extract_stack() if not f.filename.startswith(_PACKAGE)]
    ctx._anomaly_stack = traceback.format_list(frames)


def check_gradients(node, input_grads):
    """NaN in a gradient a node returned: torch's error, after the forward-trace warning."""
    if not mode.check_nan:
        return
    for i, g in enumerate(input_grads):
        if g is not None and g.dtype in FLOATING_NUMPY and np.isnan(g).any():
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th "
                               f"output.")


def report(node):
    """The warning torch's engine gives before re-raising a backward error in anomaly mode."""
    stack = getattr(node.ctx, "_anomaly_stack", None)
    if stack is None:
        return
    warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused "
                  f"the error:\n{''.join(stack)}", UserWarning, stacklevel=2)
