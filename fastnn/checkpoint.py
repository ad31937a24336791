"""Training checkpoints: the model's and optimizer's arrays plus a JSON description (epoch,
configuration, metrics so far, optimizer scalars, random-generator state) in ONE safetensors
file, written to a temporary name and renamed into place. A kill at any moment leaves either
the previous checkpoint or the new one, never a torn file."""
import json

import numpy as np

from fastnn import dtypes, random
from fastnn.serialization import CheckpointError, atomic_write

MODEL_PREFIX = "model."
OPTIM_PREFIX = "optim."


def _optimizer_arrays(optimizer):
    """Split optimizer.state_dict() into arrays (for safetensors) and JSON-able scalars."""
    state = optimizer.state_dict()
    arrays, scalars = {}, {}
    for index, values in state["state"].items():
        for key, value in values.items():
            value = getattr(value, "_data", value)  # (state_dict holds tensors, as torch's)
            if isinstance(value, np.ndarray):
                arrays[f"{OPTIM_PREFIX}{index}.{key}"] = value
            else:
                scalars.setdefault(str(index), {})[key] = value
    return arrays, {"param_groups": state["param_groups"], "scalars": scalars}


def save(path, model, optimizer, info):
    """Write the checkpoint for the end of epoch info['epoch'] atomically to `path`."""
    from safetensors.numpy import save as to_bytes

    arrays = {MODEL_PREFIX + k: np.ascontiguousarray(v._data) for k, v in model.state_dict().items()}
    optim_arrays, optim_info = _optimizer_arrays(optimizer)
    arrays.update(optim_arrays)
    meta = dict(info, optimizer=optim_info, rng=random.generator().state_dict())
    atomic_write(path, to_bytes(arrays, metadata={"fastnn": json.dumps(meta,
                                                                         default=json_default)}))


def load(path):
    """(model_state, optimizer_state_dict, info) from a checkpoint written by save()."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = json.loads((f.metadata() or {})["fastnn"])
            arrays = {k: f.get_tensor(k) for k in f.keys()}
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise CheckpointError(f"{path} is not a valid fastnn training checkpoint: {exc}") from None
    model_state = {k[len(MODEL_PREFIX):]: dtypes.as_array(v) for k, v in arrays.items()
                   if k.startswith(MODEL_PREFIX)}
    optim_meta = meta.pop("optimizer")
    state = {}
    for key, value in arrays.items():
        if key.startswith(OPTIM_PREFIX):
            index, name = key[len(OPTIM_PREFIX):].split(".", 1)
            state.setdefault(int(index), {})[name] = np.array(value)
    for index, scalars in optim_meta["scalars"].items():
        state.setdefault(int(index), {}).update(scalars)
    optim_state = {"state": state, "param_groups": optim_meta["param_groups"]}
    return model_state, optim_state, meta


def restore_rng(info):
    random.generator().load_state_dict(info["rng"])


def json_default(value):
    """JSON for NumPy scalars and tuples (metrics, configurations, optimizer state)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
