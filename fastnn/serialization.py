"""fastnn.save / fastnn.load: state dicts as safetensors files (no pickle, so loading a file
cannot run code). Writes go to a temporary file in the same directory and are renamed into
place, so a crash mid-write never leaves a truncated checkpoint under the real name.
The keys and shapes are torch's, so safetensors.torch.load_file reads them into the same
PyTorch model."""
import json
import os
import tempfile

import numpy as np

from fastnn import dtypes
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
                                     for k, v in obj.items()):
        arrays = {name: np.ascontiguousarray(_array(v)) for name, v in obj.items()}
        payload = to_bytes(arrays)
    else:
        arrays = {}
        tree = _encode(obj, arrays)
        payload = to_bytes(arrays, metadata={_TREE_KEY: json.dumps(tree)})
    if hasattr(f, "write"):
        f.write(payload)
    else:
        atomic_write(f, payload)


_TREE_KEY = "fastnn.object"


def _array(value):
    return value._data if isinstance(value, Tensor) else np.asarray(value)


def _encode(value, arrays):
    if isinstance(value, (Tensor, np.ndarray)):
        key = f"t{len(arrays)}"
        arrays[key] = np.ascontiguousarray(_array(value))
        return {"$tensor" if isinstance(value, Tensor) else "$ndarray": key}
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
    raise TypeError(f"fastnn.save stores tensors, arrays, numbers, strings, bools, None and "
                    f"dicts/lists/tuples of them (no pickle); got {type(value).__name__}")


def _decode(node, arrays):
    if isinstance(node, list):
        return [_decode(v, arrays) for v in node]
    if isinstance(node, dict):
        if "$tensor" in node:
            return Tensor._wrap(arrays[node["$tensor"]])
        if "$ndarray" in node:
            return arrays[node["$ndarray"]]
        if "$tuple" in node:
            return tuple(_decode(v, arrays) for v in node["$tuple"])
        return {_decode(k, arrays): _decode(v, arrays) for k, v in node["$dict"]}
    return node


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


def load(f, map_location=None, pickle_module=None, weights_only=True, mmap=None):
    """What save() wrote: a {name: Tensor} dict for a state dict, else the saved tree."""
    from safetensors.numpy import load as from_bytes

    if hasattr(f, "read"):  # a binary file object, as torch.load takes
        payload = f.read()
    else:
        with open(f, "rb") as handle:
            payload = handle.read()
    if payload[:4] == b"PK\x03\x04":
        raise CheckpointError(
            f"{f} was written by torch.save (a zip of pickles); fastnn never unpickles files, "
            "since loading a pickle can run code. Convert it once in PyTorch: "
            "`from safetensors.torch import save_file; save_file(torch.load(path), "
            "'model.safetensors')` for a state dict.")
    try:
        arrays = from_bytes(payload)  # (validates the header: its length, JSON and offsets)
        header_size = int.from_bytes(payload[:8], "little")
        metadata = json.loads(payload[8:8 + header_size]).get("__metadata__") or {}
    except Exception as exc:  # safetensors raises its own SafetensorError for bad headers
        raise CheckpointError(f"{f} is not a valid safetensors checkpoint: {exc}") from None
    arrays = {name: dtypes.as_array(array, copy=True) for name, array in arrays.items()}
    if _TREE_KEY in metadata:
        return _decode(json.loads(metadata[_TREE_KEY]), arrays)
    return {name: Tensor._wrap(array) for name, array in arrays.items()}
