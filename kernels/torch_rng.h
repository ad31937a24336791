/* torch's CPU random recipes on a NumPy bit generator (fastnn/torch_stream.py says which
 * recipe is torch's where). The generator is NumPy's MT19937, read through its public bitgen_t
 * interface (numpy/random/bitgen.h), so these draws and NumPy's own Generator methods advance
 * one stream. Callers hold the GIL and the generator's lock: the stream is sequential. */
#ifndef FASTNN_TORCH_RNG_H
#define FASTNN_TORCH_RNG_H

#include <stdint.h>
#include "numpy/random/bitgen.h"

/* Uniforms in [0, 1): 24 bits of a 32-bit draw for float, 53 bits of a 64-bit draw (two
 * 32-bit draws, the first high) for double. */
void fnn_rng_units_f32(bitgen_t *g, float *out, int64_t n);
void fnn_rng_units_f64(bitgen_t *g, double *out, int64_t n);
/* uniform_(low, high): unit * (high - low) + low rounded once (torch's kernel is a fused
 * multiply-add). */
void fnn_rng_uniform_f32(bitgen_t *g, float *out, int64_t n, float low, float high);
void fnn_rng_uniform_f64(bitgen_t *g, double *out, int64_t n, double low, double high);
/* normal_(mean, std) of n >= 16 contiguous elements: torch's normal_fill (Box-Muller on runs
 * of 16, a partial last run redrawn as 16 new uniforms over the tail). */
void fnn_rng_normal_fill_f32(bitgen_t *g, float *out, int64_t n, float mean, float std);
void fnn_rng_normal_fill_f64(bitgen_t *g, double *out, int64_t n, double mean, double std);
/* The uniforms of `runs` runs of 16 for a float normal fill, de-interleaved for vectorised
 * math: u1[8 r + j] = 1 - unit (j < 8, the run's first half), u2[8 r + j] = the second half's;
 * `skip` draws are thrown away before the last run (torch's partial run, redrawn). */
void fnn_rng_normal_planes_f32(bitgen_t *g, float *u1, float *u2, int64_t runs, int64_t skip);
/* out[16 r + j] = first[8 r + j], out[16 r + 8 + j] = second[8 r + j] for j < 8. */
void fnn_interleave_runs_f32(const float *first, const float *second, float *out, int64_t runs);
/* Normals one at a time in double (torch's normal_distribution<double>), the unused sine of
 * the last pair kept in *cache (*has_cache set) for the next call, and used first if set. */
void fnn_rng_double_normals(bitgen_t *g, double *out, int64_t n, double mean, double std,
                            int *has_cache, double *cache);
/* log_normal_: exp of fnn_rng_double_normals' values (torch's lognormal_distribution). */
void fnn_rng_log_normals(bitgen_t *g, double *out, int64_t n, double mean, double std,
                         int *has_cache, double *cache);
/* exponential_: -1/lambda log1p(-u), u a uniform double (torch's exponential_distribution;
 * torch's MKL path is off in its released builds, pytorch/pytorch#132395). */
void fnn_rng_exponential(bitgen_t *g, double *out, int64_t n, double lambda);
/* cauchy_: median + sigma tan(pi (u - 1/2)), u a uniform double. */
void fnn_rng_cauchy(bitgen_t *g, double *out, int64_t n, double median, double sigma);
/* torch.poisson and torch.binomial: rejection samplers, one element after another, uniform
 * doubles drawn one at a time (fastnn/torch_counts.py is the reference). */
void fnn_rng_poisson(bitgen_t *g, const double *rates, double *out, int64_t n);
void fnn_rng_binomial_f32(bitgen_t *g, const float *counts, const float *probs, float *out,
                          int64_t n);
void fnn_rng_binomial_f64(bitgen_t *g, const double *counts, const double *probs, double *out,
                          int64_t n);
/* torch._standard_gamma; the normals take and leave the generator's kept normal. */
void fnn_rng_gamma_f32(bitgen_t *g, const float *alphas, float *out, int64_t n, int *has_cache,
                       double *cache);
void fnn_rng_gamma_f64(bitgen_t *g, const double *alphas, double *out, int64_t n,
                       int *has_cache, double *cache);
/* out[i] = (unit double < p) as the integer compare bits53 < threshold = ceil(p 2^53). */
void fnn_rng_bernoulli(bitgen_t *g, uint8_t *out, int64_t n, uint64_t threshold);
/* out[i] = draw % span + low, with 64-bit draws if wide, else 32-bit ones; span > 0. */
void fnn_rng_integers(bitgen_t *g, int64_t *out, int64_t n, uint64_t span, int wide,
                      int64_t low);
/* torch.randperm(n): the identity, then position i swapped with i + draw32 % (n - i). */
void fnn_rng_randperm(bitgen_t *g, int64_t *out, int64_t n);

/* Whether g's state is laid out as NumPy's MT19937 {key[624], pos} with this key and pos;
 * fnn_rng_set_direct(1) then lets the recipes read and advance that state in bulk. */
int fnn_rng_state_matches(bitgen_t *g, const uint32_t *key, int pos);
void fnn_rng_set_direct(int on);

#endif
