"""torch's CPU random stream, so that a seed gives torch's numbers.

torch's CPU generator is a 32-bit Mersenne Twister. `manual_seed(s)` seeds it the classic way,
init_genrand(s & 0xffffffff), and that is also how NumPy's legacy MT19937 seeding works. Each
torch kernel then turns the raw 32-bit draws into values by a fixed recipe. The recipes below
follow aten/src/ATen/core/TransformationHelper.h and native/cpu/DistributionTemplates.h:

- A uniform float is (draw & (2^24 - 1)) * 2^-24, computed in float. A uniform double takes
  53 bits of a 64-bit draw; the 64-bit draw is two 32-bit draws, the first one high.
- A normal of at least 16 contiguous elements is filled with uniforms first. Then each run of
  16 goes through Box-Muller: elements j and j + 8 are one pair. A last partial run is redrawn
  as 16 new uniforms that overwrite the tail.
- Fewer than 16 normals are drawn one at a time in double precision. Box-Muller there makes
  two values; the second is kept for the next call (torch's next_double_normal_sample).
- randint draws 32 bits (64 when the range needs them), reduced modulo the range.
- randperm uses swaps driven by `draw % (n - i)`.

In torch the float Box-Muller runs on Sleef's vectorised log/sin/cos, so about one float normal
in six (of runs of 16 or more) differs from ours in the last bit; every other value is the same
bits. Wherever torch scales by a mean and std or a range it does so with a fused multiply-add,
and so do these recipes.

The recipes run in C (kernels/torch_rng.c) on the NumPy generator's own state, when the
extension is built: there the double log/sin/cos are glibc's, as in torch, so double normals are
torch's bits, and a call costs a microsecond rather than a dozen NumPy calls (randn(15) took
21 us, randperm(60000) 8.5 ms). The NumPy versions below are the reference the tests hold the
C ones to, and what an unbuilt checkout runs; their double log/sin/cos are NumPy's, an ulp off
glibc's in a few percent of values.

The class is a NumPy Generator on that same Mersenne Twister. Draws torch makes by recipes
not copied here still come from the seeded stream, but their values differ from torch's.
Poisson, binomial and gamma draws are torch's (fastnn/torch_counts.py).
"""
import math

import numpy as np

from fastnn import torch_counts

try:
    from fastnn import _kernels
except ImportError:  # an unbuilt checkout: the NumPy recipes
    _kernels = None

# Whether the recipes run in C; tests turn it off to check the C recipes against the NumPy ones.
compiled = _kernels is not None


def _direct_state_works():
    """Whether the C recipes may read and advance NumPy's MT19937 state in bulk
    (kernels/torch_rng.c): its memory holds what bit_generator.state reports, and draws made
    there continue NumPy's own stream. Turns the bulk path on if so."""
    probe, twin = np.random.MT19937(12345), np.random.MT19937(12345)
    probe.random_raw(1000)
    state = probe.state["state"]
    if not _kernels.rng_state_matches(probe.capsule, np.asarray(state["key"], np.uint32),
                                      int(state["pos"])):
        return False
    _kernels.rng_set_direct(True)
    ours = _kernels.rng_integers(probe.capsule, probe.lock, 2000, 1 << 32, False, 0)
    after = probe.random_raw(5)
    expected = twin.random_raw(3005)
    works = bool(np.array_equal(ours, expected[1000:3000]) and
                 np.array_equal(after, expected[3000:]))
    _kernels.rng_set_direct(works)
    return works


# NumPy's state read in bulk (about 1 ns a draw) rather than a call per draw (2.7 ns)
direct_state = compiled and _direct_state_works()

# torch's default_rng_seed_val: the seed of a Generator() nobody seeded
DEFAULT_SEED = 67280421310721
_LOW32 = 0xFFFFFFFF
_FILL_RUN = 16  # torch's normal_fill_16
# Float normals below this many go through the C fill (glibc's scalar logf/sinf/cosf); more go
# through NumPy's vectorised float32 log/sin/cos on uniforms drawn in C, a run's halves apart
# (_float_fill_in_planes). Measured on Zen 5: 8.5 against 8.0 us at 1024, 16.4 against 10.1
# at 2048, 32 against 14 at 4096.
_SCALAR_FLOAT_FILL_MAX = 1024
# random_()'s largest value for floating dtypes: 2^(mantissa digits), every integer below
# it exact
_FULL_RANGE_TOP = {"float32": 1 << 24, "float64": 1 << 53, "float16": 1 << 11,
                   "bfloat16": 1 << 8}


