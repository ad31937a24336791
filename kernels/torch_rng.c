/* torch's CPU random recipes on a NumPy bit generator; see torch_rng.h and
 * fastnn/torch_stream.py (the NumPy reference of each recipe, and where torch defines it).
 *
 * Everything here is sequential: torch's CPU generator is one Mersenne Twister stream, and
 * every recipe below consumes it in torch's order. The log/sin/cos are glibc's, as in torch's
 * scalar kernels (normal_distribution<double>, the double normal_fill), which is what makes
 * those values torch's to the bit. The extension is built without -mfma, so the compiler
 * cannot fuse a multiply and an add where torch does not; where torch does (every scaling by
 * a range or a mean and std), fma() says so. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "fastnn_kernels.h"
#include "torch_rng.h"

extern long long fnn_call_counts[FNN_K_COUNT];

#define FILL_RUN 16 /* torch's normal_fill_16 */
#define LOW24 ((1u << 24) - 1)
#define LOW53 ((UINT64_C(1) << 53) - 1)
#define PI 3.14159265358979323846
#define TWO_PI (2.0 * PI)

/* Every entry point counts itself once (tests prove the compiled recipes ran). */
static inline void counted(void) {
    __atomic_fetch_add(&fnn_call_counts[FNN_K_RNG], 1, __ATOMIC_RELAXED);
}

/* --- the Mersenne Twister, in bulk ----------------------------------------------------------
 * Through bitgen_t each draw is an indirect call into NumPy, 2.7 ns a draw (torch: about 1).
 * NumPy's MT19937 keeps its state as {uint32 key[624]; int pos} (numpy/random/src/mt19937/
 * mt19937.h). That header is not public, so the layout is checked against
 * bit_generator.state at import (fastnn/torch_stream.py, _direct_state_works) before
 * fnn_rng_set_direct turns on reading it here: 624 words regenerated at a time
 * (Matsumoto & Nishimura 1998) and tempered in a loop the compiler vectorises. */
#define MT_N 624
#define MT_M 397
typedef struct {
    uint32_t key[MT_N];
    int pos;
} numpy_mt19937_state;

static int direct_state = 0;

void fnn_rng_set_direct(int on) { direct_state = on; }

static inline uint32_t twist(uint32_t upper, uint32_t lower, uint32_t far) {
    uint32_t y = (upper & 0x80000000u) | (lower & 0x7fffffffu);
    return far ^ (y >> 1) ^ (-(y & 1u) & 0x9908b0dfu);
}

static void regenerate(uint32_t *mt) {
    int i;
    for (i = 0; i < MT_N - MT_M; i++) mt[i] = twist(mt[i], mt[i + 1], mt[i + MT_M]);
    for (; i < MT_N - 1; i++) mt[i] = twist(mt[i], mt[i + 1], mt[i + MT_M - MT_N]);
    mt[MT_N - 1] = twist(mt[MT_N - 1], mt[0], mt[MT_M - 1]);
}

static inline uint32_t temper(uint32_t y) {
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    return y ^ (y >> 18);
}

static void fill32(bitgen_t *g, uint32_t *out, int64_t n) {
    if (!direct_state) {
        for (int64_t i = 0; i < n; i++) out[i] = g->next_uint32(g->state);
        return;
    }
    numpy_mt19937_state *st = (numpy_mt19937_state *)g->state;
    while (n > 0) {
        if (st->pos >= MT_N) {
            regenerate(st->key);
            st->pos = 0;
        }
        int64_t k = MT_N - st->pos < n ? MT_N - st->pos : n;
        const uint32_t *key = st->key + st->pos;
        for (int64_t i = 0; i < k; i++) out[i] = temper(key[i]);
        st->pos += (int)k;
        out += k;
        n -= k;
    }
}

/* A recipe's draws, taken from the stream a chunk at a time. Each recipe says up front how
 * many it will use: the chunks never draw past that, so the stream is left exactly where
 * torch's would be. */
#define CHUNK 512
typedef struct {
    bitgen_t *g;
    int64_t left; /* draws not yet taken from the stream */
    int pos, len;
    uint32_t buf[CHUNK];
} draws_t;

static void draws_start(draws_t *d, bitgen_t *g, int64_t total) {
    d->g = g;
    d->left = total;
    d->pos = d->len = 0;
}

static inline uint32_t draw32(draws_t *d) {
    if (d->pos == d->len) {
        /* left is 0 only if a recipe undercounted: then draw one at a time, still in order */
        int k = d->left >= CHUNK ? CHUNK : d->left > 0 ? (int)d->left : 1;
        fill32(d->g, d->buf, k);
        d->left -= k;
        d->len = k;
        d->pos = 0;
    }
    return d->buf[d->pos++];
}

