"""One seeded generator for every random op (randn, init, dropout, shuffling), as
torch.manual_seed seeds torch's default generator."""
import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed):
    """Seed fastnn's generator: the same seed gives the same weights and batches."""
    global _generator
    _generator = np.random.default_rng(int(seed))
    return _generator


def generator():
    return _generator


def seed():
    """Re-seed from the OS, returning the seed used."""
    s = int(np.random.SeedSequence().entropy % (2**63))
    manual_seed(s)
    return s
