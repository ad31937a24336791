"""fastnn.save / fastnn.load: state dicts as safetensors files (no pickle, so loading a file
cannot run code). Writes go to a temporary file in the same directory and are renamed into
place, so a crash mid-write never leaves a truncated checkpoint under the real name.
The keys and shapes are torch's, so safetensors.torch.load_file reads them into the same
PyTorch model."""
import os
import tempfile

import numpy as np

from fastnn import dtypes
from fastnn.tensor import Tensor


class CheckpointError(ValueError):
    """The file is not a valid fastnn/safetensors checkpoint."""


def save(state_dict, path):
    from safetensors.numpy import save as to_bytes

    arrays = {}
    for name, value in state_dict.items():
        array = value._data if isinstance(value, Tensor) else np.asarray(value)
        arrays[str(name)] = np.ascontiguousarray(array)
    atomic_write(path, to_bytes(arrays))


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


def load(path):
    """An ordered dict of name -> Tensor from a file written by save()."""
    from safetensors.numpy import load as from_bytes

    with open(path, "rb") as f:
        payload = f.read()
    try:
        arrays = from_bytes(payload)
    except Exception as exc:  # safetensors raises its own SafetensorError for bad headers
        raise CheckpointError(f"{path} is not a valid safetensors checkpoint: {exc}") from None
    return {name: Tensor._wrap(dtypes.as_array(array, copy=True)) for name, array in arrays.items()}
