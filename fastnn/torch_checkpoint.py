"""Reading the files torch.save writes (its zip format, the default since PyTorch 1.6), so that
fastnn.load takes a checkpoint trained in PyTorch as torch.load does.

The zip holds `<name>/data.pkl`, a pickle of the saved object, and one record
`<name>/data/<key>` of raw bytes per storage. The pickle names a tensor as
torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks) with the
storage as a persistent id ('storage', torch.FloatStorage, key, location, numel); the storage
class gives the element type, and `<name>/byteorder` the byte order.

As torch.load with weights_only=True (its default since 2.6), the unpickler resolves only
torch's harmless globals (tensors, parameters, storages, dtypes, torch.Size, torch.device,
OrderedDict and the builtins a state dict or an optimizer's state uses) and what the caller
allowed (fastnn.serialization.add_safe_globals), checked by name before anything is imported.
weights_only=False trusts the file: any global, torch's names resolved to fastnn's.

Every storage is checked against what the pickle says of it (its record exists and holds
numel elements), and every tensor's offset, sizes and strides against its storage, before
an array is made: a damaged or hostile file raises an UnpicklingError and never reads
outside a storage."""
import importlib
import pickle
import zipfile

import numpy as np

from fastnn import dtypes
from fastnn.device import device
from fastnn.safe_globals import allowed_global_names, unsupported_global_message
from fastnn.tensor import Size, Tensor

ZIP_MAGIC = b"PK\x03\x04"


class _StorageType:
    """What a torch.<Type>Storage global resolves to: the element type of its storage."""

    def __init__(self, dtype):
        self.dtype = dtype


class _Storage:
    """One storage's elements, a writable 1-D array; the tensors made from it are views."""

    def __init__(self, array):
        self.array = array


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None,
                    metadata=None):
    """torch._utils._rebuild_tensor_v2: a view of the storage, checked to lie inside it."""
    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError("a tensor must be rebuilt from a storage")
    size, stride, offset = tuple(size), tuple(stride), int(offset)
    if len(size) != len(stride) or any(int(s) < 0 for s in size + stride) or offset < 0:
        raise pickle.UnpicklingError(f"invalid tensor layout: size {size}, stride {stride}, "
                                     f"offset {offset}")
    flat = storage.array
    if 0 in size:
        array = np.empty(size, dtype=flat.dtype)
    else:
        last = offset + sum((int(n) - 1) * int(s) for n, s in zip(size, stride))
        if last >= flat.size:
            raise pickle.UnpicklingError(
                f"a tensor of size {size}, stride {stride} at offset {offset} reaches element "
                f"{last} of a storage of {flat.size}")
        array = np.lib.stride_tricks.as_strided(
            flat[offset:], shape=size, strides=[int(s) * flat.itemsize for s in stride])
    tensor = Tensor._wrap(array)
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


def _rebuild_parameter(data, requires_grad, hooks=None, state=None):
    """torch._utils._rebuild_parameter (and _with_state): a Parameter on the rebuilt tensor."""
    from fastnn.nn.parameter import Parameter
    if not isinstance(data, Tensor):
        raise pickle.UnpicklingError("a parameter must be rebuilt from a tensor")
    return Parameter(data, requires_grad=bool(requires_grad))


def _encode(text, encoding="latin1"):
    """_codecs.encode, how protocol 2 pickles write bytes."""
    if not isinstance(text, str):
        raise pickle.UnpicklingError("_codecs.encode takes a str")
    return text.encode(encoding)


# torch's globals that a weights-only load resolves, by their pickled names
_TORCH_GLOBALS = {
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
    "torch.Size": Size,
    "torch.device": device,
    "_codecs.encode": _encode,
}
for _d in dtypes.ALL + dtypes.COMPLEX:
    _TORCH_GLOBALS[f"torch.{_d.name}"] = _d
    if _d.numpy is not None:
        _TORCH_GLOBALS[f"torch.{_d.title}Storage"] = _StorageType(np.dtype(_d.numpy))
_TORCH_GLOBALS["torch.UntypedStorage"] = _StorageType(np.dtype(np.uint8))
_TORCH_GLOBALS["torch.storage.UntypedStorage"] = _TORCH_GLOBALS["torch.UntypedStorage"]

