# torch's random recipes in C (kernels/torch_rng.c), on the NumPy MT19937 a TorchStream wraps.
# Included by _kernels.pyx. Each wrapper takes the bit generator's capsule and its lock, makes
# its output array and fills it under the lock with the GIL held: the C code reads NumPy's
# generator state through bitgen_t, and NumPy's own methods release the GIL only while holding
# that lock, so no two draws ever interleave. (Issue 12: randn(15) cost 21 us in NumPy calls
# against torch's 2, randperm(60000) 8.5 ms against 0.27.)
from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.stdint cimport uint32_t, uint64_t

cdef extern from "torch_rng.h":
    ctypedef struct bitgen_t:
        pass
    void fnn_rng_units_f32(bitgen_t *g, float *out, int64_t n)
    void fnn_rng_units_f64(bitgen_t *g, double *out, int64_t n)
    void fnn_rng_uniform_f32(bitgen_t *g, float *out, int64_t n, float low, float high)
    void fnn_rng_uniform_f64(bitgen_t *g, double *out, int64_t n, double low, double high)
    void fnn_rng_normal_fill_f32(bitgen_t *g, float *out, int64_t n, float mean, float std)
    void fnn_rng_normal_fill_f64(bitgen_t *g, double *out, int64_t n, double mean, double std)
    void fnn_rng_normal_planes_f32(bitgen_t *g, float *u1, float *u2, int64_t runs,
                                   int64_t skip)
    void fnn_interleave_runs_f32(const float *first, const float *second, float *out,
                                 int64_t runs)
    void fnn_rng_double_normals(bitgen_t *g, double *out, int64_t n, double mean, double std,
                                int *has_cache, double *cache)
    void fnn_rng_log_normals(bitgen_t *g, double *out, int64_t n, double mean, double std,
                             int *has_cache, double *cache)
    void fnn_rng_exponential(bitgen_t *g, double *out, int64_t n, double lambd)
    void fnn_rng_cauchy(bitgen_t *g, double *out, int64_t n, double median, double sigma)
    void fnn_rng_poisson(bitgen_t *g, const double *rates, double *out, int64_t n)
    void fnn_rng_binomial_f32(bitgen_t *g, const float *counts, const float *probs, float *out,
                              int64_t n)
    void fnn_rng_binomial_f64(bitgen_t *g, const double *counts, const double *probs,
                              double *out, int64_t n)
    void fnn_rng_gamma_f32(bitgen_t *g, const float *alphas, float *out, int64_t n,
                           int *has_cache, double *cache)
    void fnn_rng_gamma_f64(bitgen_t *g, const double *alphas, double *out, int64_t n,
                           int *has_cache, double *cache)
    void fnn_rng_bernoulli(bitgen_t *g, uint8_t *out, int64_t n, uint64_t threshold)
    void fnn_rng_integers(bitgen_t *g, int64_t *out, int64_t n, uint64_t span, int wide,
                          int64_t low)
    void fnn_rng_randperm(bitgen_t *g, int64_t *out, int64_t n)
    int fnn_rng_state_matches(bitgen_t *g, const uint32_t *key, int pos)
    void fnn_rng_set_direct(int on)


cdef inline bitgen_t *_bitgen(object capsule) except NULL:
    return <bitgen_t *>PyCapsule_GetPointer(capsule, "BitGenerator")


cdef inline cnp.ndarray _rng_out(Py_ssize_t n, int typenum):
    if n < 0:
        raise ValueError(f"negative number of random values: {n}")
    cdef cnp.npy_intp size = n
    return cnp.PyArray_EMPTY(1, &size, typenum, 0)


def rng_units(capsule, lock, Py_ssize_t n, bint double):
    """n uniforms in [0, 1), float64 if double else float32 (TorchStream.units)."""
    cdef cnp.ndarray out = _rng_out(n, cnp.NPY_FLOAT64 if double else cnp.NPY_FLOAT32)
    cdef bitgen_t *g = _bitgen(capsule)
    with lock:
        if double:
            fnn_rng_units_f64(g, <double *>cnp.PyArray_DATA(out), n)
        else:
            fnn_rng_units_f32(g, <float *>cnp.PyArray_DATA(out), n)
    return out


def rng_uniform(capsule, lock, Py_ssize_t n, double low, double high, bint double):
    """uniform_(low, high) of n values in double or float (TorchStream.uniform_values)."""
    cdef cnp.ndarray out = _rng_out(n, cnp.NPY_FLOAT64 if double else cnp.NPY_FLOAT32)
    cdef bitgen_t *g = _bitgen(capsule)
    with lock:
        if double:
            fnn_rng_uniform_f64(g, <double *>cnp.PyArray_DATA(out), n, low, high)
        else:
            fnn_rng_uniform_f32(g, <float *>cnp.PyArray_DATA(out), n, <float>low, <float>high)
    return out


