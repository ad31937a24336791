"""The device API of every modern PyTorch tutorial, on a CPU-only engine: fastnn.device,
fastnn.cuda / fastnn.backends.mps / fastnn.accelerator (nothing available), and the errors a
CPU-only PyTorch build raises when a program asks for another device."""

_KNOWN = ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "mtia", "privateuseone")


class device:
    """fastnn.device("cpu"), device("cpu", 0), device("cuda:1"): a device name, as torch's."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type
        elif isinstance(type, str):
            name, _, number = type.partition(":")
            if name not in _KNOWN or (number and not number.isdigit()):
                raise RuntimeError(f"Invalid device string: '{type}'")
            type = name
            if number:
                if index is not None:
                    raise RuntimeError("type (string) must not include an index because index "
                                       f"was passed explicitly: {type}:{number}")
                index = int(number)
        else:
            raise TypeError(f"device() received an invalid combination of arguments - got "
                            f"({type.__class__.__name__})")
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name, value):
        raise AttributeError(f"attribute '{name}' of 'fastnn.device' objects is not writable")

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __enter__(self):
        """`with fastnn.device("meta"):` makes it the default device of the factory functions
        (and of the layers' parameters) inside, as torch's device context."""
        _default.append(check_device(self))
        return self

    def __exit__(self, *exc):
        if len(_default) > 1:
            _default.pop()
        return False

    def __reduce__(self):
        return (device, (self.type, self.index))


CPU = device("cpu")
META = device("meta")
# The default device: set_default_device's at the bottom, each open `with device(...)` above.
_default = [CPU]


def check_device(value):
    """The CPU or the meta device (fastnn/meta.py); for any other device raise what a
    CPU-only torch raises."""
    d = value if isinstance(value, device) else device(value)
    if d.type == "cpu":
        return CPU
    if d.type == "meta":
        return META
    if d.type == "mps":
        raise RuntimeError("PyTorch is not linked with support for mps devices")
    raise AssertionError(f"Torch not compiled with {d.type.upper()} enabled")


def target(value):
    """The device a factory function makes its tensor on: `value` if given, else the
    default."""
    return _default[-1] if value is None else check_device(value)


def default_is_meta():
    return _default[-1] is META


def set_default(value):
    _default[0] = CPU if value is None else check_device(value)