# Python's own globals in a weights-only load: torch's allowlist for state dicts and
# optimizer states (protocol 2 names builtins `__builtin__`)
_PLAIN_GLOBALS = {"collections.OrderedDict", "collections.Counter", "builtins.set",
                  "builtins.frozenset", "builtins.slice", "builtins.complex",
                  "builtins.bytearray"}


def _fastnn_global(module, name):
    """fastnn's object at module.name (a dotted name), or None."""
    try:
        found = importlib.import_module(module)
    except ImportError:
        return None
    for part in name.split("."):
        found = getattr(found, part, None)
    return found


def _full_name(obj):
    return f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}"


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, archive, prefix, byteorder, weights_only):
        super().__init__(file)
        self.archive, self.prefix, self.byteorder = archive, prefix, byteorder
        self.allowed = allowed_global_names() if weights_only else None
        self.storages, self.raw = {}, {}

    def find_class(self, module, name):
        module = "builtins" if module == "__builtin__" else module
        full = f"{module}.{name}"
        if full in _TORCH_GLOBALS:
            return _TORCH_GLOBALS[full]
        if module == "torch" or module.startswith("torch."):
            # torch's name of a fastnn class or function (fastnn.nn.modules.rnn.LSTM is
            # torch.nn.modules.rnn.LSTM): importing fastnn's own module runs no file's code,
            # and the global is allowed when the caller allowed that fastnn object
            found = _fastnn_global("fastnn" + module[len("torch"):], name)
            if self.allowed is not None and full not in self.allowed and (
                    found is None or _full_name(found) not in self.allowed):
                raise pickle.UnpicklingError(unsupported_global_message(full))
            if found is None:
                raise pickle.UnpicklingError(f"fastnn has no {name} in its {module} ({full})")
            return found
        if self.allowed is not None and full not in _PLAIN_GLOBALS and full not in self.allowed:
            raise pickle.UnpicklingError(unsupported_global_message(full))
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r:.200}")
        _, kind, key, _location, numel = pid
        key = str(key)
        if (key, kind.dtype) not in self.storages:
            if key not in self.raw:
                try:
                    self.raw[key] = bytearray(self.archive.read(f"{self.prefix}data/{key}"))
                except KeyError:
                    raise pickle.UnpicklingError(f"the pickle refers to a storage {key!r} the "
                                                 "file does not hold") from None
            raw, itemsize = self.raw[key], kind.dtype.itemsize
            if not isinstance(numel, int) or numel < 0 or len(raw) < numel * itemsize:
                raise pickle.UnpicklingError(f"storage {key!r} holds {len(raw)} bytes, not "
                                             f"{numel} elements of {kind.dtype}")
            # one buffer per record: tensors that view it with other dtypes share its bytes
            array = np.frombuffer(raw, dtype=kind.dtype, count=numel)
            if self.byteorder == "big" and itemsize > 1:
                array = array.byteswap()
            self.storages[key, kind.dtype] = _Storage(array)
        return self.storages[key, kind.dtype]


def load(payload_file, weights_only):
    """The object a torch.save zip file holds."""
    try:
        archive = zipfile.ZipFile(payload_file)
        pickles = [n for n in archive.namelist() if n.endswith("data.pkl")
                   and n.count("/") == 1]
    except zipfile.BadZipFile as exc:
        raise pickle.UnpicklingError(f"not a torch.save zip file: {exc}") from None
    if any(n.count("/") >= 2 and n.split("/")[1] == "code" for n in archive.namelist()):
        raise pickle.UnpicklingError("this is a TorchScript archive (torch.jit.save), which "
                                     "fastnn cannot run; it reads the files torch.save writes")
    if len(pickles) != 1:
        raise pickle.UnpicklingError("a torch.save zip file holds one <name>/data.pkl, this "
                                     f"one {len(pickles)}")
    prefix = pickles[0][:-len("data.pkl")]
    byteorder = "little"
    if f"{prefix}byteorder" in archive.namelist():
        byteorder = archive.read(f"{prefix}byteorder").decode("ascii", "replace").strip()
        if byteorder not in ("little", "big"):
            raise pickle.UnpicklingError(f"unknown byte order {byteorder!r}")
    with archive.open(pickles[0]) as data:
        return _Unpickler(data, archive, prefix, byteorder, weights_only).load()
