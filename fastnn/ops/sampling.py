"""Random draws shaped by a tensor: bernoulli, multinomial, poisson, binomial (torch's argument checks and
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
    """A count per rate, by torch's sampler (fastnn/torch_counts.py): a seed gives torch's
    counts. The rates are read as doubles; the counts take the input's dtype."""
    if input._data.dtype.kind not in "fV":
        raise NotImplementedError(f'"poisson_cpu" not implemented for \'{input.dtype.title}\'')
    rates = input._data.astype(np.float64)
    if not (rates >= 0).all():  # (NaN too)
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    counts = random.rng(generator).poisson_counts(rates)
    return Tensor._wrap(counts.astype(input._data.dtype))


def binomial(count, prob, generator=None):
    """torch.binomial: a Binomial(count, prob) draw per element (broadcast), by torch's sampler
    (fastnn/torch_counts.py), in the inputs' float32 or float64."""
    for name, value in (("count", count), ("prob", prob)):
        if not isinstance(value, Tensor):
            position = 1 if name == "count" else 2
            raise TypeError(f"binomial(): argument '{name}' (position {position}) must be "
                            f"Tensor, not {type(value).__name__}")
        if value._data.dtype.kind not in "fV":
            raise ValueError(f"binomial only supports floating-point dtypes for {name}, got: "
                             f"{value.dtype.title}")
    if prob.dtype != count.dtype:
        raise RuntimeError(f"Found dtype {prob.dtype.title} but expected {count.dtype.title}")
    if count._data.dtype not in (np.float32, np.float64):
        raise NotImplementedError(f'"binomial_cpu" not implemented for \'{count.dtype.title}\'')
    from fastnn.ops.broadcast import check_broadcast
    shape = check_broadcast(count._data.shape, prob._data.shape)
    counts = np.broadcast_to(count._data, shape)
    probs = np.broadcast_to(prob._data, shape)
    return Tensor._wrap(random.rng(generator).binomial_counts(counts, probs))


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """num_samples category indices per row, drawn with probability proportional to the row's
    non-negative weights, by torch's two recipes (aten/src/ATen/native/Distributions.cpp and
    cpu/MultinomialKernel.cpp), so a seed gives torch's indices:

    - without replacement, or one sample: q ~ Exp(1) for every weight (exponential_ on a
      tensor like the input), then the largest weight / q per row (the exponential form of
      the Gumbel-max trick; a top-k for several samples);
    - with replacement: the row's cumulative sums in its dtype (float for the half types)
      normalised to end at 1, then for each sample a uniform double and the first bucket whose
      cumulative sum reaches it."""
    if not input.dtype.is_floating_point:
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{input.dtype.title}")
    weights = input._data
    if weights.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    categories = weights.shape[-1]
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > categories:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    rows = weights.reshape(-1, categories)
    rng = random.rng(generator)
    if rows.shape[0] == 0:
        out = np.empty((0, num_samples), np.int64)
    elif not replacement or num_samples == 1:
        out = _exponential_race(rng, rows, num_samples)
    else:
        out = _inverse_cdf(rng, rows, num_samples)
    return Tensor._wrap(out.reshape(weights.shape[:-1] + (num_samples,)))


def _exponential_race(rng, rows, num_samples):
    wide = rows.astype(np.float64)
    if not (np.all(wide < np.inf) and np.all(wide >= 0)):  # (NaN fails both)
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if (wide.sum(axis=1) == 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    q = rng.exponential_values(rows.shape, 1.0).astype(rows.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        race = rows / q
    if num_samples == 1:
        return np.argmax(race, axis=1)[:, None].astype(np.int64)
    # torch's top-k: largest first (rows of equal values, zero weights, may order differently)
    return np.argsort(-race.astype(np.float64), axis=1, kind="stable")[:, :num_samples]


def _inverse_cdf(rng, rows, num_samples):
    work = rows.dtype if rows.dtype in (np.float32, np.float64) else np.float32
    out = np.empty((rows.shape[0], num_samples), np.int64)
    for r, row in enumerate(rows.astype(work)):
        if (row < 0).any():
            raise RuntimeError("invalid multinomial distribution (encountering probability "
                               "entry < 0)")
        if not np.isfinite(row).all():
            raise RuntimeError("invalid multinomial distribution (encountering probability "
                               "entry = infinity or NaN)")
        cumulative = np.cumsum(row, dtype=work)  # one sum after another, as torch's loop
        total = cumulative[-1]
        if not total > 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        cumulative = cumulative / total
        cumulative[-1] = 1
        # the first bucket whose sum reaches the draw, compared in double as torch's search
        out[r] = np.searchsorted(cumulative.astype(np.float64),
                                 rng.double_values((num_samples,)), side="left")
    return out


def _floating_draws(name, input):
    if input._data.dtype not in (np.float32, np.float64):
        raise NotImplementedError(f'"{name}" not implemented for \'{input.dtype.title}\'')
    return input._data


def _standard_gamma(input, generator=None):
    """torch._standard_gamma: a Gamma(alpha, 1) draw per element, by torch's Marsaglia-Tsang
    sampler (fastnn/torch_counts.py), in the input's dtype."""
    alphas = _floating_draws("gamma_cpu", input)
    return Tensor._wrap(random.rng(generator).gamma_values(alphas))


def _sample_dirichlet(input, generator=None):
    """torch._sample_dirichlet: Gamma draws (in double) normalised along the last dim."""
    alphas = _floating_draws("dirichlet", input)
    return Tensor._wrap(random.rng(generator).dirichlet_values(alphas))
