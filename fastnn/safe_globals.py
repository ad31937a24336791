"""The globals a pickled object may use when fastnn.load reads it with weights_only=True (the
default, as torch.load's since PyTorch 2.6): a few harmless ones by default, and what the
caller allows with torch.serialization's API, add_safe_globals / safe_globals /
get_safe_globals / clear_safe_globals. A global is allowed by its full name (module and
qualified name), so the check runs before its module is imported."""
import threading

# Containers and fastnn's own value types that a module's or an optimizer's state holds.
DEFAULT_SAFE_GLOBALS = (
    "collections.OrderedDict",
    "collections.Counter",
    "builtins.set",
    "builtins.frozenset",
    "builtins.slice",
    "builtins.complex",
    "builtins.bytearray",
    "fastnn.dtypes._by_name",
    "fastnn.tensor.Size",
    "fastnn.Size",  # (its pickled name since it is named as torch.Size)
    "fastnn.device.device",
)

_user = []  # add_safe_globals's entries, process-wide, in order
_local = threading.local()  # safe_globals() context managers, per thread


def _name(entry):
    """The full name an entry allows; (global, "module.name") pairs name it themselves, for a
    global whose pickled name differs from where it is defined. Checked at the load, as torch
    checks them."""
    if isinstance(entry, tuple):
        if len(entry) != 2:
            raise ValueError("Expected tuple of length 2 (global, str of callable full path), "
                             f"but got tuple of length: {len(entry)}")
        if type(entry[1]) is not str:
            raise TypeError("Expected second item in tuple to be str of callable full path, "
                            f"but got: {type(entry[1])}")
        return entry[1]
    return f"{entry.__module__}.{entry.__qualname__}"


def add_safe_globals(safe_globals):
    """Allow these globals (classes, functions, or (global, "module.name") pairs) in every
    later weights_only load, until clear_safe_globals()."""
    _user.extend(safe_globals)


def get_safe_globals():
    return list(_user)


def clear_safe_globals():
    _user.clear()


class safe_globals:
    """Within the `with` block (this thread), allow these globals too."""

    def __init__(self, safe_globals):
        self.safe_globals = list(safe_globals)

    def __enter__(self):
        stack = getattr(_local, "stack", None)
        if stack is None:
            stack = _local.stack = []
        stack.append(self.safe_globals)

    def __exit__(self, *exc):
        _local.stack.pop()
        return False


def allowed_global_names():
    names = set(DEFAULT_SAFE_GLOBALS)
    names.update(_name(entry) for entry in _user)
    for entries in getattr(_local, "stack", ()):
        names.update(_name(entry) for entry in entries)
    return names


def unsupported_global_message(name):
    """torch.load's message for a global that is not allowed, naming fastnn's API."""
    return (
        "Weights only load failed. This file can still be loaded, to do so you have two "
        "options, do those steps only if you trust the source of the checkpoint. \n"
        "\t(1) fastnn.load defaults to `weights_only=True`, as `torch.load` has since PyTorch "
        "2.6. Re-running `fastnn.load` with `weights_only` set to `False` will likely succeed, "
        "but it can result in arbitrary code execution. Do it only if you got the file from a "
        "trusted source.\n"
        "\t(2) Alternatively, to load with `weights_only=True` please check the recommended "
        "steps in the following error message.\n"
        f"\tWeightsUnpickler error: Unsupported global: GLOBAL {name} was not an allowed global "
        f"by default. Please use `fastnn.serialization.add_safe_globals([{name}])` or the "
        f"`fastnn.serialization.safe_globals([{name}])` context manager to allowlist this "
        "global if you trust this class/function.")