static inline uint64_t draw64(draws_t *d) {
    uint64_t high = draw32(d);
    return (high << 32) | draw32(d);
}

static inline float unit_f32(draws_t *d) { return (float)(draw32(d) & LOW24) * 0x1p-24f; }

static inline double unit_f64(draws_t *d) { return (double)(draw64(d) & LOW53) * 0x1p-53; }

/* --- the recipes ----------------------------------------------------------------------------- */
void fnn_rng_units_f32(bitgen_t *g, float *out, int64_t n) {
    draws_t d;
    counted();
    draws_start(&d, g, n);
    for (int64_t i = 0; i < n; i++) out[i] = unit_f32(&d);
}

void fnn_rng_units_f64(bitgen_t *g, double *out, int64_t n) {
    draws_t d;
    counted();
    draws_start(&d, g, 2 * n);
    for (int64_t i = 0; i < n; i++) out[i] = unit_f64(&d);
}

void fnn_rng_uniform_f32(bitgen_t *g, float *out, int64_t n, float low, float high) {
    draws_t d;
    counted();
    draws_start(&d, g, n);
    /* float x float is exact in double, so one double multiply-add and a rounding to float
     * is the fused multiply-add torch's vectorised kernel computes */
    double span = (double)(high - low);
    for (int64_t i = 0; i < n; i++) out[i] = (float)((double)unit_f32(&d) * span + (double)low);
}

void fnn_rng_uniform_f64(bitgen_t *g, double *out, int64_t n, double low, double high) {
    draws_t d;
    counted();
    draws_start(&d, g, 2 * n);
    double span = high - low;
    for (int64_t i = 0; i < n; i++) out[i] = fma(unit_f64(&d), span, low);
}

/* Box-Muller on one run of 16 uniforms: elements j and j + 8 are a pair, u1 = 1 - data[j]
 * (in (0, 1] for the log), u2 = data[j + 8] the angle. The float angle is computed in float,
 * as torch's vectorised fill does: in double, 14 points fewer of the values matched torch's. */
static void box_muller_f32(float *data) {
    for (int j = 0; j < FILL_RUN / 2; j++) {
        float radius = sqrtf(-2.0f * logf(1.0f - data[j]));
        float theta = (float)TWO_PI * data[j + FILL_RUN / 2];
        data[j] = radius * cosf(theta);
        data[j + FILL_RUN / 2] = radius * sinf(theta);
    }
}

static void box_muller_f64(double *data) {
    for (int j = 0; j < FILL_RUN / 2; j++) {
        double radius = sqrt(-2.0 * log(1.0 - data[j]));
        double theta = TWO_PI * data[j + FILL_RUN / 2];
        data[j] = radius * cos(theta);
        data[j + FILL_RUN / 2] = radius * sin(theta);
    }
}

void fnn_rng_normal_fill_f32(bitgen_t *g, float *out, int64_t n, float mean, float std) {
    int64_t whole = n - n % FILL_RUN;
    draws_t d;
    counted();
    draws_start(&d, g, n + (whole < n ? FILL_RUN : 0));
    for (int64_t i = 0; i < n; i++) out[i] = unit_f32(&d);
    for (int64_t i = 0; i < whole; i += FILL_RUN) box_muller_f32(out + i);
    if (whole < n) { /* torch redraws the last partial run as 16 new uniforms */
        float tail[FILL_RUN];
        for (int i = 0; i < FILL_RUN; i++) tail[i] = unit_f32(&d);
        box_muller_f32(tail);
        memcpy(out + n - FILL_RUN, tail, sizeof tail);
    }
    for (int64_t i = 0; i < n; i++) out[i] = (float)((double)out[i] * std + (double)mean);
}

void fnn_rng_normal_planes_f32(bitgen_t *g, float *u1, float *u2, int64_t runs, int64_t skip) {
    draws_t d;
    counted();
    draws_start(&d, g, runs * FILL_RUN + (runs > 0 ? skip : 0));
    for (int64_t r = 0; r < runs; r++) {
        if (r == runs - 1)
            for (int64_t k = 0; k < skip; k++) (void)draw32(&d);
        for (int j = 0; j < FILL_RUN / 2; j++) u1[r * 8 + j] = 1.0f - unit_f32(&d);
        for (int j = 0; j < FILL_RUN / 2; j++) u2[r * 8 + j] = unit_f32(&d);
    }
}

