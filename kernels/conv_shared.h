/* What the two convolution drivers (conv.c: im2col + GEMM; conv_implicit.c: implicit GEMM)
 * share: the row loops of their epilogues and ReLU masks, and how the weight gradient is
 * split into partial sums. */
#ifndef FASTNN_CONV_SHARED_H
#define FASTNN_CONV_SHARED_H
#include "fastnn_kernels.h"
#include "gemm_grid.h"
#include <stddef.h>
#include <string.h>
#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

/* The calling thread's buffers of floats[i] floats each (i < count), each starting 64-byte
 * aligned, carved from its persistent convolution scratch (fnn_thread_scratch, gemm_grid.h; the
 * GEMM's packing has its own slot). Fresh buffers on every call cost page faults: ~9% of the
 * 5x5 layer's step at one thread (issue 12). A set larger than FNN_CONV_SCRATCH_MAX floats is
 * allocated for this call only, so one huge layer does not pin its buffers for the thread's
 * life: the function then returns that block, which the caller frees (free(NULL) otherwise).
 * *ok is 0 (and the pointers NULL) when the memory cannot be had. One set per thread at a
 * time: a driver takes them once per call. */
#define FNN_CONV_SCRATCH_MAX ((size_t)8 << 20) /* 32 MiB */
static inline float *fnn_thread_buffers(float **out, const size_t *floats, int count, int *ok)
{
    size_t total = 0;
    for (int i = 0; i < count; ++i) total += (floats[i] + 15) / 16 * 16;
    if (total == 0) total = 16;
    float *owned = total > FNN_CONV_SCRATCH_MAX ? fnn_aligned_malloc(64, total * sizeof(float))
                                                : NULL;
    float *base = total > FNN_CONV_SCRATCH_MAX ? owned
                                               : fnn_thread_scratch(FNN_SCRATCH_CONV, total);
    for (int i = 0; i < count; ++i) {
        out[i] = base;
        if (base) base += (floats[i] + 15) / 16 * 16;
    }
    *ok = base != NULL;
    return owned;
}

/* A failed allocation or GEMM in any thread makes the whole call fail (FNN_ENOMEM). */
#define FNN_CONV_FAIL(status) __atomic_store_n(&(status), FNN_ENOMEM, __ATOMIC_RELAXED)

/* dst = src where out > 0, else 0: the fused ReLU's mask. src is loaded unconditionally so the
 * compiler may turn the select into vector and/blend: written as `out > 0 ? src : 0` it kept a
 * branch (it may not speculate the load), and on ReLU outputs, positive about half the time,
 * the mispredictions made the backward of the first conv 5x slower (19 ms vs 3 ms). */
static inline void fnn_relu_mask(const float *restrict out, const float *restrict src,
                                 float *restrict dst, ptrdiff_t n)
{
#pragma omp simd
    for (ptrdiff_t p = 0; p < n; ++p) {
        const float v = src[p];
        dst[p] = out[p] > 0.0f ? v : 0.0f;
    }
}

/* The sum of x[0:n] in 16 interleaved partial sums, added in a fixed order: the bias gradient
 * of one channel of one image. The plain loop was one chain of dependent adds (4 cycles each),
 * 9% of the 3x3 layer's weight gradient (issue 12); the lanes vectorise. */
static inline float fnn_sum_plane(const float *x, ptrdiff_t n)
{
    float lanes[16] = {0.0f};
    ptrdiff_t p = 0;
    for (; p + 16 <= n; p += 16)
#pragma omp simd
        for (int l = 0; l < 16; ++l) lanes[l] += x[p + l];
    for (int l = 0; p < n; ++p, ++l) lanes[l] += x[p];
    for (int width = 8; width >= 1; width /= 2)
        for (int l = 0; l < width; ++l) lanes[l] += lanes[l + width];
    return lanes[0];
}

/* One image's output gradient for a weight gradient: gy (oc planes of P) masked by the fused
 * ReLU's output y into dst when y is given, else gy itself (no copy); each channel's sum is
 * added to gb (double) when given. */
/* The same, always copied into dst with channel o at dst + o * ldd (several images' gradients
 * side by side: the implicit weight gradient's groups). */
static inline void fnn_masked_grad_into(const float *gy, const float *y, float *dst, ptrdiff_t ldd,
                                        ptrdiff_t oc, ptrdiff_t P, double *gb)
{
    for (ptrdiff_t o = 0; o < oc; ++o) {
        float *d = dst + o * ldd;
        if (y)
            fnn_relu_mask(y + o * P, gy + o * P, d, P);
        else
            memcpy(d, gy + o * P, (size_t)P * sizeof(float));
        if (gb) gb[o] += fnn_sum_plane(d, P);
    }
}

