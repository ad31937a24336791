"""fastnn.save / fastnn.load: state dicts as safetensors files. Writes go to a temporary file
in the same directory and are renamed into place, so a crash mid-write never leaves a truncated
checkpoint under the real name. The keys and shapes are torch's, so safetensors.torch.load_file
reads them into the same PyTorch model.

Whole objects (torch.save(model, f), as pytorch/examples' word_language_model and
super_resolution do) are pickled with every tensor moved into the safetensors body, and loaded
as torch.load loads them by default (weights_only=True): the unpickler resolves only the
globals allowed by default (fastnn/safe_globals.py) or by the caller
(serialization.add_safe_globals / safe_globals), checked by name before anything is imported,
so a file cannot run code the caller did not name.

Files torch.save wrote load too, by the same rules (fastnn/torch_checkpoint.py)."""
import io
import json
import os
import pickle
import tempfile

import numpy as np

from fastnn import dtypes, torch_checkpoint
from fastnn.safe_globals import (add_safe_globals, allowed_global_names,  # noqa: F401
                                 clear_safe_globals, get_safe_globals, safe_globals,
                                 unsupported_global_message)
from fastnn.tensor import Tensor


class CheckpointError(ValueError):
    """The file is not a valid fastnn/safetensors checkpoint."""


def save(obj, f, pickle_module=None, pickle_protocol=None):
    """Save a state dict, or any tree of dicts/lists/tuples holding tensors, arrays, numbers,
    strings, bools and None (a training checkpoint {"epoch": 3, "model": ..., "optimizer":
    ...}). Tensors go into the safetensors body; the tree is JSON in its metadata. A flat
    {name: tensor} dict is written as a plain safetensors file that torch reads. f is a path
    or, as torch's, a binary file object (io.BytesIO) that the bytes are written to."""
    from safetensors.numpy import save as to_bytes

    if isinstance(obj, dict) and all(isinstance(k, str) and isinstance(v, (Tensor, np.ndarray))
                                     and not _tensor_kind(v) for k, v in obj.items()):
        arrays = {name: _array(v) for name, v in obj.items()}
        payload = to_bytes(arrays)
    else:
        arrays = {}
        try:
            tree = _encode(obj, arrays)
        except _NotATree:
            arrays = {}
            payload = to_bytes(_pickled(obj, arrays, pickle_protocol),
                               metadata={_FORMAT_KEY: "pickle"})
        else:
            payload = to_bytes(arrays, metadata={_TREE_KEY: json.dumps(tree)})
    if hasattr(f, "write"):
        f.write(payload)
    else:
        atomic_write(f, payload)


_TREE_KEY = "fastnn.object"
_FORMAT_KEY = "fastnn.format"
_PICKLE_KEY = "__fastnn_pickle__"  # the uint8 array holding the pickle stream


class _NotATree(TypeError):
    """An object the JSON tree cannot hold: the whole object is pickled instead."""


class _Pickler(pickle.Pickler):
    """Tensors and arrays go to the safetensors body by persistent id; one tensor reached
    twice (tied weights) is stored once and loads as one tensor."""

    def __init__(self, file, arrays, protocol):
        super().__init__(file, protocol=protocol)
        self.arrays, self.seen = arrays, {}

    def persistent_id(self, obj):
        if not isinstance(obj, (Tensor, np.ndarray)):
            return None
        if id(obj) in self.seen:
            return self.seen[id(obj)][0]
        from fastnn.nn.parameter import Buffer, Parameter
        key = f"t{len(self.arrays)}"
        self.arrays[key] = _array(obj)
        if isinstance(obj, np.ndarray):
            pid = ("ndarray", key)
        else:
            kind = ("parameter" if isinstance(obj, Parameter) else
                    "buffer" if isinstance(obj, Buffer) else "tensor")
            pid = ("tensor", key, kind, bool(obj.requires_grad))
        self.seen[id(obj)] = (pid, obj)  # obj kept alive so that its id stays unique
        return pid


def _pickled(obj, arrays, protocol):
    stream = io.BytesIO()
    _Pickler(stream, arrays, protocol or pickle.DEFAULT_PROTOCOL).dump(obj)
    arrays[_PICKLE_KEY] = np.frombuffer(stream.getvalue(), dtype=np.uint8)
    return arrays


class _Unpickler(pickle.Unpickler):
    """Globals by name: with weights_only only the allowed ones, checked before the module
    is imported (importing one can run code)."""

    def __init__(self, file, arrays, weights_only):
        super().__init__(file)
        self.arrays, self.loaded = arrays, {}
        self.allowed = allowed_global_names() if weights_only else None

    def find_class(self, module, name):
        if self.allowed is not None and f"{module}.{name}" not in self.allowed:
            raise pickle.UnpicklingError(unsupported_global_message(f"{module}.{name}"))
        return super().find_class(module, name)

    def persistent_load(self, pid):
        key = pid[1]
        if key not in self.loaded:
            if key not in self.arrays or key == _PICKLE_KEY:
                raise pickle.UnpicklingError(f"the pickle refers to a tensor {key!r} the file "
                                             "does not hold")
            array = self.arrays[key]
            if pid[0] == "ndarray":
                self.loaded[key] = array
            else:
                self.loaded[key] = _loaded_tensor(array, pid[2], pid[3])
        return self.loaded[key]