void fnn_interleave_runs_f32(const float *first, const float *second, float *out, int64_t runs) {
    for (int64_t r = 0; r < runs; r++) {
        memcpy(out + r * FILL_RUN, first + r * 8, 8 * sizeof(float));
        memcpy(out + r * FILL_RUN + 8, second + r * 8, 8 * sizeof(float));
    }
}

void fnn_rng_normal_fill_f64(bitgen_t *g, double *out, int64_t n, double mean, double std) {
    int64_t whole = n - n % FILL_RUN;
    draws_t d;
    counted();
    draws_start(&d, g, 2 * (n + (whole < n ? FILL_RUN : 0)));
    for (int64_t i = 0; i < n; i++) out[i] = unit_f64(&d);
    for (int64_t i = 0; i < whole; i += FILL_RUN) box_muller_f64(out + i);
    if (whole < n) {
        double tail[FILL_RUN];
        for (int i = 0; i < FILL_RUN; i++) tail[i] = unit_f64(&d);
        box_muller_f64(tail);
        memcpy(out + n - FILL_RUN, tail, sizeof tail);
    }
    for (int64_t i = 0; i < n; i++) out[i] = fma(out[i], std, mean);
}

/* One normal_distribution<double> value: the kept second value of the last Box-Muller pair if
 * there is one, else a new pair (u1 the angle, u2 the radius), its cosine now and its sine kept.
 * The double normal fills and the gamma sampler both draw through it. */
static double kept_normal(draws_t *d, int *has_cache, double *cache) {
    if (*has_cache) {
        *has_cache = 0;
        return *cache;
    }
    double u1 = unit_f64(d), u2 = unit_f64(d);
    double radius = sqrt(-2.0 * log1p(-u2));
    double theta = TWO_PI * u1;
    *cache = radius * sin(theta);
    *has_cache = 1;
    return radius * cos(theta);
}

void fnn_rng_double_normals(bitgen_t *g, double *out, int64_t n, double mean, double std,
                            int *has_cache, double *cache) {
    draws_t d;
    counted();
    int64_t fresh = n - (n > 0 && *has_cache); /* values that need a new pair's half */
    draws_start(&d, g, 4 * ((fresh + 1) / 2));  /* two doubles a pair */
    for (int64_t i = 0; i < n; i++) out[i] = fma(kept_normal(&d, has_cache, cache), std, mean);
}

void fnn_rng_log_normals(bitgen_t *g, double *out, int64_t n, double mean, double std,
                         int *has_cache, double *cache) {
    fnn_rng_double_normals(g, out, n, mean, std, has_cache, cache);
    for (int64_t i = 0; i < n; i++) out[i] = exp(out[i]);
}

void fnn_rng_exponential(bitgen_t *g, double *out, int64_t n, double lambda) {
    draws_t d;
    counted();
    draws_start(&d, g, 2 * n);
    double scale = -1.0 / lambda;
    for (int64_t i = 0; i < n; i++) out[i] = scale * log1p(-unit_f64(&d));
}

void fnn_rng_cauchy(bitgen_t *g, double *out, int64_t n, double median, double sigma) {
    draws_t d;
    counted();
    draws_start(&d, g, 2 * n);
    for (int64_t i = 0; i < n; i++) out[i] = fma(sigma, tan(PI * (unit_f64(&d) - 0.5)), median);
}

void fnn_rng_bernoulli(bitgen_t *g, uint8_t *out, int64_t n, uint64_t threshold) {
    draws_t d;
    counted();
    draws_start(&d, g, 2 * n);
    for (int64_t i = 0; i < n; i++) out[i] = (draw64(&d) & LOW53) < threshold;
}

void fnn_rng_integers(bitgen_t *g, int64_t *out, int64_t n, uint64_t span, int wide,
                      int64_t low) {
    draws_t d;
    counted();
    draws_start(&d, g, wide ? 2 * n : n);
    if (wide) {
        for (int64_t i = 0; i < n; i++) out[i] = (int64_t)(draw64(&d) % span) + low;
    } else {
        for (int64_t i = 0; i < n; i++) out[i] = (int64_t)(draw32(&d) % span) + low;
    }
}

void fnn_rng_randperm(bitgen_t *g, int64_t *out, int64_t n) {
    draws_t d;
    counted();
    draws_start(&d, g, n > 1 ? n - 1 : 0);
    for (int64_t i = 0; i < n; i++) out[i] = i;
    for (int64_t i = 0; i + 1 < n; i++) {
        int64_t j = i + (int64_t)(draw32(&d) % (uint64_t)(n - i));
        int64_t t = out[i];
        out[i] = out[j];
        out[j] = t;
    }
}