static inline const float *fnn_masked_grad(const float *gy, const float *y, float *dst,
                                           ptrdiff_t oc, ptrdiff_t P, double *gb)
{
    if (y) {
        fnn_masked_grad_into(gy, y, dst, P, oc, P, gb);
        return dst;
    }
    for (ptrdiff_t o = 0; gb && o < oc; ++o) gb[o] += fnn_sum_plane(gy + o * P, P);
    return gy;
}

/* gb[o] = the `parts` runs' partial sums (double, parts x oc) added in run order: the bias
 * gradient of the convolution drivers, the same bits on any thread count. */
static inline void fnn_bias_from_parts(const double *partial, ptrdiff_t parts, ptrdiff_t oc,
                                       float *gb)
{
    for (ptrdiff_t o = 0; o < oc; ++o) {
        double sum = 0.0;
        for (ptrdiff_t part = 0; part < parts; ++part) sum += partial[part * oc + o];
        gb[o] = (float)sum;
    }
}

/* dst = src + b, then ReLU if relu (NaN kept): the forward epilogue, as a vector loop. */
static inline void fnn_bias_relu(const float *restrict src, float *restrict dst, ptrdiff_t n,
                                 float b, int relu)
{
    if (relu) {
#pragma omp simd
        for (ptrdiff_t p = 0; p < n; ++p) {
            const float v = src[p] + b;
            dst[p] = v <= 0.0f ? 0.0f : v;
        }
    } else {
#pragma omp simd
        for (ptrdiff_t p = 0; p < n; ++p) dst[p] = src[p] + b;
    }
}

/* v + b, then ReLU if relu (NaN kept). */
static inline float fnn_bias_relu1(float v, float b, int relu)
{
    v += b;
    return relu && v <= 0.0f ? 0.0f : v;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/* The values at even positions of the 32 floats from p, positions 0-15 loaded under mask
 * first, 16-31 under second (masked-off positions are not read): a stride-2 row in two loads
 * and a permute. Max pooling's stride-2 windows and the phase split use it. */
__attribute__((target("avx512f"))) static inline __m512 fnn_even_positions(const float *p,
                                                                          __mmask16 first,
                                                                          __mmask16 second)
{
    const __m512i evens = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4,
                                           2, 0);
    return _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(first, p), evens,
                                  _mm512_maskz_loadu_ps(second, p + 16));
}

/* fnn_planes_from_pixels' blocks of 16 channels x 16 pixels on AVX-512 (the rest of its range
 * is left to the caller): 16 rows of 16 floats transposed in registers (fnn_transpose16x16),
 * so each store fills 64 bytes of a plane. The 4 x 4 SSE blocks
 * stored 16 bytes at a time to 4 planes and were 15% of the (64,64,14,14) -> 128 1x1 step at
 * 2 threads (issue 12). Returns the channels done (a multiple of 16). */
__attribute__((target("avx512f"))) static ptrdiff_t
fnn_planes_from_pixels16(const float *out, ptrdiff_t ldo, ptrdiff_t oc, ptrdiff_t ow,
                         ptrdiff_t plane, const float *bias, int relu, float *y)
{
    const __m512 zero = _mm512_setzero_ps();
    ptrdiff_t o = 0;
    for (; o + 16 <= oc; o += 16) {
        const __m512 b = bias ? _mm512_loadu_ps(bias + o) : zero;
        for (ptrdiff_t ox = 0; ox + 16 <= ow; ox += 16) {
            __m512 r[16];
            for (int i = 0; i < 16; ++i) {
                r[i] = _mm512_add_ps(_mm512_loadu_ps(out + (ox + i) * ldo + o), b);
                if (relu) /* v <= 0 -> 0, NaN kept */
                    r[i] = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(r[i], zero, _CMP_NLE_UQ), r[i]);
            }
            fnn_transpose16x16(r);
            for (int i = 0; i < 16; ++i) _mm512_storeu_ps(y + (o + i) * plane + ox, r[i]);
        }
        for (ptrdiff_t ox = ow / 16 * 16; ox < ow; ++ox)
            for (ptrdiff_t i = o; i < o + 16; ++i)
                y[i * plane + ox] = fnn_bias_relu1(out[ox * ldo + i], bias ? bias[i] : 0.0f, relu);
    }
    return o;
}
#endif

/* y (oc planes of `plane` floats) from out (ow pixels as rows, row stride ldo): every
 * channel's pixels moved to its plane in blocks transposed in registers (16 x 16 on AVX-512,
 * else 4 x 4 in SSE), with the bias and ReLU on the way. Element by element, the strided reads
 * of this transpose had taken a fifth of the 3x3 forward (issue 12). */