def rng_normal_fill(capsule, lock, Py_ssize_t n, double mean, double std, bint double):
    """normal_(mean, std) of n >= 16 values in double or float (TorchStream.normal_values)."""
    if n < 16:
        raise ValueError(f"normal_fill needs at least 16 values, got {n}")
    cdef cnp.ndarray out = _rng_out(n, cnp.NPY_FLOAT64 if double else cnp.NPY_FLOAT32)
    cdef bitgen_t *g = _bitgen(capsule)
    with lock:
        if double:
            fnn_rng_normal_fill_f64(g, <double *>cnp.PyArray_DATA(out), n, mean, std)
        else:
            fnn_rng_normal_fill_f32(g, <float *>cnp.PyArray_DATA(out), n, <float>mean,
                                    <float>std)
    return out


def rng_normal_planes(capsule, lock, Py_ssize_t runs, Py_ssize_t skip):
    """(2, 8 runs) float32: 1 - the first half and the second half of each run of 16 uniforms,
    `skip` draws thrown away before the last run (TorchStream.normal_values)."""
    if runs < 0 or skip < 0 or skip >= 16:
        raise ValueError(f"rng_normal_planes: bad runs {runs} or skip {skip}")
    cdef cnp.npy_intp dims[2]
    dims[0], dims[1] = 2, 8 * runs
    cdef cnp.ndarray out = cnp.PyArray_EMPTY(2, dims, cnp.NPY_FLOAT32, 0)
    cdef float *data = <float *>cnp.PyArray_DATA(out)
    cdef bitgen_t *g = _bitgen(capsule)
    with lock:
        fnn_rng_normal_planes_f32(g, data, data + 8 * runs, runs, skip)
    return out


def interleave_runs(const float[::1] first, const float[::1] second):
    """The runs of 16 from their halves (rng_normal_planes' layout back to torch's)."""
    if first.shape[0] != second.shape[0] or first.shape[0] % 8:
        raise ValueError("interleave_runs: halves of equal length, a multiple of 8")
    cdef Py_ssize_t runs = first.shape[0] // 8
    cdef cnp.ndarray out = _rng_out(16 * runs, cnp.NPY_FLOAT32)
    if runs:
        fnn_interleave_runs_f32(&first[0], &second[0], <float *>cnp.PyArray_DATA(out), runs)
    return out


def rng_double_normals(capsule, lock, Py_ssize_t n, double mean, double std, cache):
    """(values, cache): n normals drawn one at a time in double, starting with the kept value
    `cache` (None for none), and the value kept for the next call (TorchStream.double_normals)."""
    cdef cnp.ndarray out = _rng_out(n, cnp.NPY_FLOAT64)
    cdef bitgen_t *g = _bitgen(capsule)
    cdef int has_cache = cache is not None
    cdef double kept = cache if has_cache else 0.0
    with lock:
        fnn_rng_double_normals(g, <double *>cnp.PyArray_DATA(out), n, mean, std, &has_cache,
                               &kept)
    return out, (kept if has_cache else None)


def rng_log_normals(capsule, lock, Py_ssize_t n, double mean, double std, cache):
    """(values, cache): rng_double_normals, exponentiated (tensor.log_normal_)."""
    cdef cnp.ndarray out = _rng_out(n, cnp.NPY_FLOAT64)
    cdef bitgen_t *g = _bitgen(capsule)
    cdef int has_cache = cache is not None
    cdef double kept = cache if has_cache else 0.0
    with lock:
        fnn_rng_log_normals(g, <double *>cnp.PyArray_DATA(out), n, mean, std, &has_cache,
                            &kept)
    return out, (kept if has_cache else None)


def rng_exponential(capsule, lock, Py_ssize_t n, double lambd):
    """n exponential doubles of rate lambd (tensor.exponential_)."""
    cdef cnp.ndarray out = _rng_out(n, cnp.NPY_FLOAT64)
    cdef bitgen_t *g = _bitgen(capsule)
    with lock:
        fnn_rng_exponential(g, <double *>cnp.PyArray_DATA(out), n, lambd)
    return out


def rng_poisson(capsule, lock, cnp.ndarray rates):
    """A torch.poisson count per rate: rates a contiguous 1-D float64 array."""
    if (rates.ndim != 1 or cnp.PyArray_TYPE(rates) != cnp.NPY_FLOAT64
            or not cnp.PyArray_IS_C_CONTIGUOUS(rates)):
        raise ValueError("rng_poisson: rates must be a contiguous 1-D float64 array")
    cdef Py_ssize_t n = rates.shape[0]
    cdef cnp.ndarray out = _rng_out(n, cnp.NPY_FLOAT64)
    cdef bitgen_t *g = _bitgen(capsule)
    with lock:
        fnn_rng_poisson(g, <const double *>cnp.PyArray_DATA(rates),
                        <double *>cnp.PyArray_DATA(out), n)
    return out