def _unpickled(arrays, weights_only):
    stream = io.BytesIO(arrays[_PICKLE_KEY].tobytes())
    return _Unpickler(stream, arrays, weights_only).load()


def _array(value):
    """A C-contiguous array of the value, 0-d kept 0-d (np.ascontiguousarray makes it 1-d, and
    BatchNorm's num_batches_tracked came back as shape [1], refused by load_state_dict)."""
    return np.require(value._data if isinstance(value, Tensor) else value, requirements="C")


def _tensor_kind(value):
    """What a plain safetensors entry cannot say about a tensor, as torch.save keeps it: that
    it is a Parameter or Buffer, or requires grad ({} for a plain tensor)."""
    if not isinstance(value, Tensor):
        return {}
    from fastnn.nn.parameter import Buffer, Parameter
    kind = {}
    if isinstance(value, (Parameter, Buffer)):
        kind["kind"] = "parameter" if isinstance(value, Parameter) else "buffer"
    if value.requires_grad:
        kind["requires_grad"] = True
    return kind


def _encode(value, arrays):
    if isinstance(value, (Tensor, np.ndarray)):
        key = f"t{len(arrays)}"
        arrays[key] = _array(value)
        return {"$tensor" if isinstance(value, Tensor) else "$ndarray": key,
                **_tensor_kind(value)}
    if isinstance(value, dict):
        return {"$dict": [[_encode(k, arrays), _encode(v, arrays)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v, arrays) for v in value]}
    if isinstance(value, list):
        return [_encode(v, arrays) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise _NotATree(type(value).__name__)


def _decode(node, arrays):
    if isinstance(node, list):
        return [_decode(v, arrays) for v in node]
    if isinstance(node, dict):
        if "$tensor" in node:
            return _loaded_tensor(arrays[node["$tensor"]], node.get("kind"),
                                  node.get("requires_grad", False))
        if "$ndarray" in node:
            return arrays[node["$ndarray"]]
        if "$tuple" in node:
            return tuple(_decode(v, arrays) for v in node["$tuple"])
        return {_decode(k, arrays): _decode(v, arrays) for k, v in node["$dict"]}
    return node


def _loaded_tensor(array, kind, requires_grad):
    from fastnn.nn.parameter import Buffer, Parameter
    tensor = Tensor._wrap(array)
    if kind == "parameter":
        return Parameter(tensor, requires_grad=requires_grad)
    if kind == "buffer":
        return Buffer(tensor)
    tensor.requires_grad = requires_grad
    return tensor


def atomic_write(path, payload):
    """Write bytes to a temporary file beside `path`, fsync, then rename over `path`: readers
    see the old file or the new one, never a torn write."""
    directory = os.path.dirname(os.path.abspath(os.fspath(path)))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """What save() wrote: a {name: Tensor} dict for a state dict, else the saved tree or
    object. weights_only (the default, None, means True as in torch 2.6+): a pickled object
    may only use the allowed globals; weights_only=False trusts the file (it may run code)."""
    from safetensors.numpy import load as from_bytes

    if hasattr(f, "read"):  # a binary file object, as torch.load takes
        payload = f.read()
    else:
        with open(f, "rb") as handle:
            payload = handle.read()
    if payload[:4] == torch_checkpoint.ZIP_MAGIC:  # written by torch.save
        return torch_checkpoint.load(io.BytesIO(payload), weights_only is not False)
    if payload[:2] == b"\x80\x02" and payload[2:3] == b"\x8a":  # a pickled magic number first
        raise CheckpointError(
            f"{f} was written by torch.save(..., _use_new_zipfile_serialization=False), the "
            "format PyTorch used before 1.6, which fastnn does not read. Save it again with "
            "torch.save's default (a zip file), which fastnn.load reads.")
    try:
        arrays = from_bytes(payload)  # (validates the header: its length, JSON and offsets)
        header_size = int.from_bytes(payload[:8], "little")
        metadata = json.loads(payload[8:8 + header_size]).get("__metadata__") or {}
    except Exception as exc:  # safetensors raises its own SafetensorError for bad headers
        raise CheckpointError(f"{f} is not a valid safetensors checkpoint: {exc}") from None
    arrays = {name: dtypes.as_array(array, copy=True) for name, array in arrays.items()}
    if _TREE_KEY in metadata:
        return _decode(json.loads(metadata[_TREE_KEY]), arrays)
    if metadata.get(_FORMAT_KEY) == "pickle" and _PICKLE_KEY in arrays:
        return _unpickled(arrays, weights_only is not False)
    return {name: Tensor._wrap(array) for name, array in arrays.items()}