class TorchStream(np.random.Generator):
    """A NumPy Generator on torch's Mersenne Twister, plus torch's recipes (see the module
    docstring). Make one with `seeded(seed)`."""

    def reseed(self, seed):
        self.bit_generator._legacy_seeding(int(seed) & _LOW32)
        self.normal_cache = None  # torch resets next_double_normal_sample on manual_seed
        return self

    def _c(self):
        """The bit generator's capsule and lock, the C recipes' first two arguments."""
        bits = self.bit_generator
        return bits.capsule, bits.lock

    # raw draws -------------------------------------------------------------------------
    def draws32(self, n):
        return self.bit_generator.random_raw(int(n)).astype(np.uint64)

    def draws64(self, n):
        pairs = self.draws32(2 * n)
        return (pairs[0::2] << np.uint64(32)) | pairs[1::2]

    def units(self, n, dtype):
        """n uniforms in [0, 1) as torch's uniform_real_distribution(0, 1) draws them: 53
        bits for double, 24 for float (the half types too: they are drawn as float and
        rounded, measured against torch 2.13)."""
        double = np.dtype(dtype) == np.float64
        if compiled:
            return _kernels.rng_units(*self._c(), int(n), double)
        if double:
            bits = self.draws64(n) & np.uint64((1 << 53) - 1)
            return bits.astype(np.float64) * 2.0 ** -53
        bits = self.draws32(n) & np.uint64((1 << 24) - 1)
        return bits.astype(np.float32) * np.float32(2.0 ** -24)

    # torch's value recipes ----------------------------------------------------------------
    def uniform_values(self, shape, low, high, dtype):
        """tensor.uniform_(low, high) of a tensor of this shape and dtype."""
        work = precision(dtype)
        if compiled:
            values = _kernels.rng_uniform(*self._c(), _count(shape), float(low), float(high),
                                          work is np.float64)
            return values.astype(dtype, copy=False).reshape(shape)
        x = self.units(_count(shape), work)
        lo, hi = work(low), work(high)
        # x (to - from) + from with one rounding, as torch's compiled kernel (a fused
        # multiply-add): for float, exact in double and rounded once; for double, by
        # error-free transformations (a rounded product and sum drift by an ulp in 4 in 10)
        if work is np.float32:
            values = x.astype(np.float64) * np.float64(hi - lo) + np.float64(lo)
        else:
            values = _fused_multiply_add(x, hi - lo, lo)
        return values.astype(dtype, copy=False).reshape(shape)

    def normal_values(self, shape, mean, std, dtype):
        """tensor.normal_(mean, std) of a contiguous tensor of this shape and dtype."""
        n = _count(shape)
        if n < _FILL_RUN:
            return self.double_normals(shape, mean, std).astype(dtype, copy=False)
        work = precision(dtype)
        if compiled and (work is np.float64 or n < _SCALAR_FLOAT_FILL_MAX):
            values = _kernels.rng_normal_fill(*self._c(), n, float(mean), float(std),
                                              work is np.float64)
            return values.astype(dtype, copy=False).reshape(shape)
        whole = n - n % _FILL_RUN
        if compiled:
            data = self._float_fill_in_planes(n, whole)
        else:
            data = self.units(n, work)
            _box_muller_runs(data[:whole], work)
            if whole < n:
                tail = self.units(_FILL_RUN, work)
                _box_muller_runs(tail, work)
                data[n - _FILL_RUN:] = tail
        if mean == 0 and std == 1:  # fma(x, 1, 0) is x + 0 (-0 becoming +0): randn's case,
            values = np.add(data, work(0), out=data)  # a third of its time at 10^5 in double
        elif work is np.float64:
            values = _fused_multiply_add(data, std, mean)
        else:  # a float product is exact in double: one rounding, as torch's fused kernel
            values = (data.astype(np.float64) * np.float64(work(std)) + np.float64(work(mean)))
        return values.astype(dtype, copy=False).reshape(shape)

    def _float_fill_in_planes(self, n, whole):
        """The float Box-Muller of n >= 16 values, as _box_muller_runs on units, with the
        halves of the runs drawn de-interleaved in C: NumPy's loops over half-rows of 8 floats
        spent 60% of the fill on strided reads and writes (randn(100000): 395 us)."""
        runs = whole // _FILL_RUN + (whole < n)
        planes = _kernels.rng_normal_planes(*self._c(), runs, n - whole)
        # planes[0] holds u1 = 1 - u already, planes[1] u2
        data = _kernels.interleave_runs(*_box_muller(planes[0], planes[1], np.float32))
        if whole < n:  # the redrawn last run covers the last 16 places, as torch's
            data = np.concatenate([data[:n - _FILL_RUN], data[whole:]])
        return data

    def double_values(self, shape):
        """Uniform doubles in [0, 1), one 64-bit draw each: what torch's serial kernels (cauchy_,
        log_normal_'s normals, geometric_) start from."""
        return self.units(_count(shape), np.float64).reshape(shape)

    def double_normals(self, shape, mean, std):
        """N(mean, std) in double as torch's normal_distribution<double> draws them one at a
        time: the kept second value first, then Box-Muller pairs (cos, then sin), the sin of
        an unfinished pair kept for the next call. Vectorised over the pairs: a Python call
        per value cost about 10 µs."""
        n = _count(shape)
        if compiled:
            values, self.normal_cache = _kernels.rng_double_normals(
                *self._c(), n, float(mean), float(std), self.normal_cache)
            return values.reshape(shape)
        kept = [] if n == 0 or self.normal_cache is None else [self.normal_cache]
        if kept:
            self.normal_cache = None
        rest = n - len(kept)
        pairs = (rest + 1) // 2
        u = self.units(2 * pairs, np.float64)  # per pair: u1 (the angle), then u2
        radius = np.sqrt(-2.0 * np.log1p(-u[1::2]))
        theta = 2.0 * np.pi * u[0::2]
        values = np.empty(2 * pairs)
        values[0::2], values[1::2] = radius * np.cos(theta), radius * np.sin(theta)
        if rest % 2:
            self.normal_cache = float(values[-1])
        values = np.concatenate([kept, values[:rest]])
        return _fused_multiply_add(values, std, mean).reshape(shape)

    def log_normal_values(self, shape, mean, std):
        """tensor.log_normal_(mean, std) in double: exp of double_normals."""
        if compiled:
            values, self.normal_cache = _kernels.rng_log_normals(
                *self._c(), _count(shape), float(mean), float(std), self.normal_cache)
            return values.reshape(shape)
        return np.exp(self.double_normals(shape, mean, std))

    def exponential_values(self, shape, lambd):
        """tensor.exponential_(lambd) in double: -1/lambd log1p(-u), u a uniform double (torch's
        exponential_distribution; its MKL path is off in released builds, pytorch#132395)."""
        if compiled:
            return _kernels.rng_exponential(*self._c(), _count(shape),
                                            float(lambd)).reshape(shape)
        return (-1.0 / lambd) * np.log1p(-self.double_values(shape))

    def cauchy_values(self, shape, median, sigma):
        """tensor.cauchy_(median, sigma) in double: median + sigma tan(pi (u - 1/2)), u a
        uniform double, the product and sum fused as in torch's kernel."""
        if compiled:
            return _kernels.rng_cauchy(*self._c(), _count(shape), float(median),
                                       float(sigma)).reshape(shape)
        return _fused_multiply_add(np.tan(np.pi * (self.double_values(shape) - 0.5)), sigma,
                                   median)

    def full_range_values(self, shape, dtype_name):
        """tensor.random_() with no bounds: a draw modulo the dtype's range plus one (64-bit
        draws for int64 and double, else 32-bit ones)."""
        n = _count(shape)
        if dtype_name == "bool":
            if compiled:
                return _kernels.rng_integers(*self._c(), n, 2, False, 0).astype(bool).reshape(shape)
            return (self.draws32(n) & np.uint64(1)).astype(bool).reshape(shape)
        wide = dtype_name in ("int64", "float64")
        top = _FULL_RANGE_TOP.get(dtype_name)
        if top is None:
            top = int(np.iinfo(np.dtype(dtype_name)).max)
        if compiled:
            return _kernels.rng_integers(*self._c(), n, top + 1, wide, 0).reshape(shape)
        draws = self.draws64(n) if wide else self.draws32(n)
        return (draws % np.uint64(top + 1)).astype(np.int64).reshape(shape)

    def bernoulli_values(self, shape, p):
        """tensor.bernoulli_(p) for a number p (dropout's mask, with p the keep
        probability): a uniform double below p. Compared as integers: u = bits 2^-53 < p
        exactly when bits < ceil(p 2^53), with no conversion to double."""
        threshold = math.ceil(min(max(float(p), 0.0), 1.0) * 2.0 ** 53)
        if compiled:
            return _kernels.rng_bernoulli(*self._c(), _count(shape), threshold).reshape(shape)
        bits = self.draws64(_count(shape)) & np.uint64((1 << 53) - 1)
        return (bits < np.uint64(threshold)).reshape(shape)

    def randint_values(self, low, high, shape):
        """torch.randint(low, high, shape): each draw modulo the range, plus low."""
        span, n = int(high) - int(low), _count(shape)
        if compiled:
            return _kernels.rng_integers(*self._c(), n, span, span >= 1 << 32,
                                         int(low)).reshape(shape)
        draws = self.draws64(n) if span >= 1 << 32 else self.draws32(n)
        return ((draws % np.uint64(span)).astype(np.int64) + int(low)).reshape(shape)

    def randperm_values(self, n):
        """torch.randperm(n) on the CPU: position i swaps with i + draw % (n - i)."""
        if compiled:
            return _kernels.rng_randperm(*self._c(), int(n))
        if n < 2:
            return np.arange(n, dtype=np.int64)
        spans = np.arange(n, 1, -1, dtype=np.uint64)
        targets = ((self.draws32(n - 1) % spans).astype(np.int64) + np.arange(n - 1)).tolist()
        order = list(range(n))  # a list: the swaps are sequential, and list items are cheap
        for i, j in enumerate(targets):
            order[i], order[j] = order[j], order[i]
        return np.array(order, dtype=np.int64)

    def poisson_counts(self, rates):
        """torch.poisson: a count per rate (float64 array), drawn in order (torch_counts.py)."""
        rates = np.asarray(rates, dtype=np.float64, order="C")  # (0-d stays 0-d)
        if compiled:
            return _kernels.rng_poisson(*self._c(), rates.reshape(-1)).reshape(rates.shape)
        return torch_counts.poisson(self._next_unit, rates)

    def binomial_counts(self, counts, probs):
        """torch.binomial: a draw per (count, prob), float32 or float64 (torch_counts.py)."""
        counts = np.asarray(counts, order="C")
        probs = np.asarray(probs, dtype=counts.dtype, order="C")
        if compiled:
            return _kernels.rng_binomial(*self._c(), counts.reshape(-1),
                                         probs.reshape(-1)).reshape(counts.shape)
        return torch_counts.binomial(self._next_unit, counts, probs)

    def gamma_values(self, alphas):
        """torch._standard_gamma: a Gamma(alpha, 1) draw per alpha (float32 or float64), its
        normals taking the kept one first (torch_counts.py)."""
        alphas = np.asarray(alphas, order="C")
        if compiled:
            values, self.normal_cache = _kernels.rng_gamma(*self._c(), alphas.reshape(-1),
                                                           self.normal_cache)
            return values.reshape(alphas.shape)
        return torch_counts.gamma(self._next_unit, self._next_normal, alphas)

    def dirichlet_values(self, alphas):
        """torch._sample_dirichlet: Gamma(alpha) draws in double, each row divided by its sum,
        then in alpha's dtype within [its smallest normal number, the float below 1]."""
        alphas = np.asarray(alphas)
        gammas = self.gamma_values(alphas.astype(np.float64))
        ratios = (gammas / gammas.sum(-1, keepdims=True)).astype(alphas.dtype)
        top = np.nextafter(alphas.dtype.type(1), alphas.dtype.type(0))
        return np.minimum(top, np.maximum(np.finfo(alphas.dtype).tiny, ratios))

    def _next_normal(self):
        """One normal_distribution<double> draw on Python's math (glibc's log1p/sin/cos, as
        torch's; NumPy's vectorised ones can differ in the last bit)."""
        if self.normal_cache is not None:
            value, self.normal_cache = self.normal_cache, None
            return value
        u1, u2 = self._next_unit(), self._next_unit()
        radius = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        self.normal_cache = radius * math.sin(theta)
        return radius * math.cos(theta)

    def _next_unit(self):
        return float(self.units(1, np.float64)[0])

    def random_int64(self):
        """torch.empty((), dtype=torch.int64).random_(): a 64-bit draw modulo 2^63 (int64's
        max + 1), the seed DataLoader's RandomSampler makes its generator from."""
        if compiled:
            return int(_kernels.rng_integers(*self._c(), 1, 1 << 63, True, 0)[0])
        return int(self.draws64(1)[0]) % (1 << 63)

    # state --------------------------------------------------------------------------------
    def state_dict(self):
        """The whole state, JSON-safe: the twister's key and position and the kept normal."""
        state = self.bit_generator.state
        return {"key": [int(k) for k in state["state"]["key"]], "pos": int(state["state"]["pos"]),
                "normal_cache": self.normal_cache}

    def load_state_dict(self, state):
        self.bit_generator.state = {"bit_generator": "MT19937",
                                    "state": {"key": np.asarray(state["key"], dtype=np.uint32),
                                              "pos": int(state["pos"])}}
        self.normal_cache = state.get("normal_cache")