def rng_binomial(capsule, lock, cnp.ndarray counts, cnp.ndarray probs):
    """A torch.binomial draw per (count, prob): contiguous 1-D arrays of one dtype, float32 or
    float64, of one length."""
    cdef int kind = cnp.PyArray_TYPE(counts)
    if (counts.ndim != 1 or probs.ndim != 1 or counts.shape[0] != probs.shape[0]
            or cnp.PyArray_TYPE(probs) != kind
            or (kind != cnp.NPY_FLOAT32 and kind != cnp.NPY_FLOAT64)
            or not cnp.PyArray_IS_C_CONTIGUOUS(counts)
            or not cnp.PyArray_IS_C_CONTIGUOUS(probs)):
        raise ValueError("rng_binomial: counts and probs must be contiguous 1-D float32 or "
                         "float64 arrays of one dtype and length")
    cdef Py_ssize_t n = counts.shape[0]
    cdef bint double = kind == cnp.NPY_FLOAT64
    cdef cnp.ndarray out = _rng_out(n, cnp.NPY_FLOAT64 if double else cnp.NPY_FLOAT32)
    cdef bitgen_t *g = _bitgen(capsule)
    with lock:
        if double:
            fnn_rng_binomial_f64(g, <const double *>cnp.PyArray_DATA(counts),
                                 <const double *>cnp.PyArray_DATA(probs),
                                 <double *>cnp.PyArray_DATA(out), n)
        else:
            fnn_rng_binomial_f32(g, <const float *>cnp.PyArray_DATA(counts),
                                 <const float *>cnp.PyArray_DATA(probs),
                                 <float *>cnp.PyArray_DATA(out), n)
    return out


def rng_gamma(capsule, lock, cnp.ndarray alphas, cache):
    """torch._standard_gamma per alpha (a contiguous 1-D float32 or float64 array); cache is the
    kept normal (None or a float): returns (draws, the kept normal after)."""
    cdef int kind = cnp.PyArray_TYPE(alphas)
    if (alphas.ndim != 1 or (kind != cnp.NPY_FLOAT32 and kind != cnp.NPY_FLOAT64)
            or not cnp.PyArray_IS_C_CONTIGUOUS(alphas)):
        raise ValueError("rng_gamma: alphas must be a contiguous 1-D float32 or float64 array")
    cdef Py_ssize_t n = alphas.shape[0]
    cdef cnp.ndarray out = _rng_out(n, kind)
    cdef bitgen_t *g = _bitgen(capsule)
    cdef int has_cache = cache is not None
    cdef double kept = cache if has_cache else 0.0
    with lock:
        if kind == cnp.NPY_FLOAT64:
            fnn_rng_gamma_f64(g, <const double *>cnp.PyArray_DATA(alphas),
                              <double *>cnp.PyArray_DATA(out), n, &has_cache, &kept)
        else:
            fnn_rng_gamma_f32(g, <const float *>cnp.PyArray_DATA(alphas),
                              <float *>cnp.PyArray_DATA(out), n, &has_cache, &kept)
    return out, (kept if has_cache else None)


def rng_cauchy(capsule, lock, Py_ssize_t n, double median, double sigma):
    """n Cauchy doubles (tensor.cauchy_)."""
    cdef cnp.ndarray out = _rng_out(n, cnp.NPY_FLOAT64)
    cdef bitgen_t *g = _bitgen(capsule)
    with lock:
        fnn_rng_cauchy(g, <double *>cnp.PyArray_DATA(out), n, median, sigma)
    return out


def rng_bernoulli(capsule, lock, Py_ssize_t n, uint64_t threshold):
    """n booleans, each a 53-bit draw below threshold (TorchStream.bernoulli_values)."""
    cdef cnp.ndarray out = _rng_out(n, cnp.NPY_BOOL)
    cdef bitgen_t *g = _bitgen(capsule)
    with lock:
        fnn_rng_bernoulli(g, <uint8_t *>cnp.PyArray_DATA(out), n, threshold)
    return out


def rng_integers(capsule, lock, Py_ssize_t n, uint64_t span, bint wide, int64_t low):
    """n int64 values draw % span + low, 64-bit draws if wide (TorchStream.randint_values)."""
    if span == 0:
        raise ValueError("rng_integers: span must be positive")
    cdef cnp.ndarray out = _rng_out(n, cnp.NPY_INT64)
    cdef bitgen_t *g = _bitgen(capsule)
    with lock:
        fnn_rng_integers(g, <int64_t *>cnp.PyArray_DATA(out), n, span, wide, low)
    return out


def rng_randperm(capsule, lock, Py_ssize_t n):
    """torch.randperm(n)'s values (TorchStream.randperm_values)."""
    cdef cnp.ndarray out = _rng_out(n, cnp.NPY_INT64)
    cdef bitgen_t *g = _bitgen(capsule)
    with lock:
        fnn_rng_randperm(g, <int64_t *>cnp.PyArray_DATA(out), n)
    return out


def rng_state_matches(capsule, const uint32_t[::1] key, int pos):
    """Whether the capsule's generator state is NumPy's MT19937 layout holding this key and
    pos (fastnn/torch_stream.py checks this before rng_set_direct)."""
    if key.shape[0] != 624:
        raise ValueError(f"an MT19937 key has 624 words, got {key.shape[0]}")
    return bool(fnn_rng_state_matches(_bitgen(capsule), &key[0], pos))


def rng_set_direct(bint on):
    """Let the recipes read and advance NumPy's MT19937 state in bulk (on), or draw through
    bitgen_t's next_uint32 one call at a time (off)."""
    fnn_rng_set_direct(on)
