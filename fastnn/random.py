"""One seeded generator for every random op (randn, init, dropout, shuffling), as
torch.manual_seed seeds torch's default generator."""
import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed):
    """Seed fastnn's generator: the same seed gives the same weights and batches."""
    global _generator, _initial_seed
    _initial_seed = int(seed)
    _generator = np.random.default_rng(int(seed))
    return _generator


def generator():
    return _generator


def seed():
    """Re-seed from the OS, returning the seed used."""
    s = int(np.random.SeedSequence().entropy % (2**63))
    manual_seed(s)
    return s


def initial_seed():
    return _initial_seed


_initial_seed = 0


class Generator:
    """torch.Generator: an independent random stream (`generator=` on creation functions,
    DataLoader and random_split)."""

    def __init__(self, device="cpu"):
        self._seed = int(np.random.SeedSequence().entropy % (2**63))
        self.numpy_generator = np.random.default_rng(self._seed)
        self.device = device

    def manual_seed(self, seed):
        self._seed = int(seed)
        self.numpy_generator = np.random.default_rng(self._seed)
        return self

    def seed(self):
        self.manual_seed(int(np.random.SeedSequence().entropy % (2**63)))
        return self._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return self.numpy_generator.bit_generator.state

    def set_state(self, state):
        self.numpy_generator.bit_generator.state = state
        return self


def rng(generator=None):
    """The NumPy generator behind `generator=` (None: fastnn's default one)."""
    return _generator if generator is None else generator.numpy_generator