def precision(dtype):
    """The precision torch's recipes draw a dtype in: double for float64, float for the rest
    (the half types too)."""
    return np.float64 if np.dtype(dtype) == np.float64 else np.float32


def seeded(seed=DEFAULT_SEED):
    """A TorchStream seeded as torch.manual_seed(seed) seeds torch's generator."""
    return TorchStream(np.random.MT19937()).reseed(seed)


def _count(shape):
    return math.prod(int(s) for s in shape)  # np.prod cost 2.5 us a call


def _box_muller_runs(data, work):
    """torch's normal_fill_16 on each run of 16: u1 = 1 - data[j], u2 = data[j + 8] for j < 8,
    in the tensor's precision, in place."""
    runs = data.reshape(-1, _FILL_RUN)
    first, second = runs[:, :_FILL_RUN // 2], runs[:, _FILL_RUN // 2:]
    first[...], second[...] = _box_muller(np.subtract(work(1), first), np.array(second), work)


def _box_muller(radius, theta, work):
    """(r cos(theta), r sin(theta)) from u1 = 1 - u in `radius` and u2 in `theta`, both
    overwritten: r = sqrt(-2 log u1), theta = 2 pi u2 in the tensor's precision, as torch's
    vectorised fill. In place on two buffers: on 10^5 floats the plain expressions' temporaries
    took 487 us, this 292."""
    np.log(radius, out=radius)
    np.multiply(radius, work(-2), out=radius)
    np.sqrt(radius, out=radius)
    np.multiply(theta, work(2.0 * np.pi), out=theta)
    cosines = np.cos(theta)
    np.multiply(cosines, radius, out=cosines)
    np.sin(theta, out=theta)
    return cosines, np.multiply(theta, radius, out=theta)


def _split(a):
    """Veltkamp's split of doubles into 26- and 27-bit halves (Dekker 1971)."""
    c = 134217729.0 * a  # 2^27 + 1
    high = c - (c - a)
    return high, a - high


def _fused_multiply_add(a, b, c):
    """a b + c rounded once (to within a tie): Dekker's exact product and Knuth's exact sum,
    their errors added back before the last rounding."""
    product = a * b
    ah, al = _split(a)
    bh, bl = _split(np.float64(b))
    product_error = ((ah * bh - product) + ah * bl + al * bh) + al * bl
    total = product + c
    back = total - product
    sum_error = (product - (total - back)) + (c - back)
    return total + (sum_error + product_error)