int fnn_rng_state_matches(bitgen_t *g, const uint32_t *key, int pos) {
    const numpy_mt19937_state *st = (const numpy_mt19937_state *)g->state;
    return memcmp(st->key, key, sizeof st->key) == 0 && st->pos == pos;
}

/* --- counts: torch.poisson and torch.binomial (fastnn/torch_counts.py is the reference) ------
 * Rejection samplers: each element takes uniform doubles one at a time until it accepts, so
 * the number of draws is not known up front; draws_start(.., 0) takes them from the stream
 * one by one, which leaves it exactly where torch's serial kernel leaves it. */
static double poisson_one(draws_t *d, double lam) {
    if (lam >= 10) { /* PTRS, Hoermann 1993 */
        double slam = sqrt(lam), loglam = log(lam);
        double b = 0.931 + 2.53 * slam;
        double a = -0.059 + 0.02483 * b;
        double invalpha = 1.1239 + 1.1328 / (b - 3.4);
        double vr = 0.9277 - 3.6224 / (b - 2);
        for (;;) {
            double u = unit_f64(d) - 0.5;
            double v = unit_f64(d);
            double us = 0.5 - fabs(u);
            int64_t k = (int64_t)floor((2 * a / us + b) * u + lam + 0.43);
            if (us >= 0.07 && v <= vr) return (double)k;
            if (k < 0 || (us < 0.013 && v > us)) continue;
            if ((log(v) + log(invalpha) - log(a / (us * us) + b)) <=
                (-lam + k * loglam - lgamma((double)k + 1)))
                return (double)k;
        }
    }
    if (lam == 0) return 0.0;
    double enlam = exp(-lam), prod = 1.0;
    int64_t x = 0;
    for (;;) {
        prod *= unit_f64(d);
        if (prod > enlam) x += 1;
        else return (double)x;
    }
}

void fnn_rng_poisson(bitgen_t *g, const double *rates, double *out, int64_t n) {
    draws_t d;
    counted();
    draws_start(&d, g, 0);
    for (int64_t i = 0; i < n; i++) out[i] = poisson_one(&d, rates[i]);
}

/* Stirling's series tail, as torch's stirling_approx_tail (always in double). */
static double stirling_tail(double k) {
    static const double table[] = {0.0810614667953272,  0.0413406959554092,
                                   0.0276779256849983,  0.02079067210376509,
                                   0.0166446911898211,  0.0138761288230707,
                                   0.0118967099458917,  0.0104112652619720,
                                   0.00925546218271273, 0.00833056343336287};
    if (k < 10) return table[(size_t)k];
    double kp1sq = (k + 1) * (k + 1);
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1);
}

/* torch's sample_binomial for one scalar type T: the expressions are torch's, so C's usual
 * conversions put each in T or in double exactly where the C++ template does. */
