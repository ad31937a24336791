"""One seeded generator for every random op (randn, init, dropout, shuffling), as
torch.manual_seed seeds torch's default generator. It is torch's stream (torch_stream.py): a
seed gives torch's weights, batches and random tensors."""
import json
import threading

import numpy as np

from fastnn.torch_stream import DEFAULT_SEED, seeded

# as torch's default generator: seeded from the OS at import (a new Generator() is not)
_initial_seed = int(np.random.SeedSequence().entropy % (2**64))
_generator = seeded(_initial_seed)


def manual_seed(seed):
    """Seed fastnn's generator: the same seed gives the same weights and batches, and the
    same as torch.manual_seed(seed) gives in torch."""
    global _generator, _initial_seed
    _initial_seed = int(seed)
    _generator = seeded(int(seed))
    return _generator


def generator():
    return _generator


def seed():
    """Re-seed from the OS, returning the seed used."""
    s = int(np.random.SeedSequence().entropy % (2**64))
    manual_seed(s)
    return s


def initial_seed():
    return _initial_seed


class Generator:
    """torch.Generator: an independent random stream (`generator=` on creation functions,
    DataLoader and random_split)."""

    def __init__(self, device="cpu"):
        self._seed = DEFAULT_SEED  # torch's seed for a Generator nobody seeded
        self.numpy_generator = seeded(self._seed)
        self.device = device

    def manual_seed(self, seed):
        self._seed = int(seed)
        self.numpy_generator = seeded(self._seed)
        return self

    def seed(self):
        self.manual_seed(int(np.random.SeedSequence().entropy % (2**63)))
        return self._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The stream's state as a uint8 tensor (torch's ByteTensor), for set_state."""
        return _state_bytes(self.numpy_generator)

    def set_state(self, new_state):
        _restore(self.numpy_generator, new_state)
        return self


class _VmapMode(threading.local):
    error = 0  # > 0 inside torch.func.vmap(randomness="error") on this thread


vmap_mode = _VmapMode()


def rng(generator=None):
    """The NumPy generator behind `generator=` (None: fastnn's default one); inside
    vmap(randomness="error") random ops refuse, as torch's."""
    if vmap_mode.error:
        raise RuntimeError("vmap: called random operation while in randomness error mode. "
                           "Please either use the 'same' or 'different' randomness flags on "
                           "vmap or perform the randomness operation out of vmap")
    return _generator if generator is None else generator.numpy_generator


def _state_bytes(numpy_generator):
    """A generator's complete state (NumPy's bit-generator dict) as a uint8 tensor: what
    torch.get_rng_state returns, so it can be saved in a checkpoint and handed back."""
    from fastnn.tensor import Tensor
    text = json.dumps(numpy_generator.state_dict(), sort_keys=True)
    return Tensor._wrap(np.frombuffer(text.encode(), dtype=np.uint8).copy())


def _restore(numpy_generator, new_state):
    from fastnn.tensor import Tensor
    data = new_state._data if isinstance(new_state, Tensor) else np.asarray(new_state)
    if data.dtype != np.uint8 or data.ndim != 1:
        raise TypeError("RNG state must be a torch.ByteTensor")
    try:
        numpy_generator.load_state_dict(json.loads(data.tobytes().decode()))
    except (ValueError, TypeError, KeyError) as error:
        raise RuntimeError(f"Expected an RNG state from get_rng_state, but found {data.size} "
                           "bytes that are not one") from error


def get_rng_state():
    """The default generator's state (a uint8 tensor), as torch.get_rng_state."""
    return _state_bytes(_generator)


def set_rng_state(new_state):
    """Restores the default generator to a state from get_rng_state: the random numbers after
    it repeat."""
    _restore(_generator, new_state)


class fork_rng:
    """torch.random.fork_rng: within it, random draws change nothing outside (the default
    generator's state is restored at exit). A context manager and a decorator."""

    def __init__(self, devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices",
                 device_type="cuda"):
        self.enabled = enabled

    def __enter__(self):
        if self.enabled:
            self._state = get_rng_state()
        return self

    def __exit__(self, *exc):
        if self.enabled:
            set_rng_state(self._state)
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with fork_rng(enabled=self.enabled):
                return fn(*args, **kwargs)
        return wrapped
