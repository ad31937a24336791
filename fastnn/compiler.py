"""torch.compiler for programs and libraries that consult it. fastnn runs eagerly (see
compiling.py), so nothing is ever being compiled or exported: is_compiling() is False,
disable / allow_in_graph / assume_constant_result return what they are given, and reset() has
no cache to clear."""
import functools

from fastnn.compiling import compile  # noqa: F401

__all__ = ["allow_in_graph", "assume_constant_result", "compile", "disable", "is_compiling",
           "is_dynamo_compiling", "is_exporting", "list_backends", "reset",
           "get_default_backend", "set_stance"]


def is_compiling():
    return False


def is_dynamo_compiling():
    return False


def is_exporting():
    return False


def reset():
    """torch.compiler.reset(): there is no compiled-code cache to clear."""


def disable(fn=None, recursive=True, *, reason=None):
    """@torch.compiler.disable: the function runs eagerly, which it always does here."""
    if fn is None:
        return functools.partial(disable, recursive=recursive, reason=reason)
    return fn


def allow_in_graph(fn):
    return fn


def assume_constant_result(fn):
    return fn


def list_backends(exclude_tags=("debug", "experimental")):
    return ["inductor"]


def get_default_backend():
    return "inductor"


def set_stance(stance="default", *, skip_guard_eval_unsafe=False, force_backend=None):
    """torch.compiler.set_stance: compilation never happens, so every stance is the same; as
    a decorator or context manager it changes nothing."""
    import contextlib
    return contextlib.nullcontext()