#define BINOMIAL_RECIPES(T, SUFFIX, LOG1P, SQRT, FLOOR)                                        \
    static T inversion_##SUFFIX(draws_t *d, T count, T prob) {                                 \
        double geom_sum = 0, logprob = LOG1P(-prob);                                            \
        T num_geom = 0;                                                                         \
        for (;;) {                                                                              \
            geom_sum += ceil(log(unit_f64(d)) / logprob);                                       \
            if (geom_sum > count) return num_geom;                                              \
            num_geom = num_geom + 1;                                                            \
        }                                                                                       \
    }                                                                                           \
    static T btrs_##SUFFIX(draws_t *d, T count, T prob) {                                      \
        const double stddev = SQRT(count * prob * (1 - prob));                                  \
        const double b = 1.15 + 2.53 * stddev;                                                  \
        const double a = -0.0873 + 0.0248 * b + 0.01 * prob;                                    \
        const double c = count * prob + 0.5;                                                    \
        const double v_r = 0.92 - 4.2 / b;                                                      \
        const double r = prob / (1 - prob);                                                     \
        const double alpha = (2.83 + 5.1 / b) * stddev;                                         \
        const double m = FLOOR((count + 1) * prob);                                             \
        for (;;) {                                                                              \
            double u = unit_f64(d) - 0.5;                                                       \
            double v = unit_f64(d);                                                             \
            double us = 0.5 - fabs(u);                                                          \
            T k = (T)floor((2 * a / us + b) * u + c);                                           \
            if (k < 0 || k > count) continue;                                                   \
            if (us >= 0.07 && v <= v_r) return k;                                               \
            v = log(v * alpha / (a / (us * us) + b));                                           \
            double upper = (m + 0.5) * log((m + 1) / (r * (count - m + 1))) +                   \
                           (count + 1) * log((count - m + 1) / (count - k + 1)) +               \
                           (k + 0.5) * log(r * (count - k + 1) / (k + 1)) + stirling_tail(m) +  \
                           stirling_tail(count - m) - stirling_tail(k) -                        \
                           stirling_tail(count - k);                                            \
            if (v <= upper) return k;                                                           \
        }                                                                                       \
    }                                                                                           \
    void fnn_rng_binomial_##SUFFIX(bitgen_t *g, const T *counts, const T *probs, T *out,       \
                                   int64_t n) {                                                 \
        draws_t d;                                                                              \
        counted();                                                                              \
        draws_start(&d, g, 0);                                                                  \
        for (int64_t i = 0; i < n; i++) {                                                       \
            T count = counts[i], prob = probs[i];                                               \
            if (count != count) { /* NaN: torch's inversion would loop forever; NaN instead */  \
                out[i] = (T)NAN;                                                                \
            } else if (count <= 0.0 || prob <= 0.0) {                                           \
                out[i] = 0;                                                                     \
            } else if (prob >= 1.0) {                                                           \
                out[i] = count;                                                                 \
            } else if (prob <= 0.5) {                                                           \
                out[i] = count * prob >= 10.0 ? btrs_##SUFFIX(&d, count, prob)                  \
                                              : inversion_##SUFFIX(&d, count, prob);            \
            } else if (prob > 0.5) {                                                            \
                T q = 1.0 - prob;                                                               \
                out[i] = count - (count * q >= 10.0 ? btrs_##SUFFIX(&d, count, q)               \
                                                    : inversion_##SUFFIX(&d, count, q));        \
            } else {                                                                            \
                out[i] = (T)NAN;                                                                \
            }                                                                                   \
        }                                                                                       \
    }

BINOMIAL_RECIPES(float, f32, log1pf, sqrtf, floorf)
BINOMIAL_RECIPES(double, f64, log1p, sqrt, floor)

/* --- torch._standard_gamma: Marsaglia & Tsang (2000) as Distributions.h sample_gamma writes it
 * (its constants are floats, 1.0f / 3.0f and 0.0331f, even for double alphas). The normals are
 * kept_normal's, one at a time. */
#define GAMMA_RECIPE(T, SUFFIX, TINY)                                                            \
    static T gamma_one_##SUFFIX(draws_t *d, T alpha, int *has_cache, double *cache) {          \
        double scale = 1.0f;                                                                    \
        if (alpha < 1.0f) {                                                                     \
            if (alpha == 0.f) return 0.f;                                                       \
            scale *= pow(1 - unit_f64(d), 1.0f / alpha);                                        \
            alpha += 1.0f;                                                                      \
        }                                                                                       \
        const double dd = alpha - 1.0f / 3.0f;                                                  \
        const double c = 1.0f / sqrt(9.0f * dd);                                                \
        for (;;) {                                                                              \
            double x, y;                                                                        \
            do {                                                                                \
                x = kept_normal(d, has_cache, cache);                                           \
                y = 1.0f + c * x;                                                               \
            } while (y <= 0);                                                                   \
            const double v = y * y * y;                                                         \
            const double u = 1 - unit_f64(d);                                                   \
            const double xx = x * x;                                                            \
            if (u < 1.0f - 0.0331f * xx * xx) return (T)(scale * dd * v);                       \
            if (log(u) < 0.5f * xx + dd * (1.0f - v + log(v))) return (T)(scale * dd * v);      \
        }                                                                                       \
    }                                                                                           \
    void fnn_rng_gamma_##SUFFIX(bitgen_t *g, const T *alphas, T *out, int64_t n,               \
                                int *has_cache, double *cache) {                                \
        draws_t d;                                                                              \
        counted();                                                                              \
        draws_start(&d, g, 0);                                                                  \
        for (int64_t i = 0; i < n; i++) {                                                       \
            T value = gamma_one_##SUFFIX(&d, alphas[i], has_cache, cache);                      \
            out[i] = value > TINY ? value : TINY; /* std::max(min(), sample) */                  \
        }                                                                                       \
    }

GAMMA_RECIPE(float, f32, FLT_MIN)
GAMMA_RECIPE(double, f64, DBL_MIN)
