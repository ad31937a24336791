"""NumPy's floating-point warnings switched off while fastnn's ops run.

torch computes log(0) = -inf, 1/0 = inf, inf - inf = nan and float32 overflow to inf without a
word; NumPy warns on each ("divide by zero encountered in log"), which a ported program would
print (or, under `-W error`, raise) where PyTorch is silent. Every op's forward (Function.apply)
and every backward pass run with NumPy's error state set to ignore, restored afterwards, so
the user's own NumPy code keeps its settings.

np.errstate costs about 1 us per use, as much as a small op's whole overhead (issue 12); the
error state is a context variable in NumPy 2, which set/reset directly in about 0.1 us. Where
that variable is not found (another NumPy layout), np.errstate is used instead.
"""
import functools

import numpy as np

try:
    from numpy._core.umath import _extobj_contextvar, _make_extobj

    # silence() ignores floating-point errors from here on and returns the token restore()
    # takes. Bound C methods, not Python wrappers: a wrapper's call would double the cost.
    silence = functools.partial(_extobj_contextvar.set, _make_extobj(all="ignore"))
    restore = _extobj_contextvar.reset
except ImportError:  # pragma: no cover - NumPy without the context variable
    def silence():
        state = np.errstate(all="ignore")
        state.__enter__()
        return state

    def restore(token):
        token.__exit__(None, None, None)
