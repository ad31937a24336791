"""Random draws shaped by a tensor: bernoulli, multinomial, poisson (torch's argument checks and
messages), on fastnn's generator so manual_seed makes them repeatable."""
import numpy as np

from fastnn import random
from fastnn.tensor import Tensor


def bernoulli(input, p=None, *, generator=None):
    probs = input._data if p is None else np.full(input.shape, p)
    if np.any((probs < 0) | (probs > 1)) or np.isnan(probs).any():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    draws = bernoulli_draws(random.rng(generator), input.shape, input._data if p is None else p)
    return Tensor._wrap(draws.astype(input._data.dtype))


def bernoulli_draws(rng, shape, p):
    """torch's two kernels: a number p against uniform doubles; a tensor of probabilities
    against uniform floats (24-bit draws), element by element."""
    if isinstance(p, np.ndarray):
        return rng.units(int(np.prod(shape, dtype=np.int64)), np.float32).reshape(shape) < p
    return rng.bernoulli_values(shape, p)


def poisson(input, generator=None):
    return Tensor._wrap(random.rng(generator).poisson(input._data).astype(input._data.dtype))


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """num_samples category indices per row, drawn with probability proportional to the row's
    non-negative weights."""
    weights = input._data.astype(np.float64)
    if weights.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    rows = weights.reshape(-1, weights.shape[-1])
    categories = rows.shape[1]
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > categories:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    totals = rows.sum(axis=1)
    if (totals <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = random.rng(generator)
    out = np.empty((rows.shape[0], num_samples), np.int64)
    for r, row in enumerate(rows):
        if replacement:
            out[r] = rng.choice(categories, num_samples, replace=True, p=row / row.sum())
        else:  # without replacement: only categories of positive weight can be drawn
            positive = np.count_nonzero(row)
            if num_samples > positive:
                raise RuntimeError("invalid multinomial distribution (with replacement=False, "
                                   "not enough non-negative category to sample)")
            out[r] = rng.choice(categories, num_samples, replace=False, p=row / row.sum())
    return Tensor._wrap(out.reshape(weights.shape[:-1] + (num_samples,)))