static inline void fnn_planes_from_pixels(const float *out, ptrdiff_t ldo, ptrdiff_t oc, ptrdiff_t ow,
                             ptrdiff_t plane, const float *bias, int relu, float *y)
{
    ptrdiff_t o = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    if (fnn_isa_active() == FNN_ISA_AVX512 && ow >= 16)
        o = fnn_planes_from_pixels16(out, ldo, oc, ow, plane, bias, relu, y);
#endif
#if defined(__SSE2__)
    const __m128 zero = _mm_setzero_ps();
    for (; o + 4 <= oc; o += 4) {
        const __m128 b = bias ? _mm_loadu_ps(bias + o) : zero;
        ptrdiff_t ox = 0;
        for (; ox + 4 <= ow; ox += 4) {
            const float *s = out + ox * ldo + o;
            __m128 r0 = _mm_add_ps(_mm_loadu_ps(s), b);
            __m128 r1 = _mm_add_ps(_mm_loadu_ps(s + ldo), b);
            __m128 r2 = _mm_add_ps(_mm_loadu_ps(s + 2 * ldo), b);
            __m128 r3 = _mm_add_ps(_mm_loadu_ps(s + 3 * ldo), b);
            if (relu) { /* v <= 0 -> 0, NaN kept: and-not with the mask of v <= 0 */
                r0 = _mm_andnot_ps(_mm_cmple_ps(r0, zero), r0);
                r1 = _mm_andnot_ps(_mm_cmple_ps(r1, zero), r1);
                r2 = _mm_andnot_ps(_mm_cmple_ps(r2, zero), r2);
                r3 = _mm_andnot_ps(_mm_cmple_ps(r3, zero), r3);
            }
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
            _mm_storeu_ps(y + o * plane + ox, r0);
            _mm_storeu_ps(y + (o + 1) * plane + ox, r1);
            _mm_storeu_ps(y + (o + 2) * plane + ox, r2);
            _mm_storeu_ps(y + (o + 3) * plane + ox, r3);
        }
        for (; ox < ow; ++ox)
            for (ptrdiff_t i = o; i < o + 4; ++i)
                y[i * plane + ox] = fnn_bias_relu1(out[ox * ldo + i], bias ? bias[i] : 0.0f, relu);
    }
#endif
    for (; o < oc; ++o)
        for (ptrdiff_t ox = 0; ox < ow; ++ox)
            y[o * plane + ox] = fnn_bias_relu1(out[ox * ldo + o], bias ? bias[o] : 0.0f, relu);
}

/* c planes of h x w (src) into the interior of c planes of hp x wp (dst) at row ph, column
 * pw; where mask is given, the values whose mask (the fused ReLU's output) is not positive are
 * zeroed. The caller zeroed dst's border once, when it allocated it; it is never written. */
static inline void fnn_pad_planes(const float *src, const float *mask, ptrdiff_t c, ptrdiff_t h,
                                  ptrdiff_t w, float *dst, ptrdiff_t hp, ptrdiff_t wp,
                                  ptrdiff_t ph, ptrdiff_t pw)
{
    for (ptrdiff_t ch = 0; ch < c; ++ch)
        for (ptrdiff_t y = 0; y < h; ++y) {
            const float *s = src + (ch * h + y) * w;
            float *d = dst + (ch * hp + y + ph) * wp + pw;
            if (mask) {
                fnn_relu_mask(mask + (ch * h + y) * w, s, d, w);
            } else { /* rows are short (14 floats): a memcpy call cost more than the copy */
#pragma omp simd
                for (ptrdiff_t x = 0; x < w; ++x) d[x] = s[x];
            }
        }
}

/* Whether x[0:n] holds no inf or NaN (all exponent bits set), as integer tests that vectorise. */
static inline int fnn_all_finite(const float *x, ptrdiff_t n)
{
    const unsigned *bits = (const unsigned *)(const void *)x;
    unsigned bad = 0;
#pragma omp simd reduction(| : bad)
    for (ptrdiff_t i = 0; i < n; ++i) bad |= (bits[i] & 0x7f800000u) == 0x7f800000u;
    return !bad;
}

/* How many partial sums the weight gradient is split into over `units` (images or blocks of
 * them), each over a fixed run of units and added in order: the runs depend on the shapes
 * only, so the gradient has the same bits on any thread count (and when the busy-core check
 * drops to one thread mid-run: issue 12). Up to 8, fewer (but 2, for two threads) when the
 * partials of `floats` each would pass 4 Mi floats: DCGAN's 4x4 layer from 256 channels to
 * 512 has 2 Mi weights, and its 8 partials (64 MiB, zeroed, summed, and read and written by
 * every block) made the weight gradient 2.5x torch's at 2 threads. */
#define FNN_CONV_PARTS_FLOATS ((ptrdiff_t)1 << 22)
static inline ptrdiff_t fnn_conv_parts(ptrdiff_t units, ptrdiff_t floats)
{
    ptrdiff_t parts = units < 8 ? units : 8;
    ptrdiff_t fit = FNN_CONV_PARTS_FLOATS / (floats > 0 ? floats : 1);
    if (fit < 2) fit = 2;
    if (parts > fit) parts = fit;
    return parts > 0 ? parts : 1;
}

#endif
