/* The few-row product kernels (see gemm_small.c), one body compiled per instruction set: the
 * includer defines SMALL(name) (the variant's name), SMALL_TARGET (its target attribute),
 * VF (floats per vector: 16, 8 or 4) and MB (rows of A per register block), and SMALL_ROUND
 * for the bfloat16 variant. No include guard.
 *
 * GCC vector extensions rather than intrinsics: one body serves AVX-512, AVX2 and SSE2, and
 * `acc += a * b` contracts to an FMA (-std=gnu11 implies -ffp-contract=fast) where the target
 * has one. Unaligned access goes through an under-aligned vector type (vmovups). */

typedef float SMALL(vec) __attribute__((vector_size(VF * 4), aligned(4)));
#define VEC SMALL(vec)

static inline __attribute__((always_inline)) SMALL_TARGET VEC SMALL(load)(const float *p)
{
    return *(const VEC *)p;
}

/* The first `count` (< VF) floats at p, zeros above: a masked load where the instruction set
 * has one (masked-off lanes are not read, so this never touches memory past p + count). */
static inline __attribute__((always_inline)) SMALL_TARGET VEC SMALL(load_part)(const float *p,
                                                                              int count)
{
#if VF == 16 && defined(__x86_64__) && defined(__GNUC__)
    return (VEC)_mm512_maskz_loadu_ps((__mmask16)((1u << count) - 1u), p);
#elif VF == 8 && defined(__x86_64__) && defined(__GNUC__)
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return (VEC)_mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(count), lane));
#else
    float part[VF] = {0};
    for (int k = 0; k < count; ++k) part[k] = p[k];
    return *(const VEC *)part;
#endif
}

static inline __attribute__((always_inline)) SMALL_TARGET VEC SMALL(splat)(float x)
{
    return x - (VEC){0}; /* one broadcast; x - 0 is x exactly, -0 and NaN included */
}

#ifdef SMALL_ROUND
/* SMALL_ROUND: B's elements rounded to bfloat16 as they are loaded (VCVTNEPS2BF16, nearest
 * even, denormals to zero as VDPBF16PS takes them), A already rounded by the caller (it is
 * read once per block of columns), products accumulated in float32: autocast's few-row
 * products, the weights read in place as in the float32 kernels. */
static inline __attribute__((always_inline)) SMALL_TARGET VEC SMALL(round)(VEC x)
{
    const __m256i h = (__m256i)_mm512_cvtneps_pbh((__m512)x);
    return (VEC)_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16);
}

static inline __attribute__((always_inline)) SMALL_TARGET float SMALL(round1)(float x)
{
    VEC v = SMALL(splat)(x);
    return SMALL(round)(v)[0];
}
#define LOADED_B(v) SMALL(round)(v)
#define SCALAR_B(x) SMALL(round1)(x)
#else
#define LOADED_B(v) (v)
#define SCALAR_B(x) (x)
#endif

/* Lane sum by halving (log2 VF shuffles and adds, not VF - 1 dependent scalar adds). */
static inline __attribute__((always_inline)) SMALL_TARGET float SMALL(hsum)(VEC v)
{
    typedef float v4 __attribute__((vector_size(16)));
#if VF == 16
    typedef float v8 __attribute__((vector_size(32)));
    const v8 h8 = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
                  __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
    v4 h = __builtin_shufflevector(h8, h8, 0, 1, 2, 3) + __builtin_shufflevector(h8, h8, 4, 5, 6, 7);
#elif VF == 8
    v4 h = __builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7);
#else
    v4 h = v;
#endif
    h = h + __builtin_shufflevector(h, h, 2, 3, 0, 1);
    h = h + __builtin_shufflevector(h, h, 1, 0, 3, 2);
    return h[0];
}

/* c = (accumulate ? c : 0) + product, then + bias, then ReLU: the order of the blocked path's
 * epilogue (gemm.c), so the same flags mean the same arithmetic. */
static inline __attribute__((always_inline)) float SMALL(finish)(float c_old, float product,
                                                                 const float *bias, ptrdiff_t j,
                                                                 int relu, int accumulate)
{
    float v = accumulate ? c_old + product : product;
    if (bias) v += bias[j];
    return relu && v <= 0.0f ? 0.0f : v; /* NaN stays NaN, as in the blocked path */
}

/* Dot form, B = W^T with W row-major (element (k, n) at W[n * ldw + k]) and A's rows
 * contiguous: C[i, n] = <A[i, :], W[n, :]>, vectorised along K. `mb` rows of A and `nb` rows of
 * W are held in registers: each loaded vector of W feeds mb FMAs and each vector of A nb.
 * K's last K % VF terms go through the same accumulators, by masked loads. They had been added in scalar after the lane sum, one dependent FMA chain per
 * output: with K = 200 (an LSTM's recurrent product, 8 tail terms) that chain was most of the
 * time, 165 us for 16 x 200 @ 200 x 800 against 58 us in the axpy form (issue 12). */
static inline __attribute__((always_inline)) SMALL_TARGET void
SMALL(dot_block)(int mb, int nb, ptrdiff_t K, const float *A, ptrdiff_t rsa, const float *W,
                 ptrdiff_t ldw, float *C, ptrdiff_t ldc, ptrdiff_t n0, const float *bias,
                 int relu, int accumulate)
{
    VEC acc[MB][4];
    for (int i = 0; i < mb; ++i)
        for (int j = 0; j < nb; ++j) acc[i][j] = SMALL(splat)(0.0f);
    const ptrdiff_t kv = K / VF * VF;
    for (ptrdiff_t k = 0; k < kv; k += VF) {
        VEC w[4], a[MB];
        for (int j = 0; j < nb; ++j) w[j] = LOADED_B(SMALL(load)(W + j * ldw + k));
        for (int i = 0; i < mb; ++i) a[i] = SMALL(load)(A + i * rsa + k);
        for (int i = 0; i < mb; ++i)
            for (int j = 0; j < nb; ++j) acc[i][j] += a[i] * w[j];
    }
    if (kv < K) {
        const int rest = (int)(K - kv);
        VEC w[4], a[MB];
        for (int j = 0; j < nb; ++j) w[j] = LOADED_B(SMALL(load_part)(W + j * ldw + kv, rest));
        for (int i = 0; i < mb; ++i) a[i] = SMALL(load_part)(A + i * rsa + kv, rest);
        for (int i = 0; i < mb; ++i)
            for (int j = 0; j < nb; ++j) acc[i][j] += a[i] * w[j];
    }
    for (int i = 0; i < mb; ++i) {
        float *ci = C + i * ldc + n0;
        for (int j = 0; j < nb; ++j)
            ci[j] = SMALL(finish)(ci[j], SMALL(hsum)(acc[i][j]), bias, n0 + j, relu, accumulate);
    }
}

/* Columns [n_lo, n_hi) of C in the dot form, every row of A. */
static SMALL_TARGET void SMALL(dot_cols)(ptrdiff_t M, ptrdiff_t K, const float *A, ptrdiff_t rsa,
                                          const float *W, ptrdiff_t ldw, float *C, ptrdiff_t ldc,
                                          ptrdiff_t n_lo, ptrdiff_t n_hi, const float *bias,
                                          int relu, int accumulate)
{
    for (ptrdiff_t n = n_lo; n < n_hi; n += 4) {
        const int nb = n_hi - n < 4 ? (int)(n_hi - n) : 4;
        const float *w = W + n * ldw;
        for (ptrdiff_t i = 0; i < M; i += MB) {
            const int mb = M - i < MB ? (int)(M - i) : MB;
            /* Constant block sizes, so that acc[][] lives in registers. */
#define DOT(mb_, nb_)                                                                      \
    SMALL(dot_block)(mb_, nb_, K, A + i * rsa, rsa, w, ldw, C + i * ldc, ldc, n, bias, relu, \
                     accumulate)
#define DOT_NB(mb_)                                                                        \
    do {                                                                                   \
        if (nb == 4) DOT(mb_, 4);                                                          \
        else if (nb == 3) DOT(mb_, 3);                                                     \
        else if (nb == 2) DOT(mb_, 2);                                                     \
        else DOT(mb_, 1);                                                                  \
    } while (0)
            if (mb == 1) DOT_NB(1);
            else if (mb == 2) DOT_NB(2);
#if MB > 2
            else if (mb == 3) DOT_NB(3);
            else DOT_NB(4);
#endif
#undef DOT_NB
#undef DOT
        }
    }
}

/* Axpy form, B with contiguous rows (element (k, n) at B[k * rsb + n]) and any strides for A:
 * C[i, n:n+nv*VF] = sum_k A[i, k] * B[k, n:n+nv*VF], vectorised along N. Lanes below `skip`
 * are not stored: the last block of a row is moved back to end at N (it overlaps the block
 * before, which computed those columns with the same arithmetic) rather than reading past
 * the end of B's rows. */
static inline __attribute__((always_inline)) SMALL_TARGET void
SMALL(axpy_block)(int mb, int nv, ptrdiff_t K, const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                  const float *B, ptrdiff_t rsb, float *C, ptrdiff_t ldc, ptrdiff_t n0,
                  int skip, const float *bias, int relu, int accumulate)
{
    VEC acc[MB][4];
    for (int i = 0; i < mb; ++i)
        for (int v = 0; v < nv; ++v) acc[i][v] = SMALL(splat)(0.0f);
    for (ptrdiff_t k = 0; k < K; ++k) {
        VEC b[4];
        const float *bk = B + k * rsb + n0;
        for (int v = 0; v < nv; ++v) b[v] = LOADED_B(SMALL(load)(bk + v * VF));
        for (int i = 0; i < mb; ++i) {
            const VEC a = SMALL(splat)(A[i * rsa + k * csa]);
            for (int v = 0; v < nv; ++v) acc[i][v] += a * b[v];
        }
    }
    for (int i = 0; i < mb; ++i) {
        float *ci = C + i * ldc + n0;
        for (int v = 0; v < nv; ++v)
            for (int l = v == 0 ? skip : 0; l < VF; ++l)
                ci[v * VF + l] = SMALL(finish)(ci[v * VF + l], acc[i][v][l], bias, n0 + v * VF + l,
                                               relu, accumulate);
    }
}

/* Columns [n_lo, n_hi) of C in the axpy form (n_hi - n_lo >= VF), every row of A. */
static SMALL_TARGET void SMALL(axpy_cols)(ptrdiff_t M, ptrdiff_t K, const float *A, ptrdiff_t rsa,
                                           ptrdiff_t csa, const float *B, ptrdiff_t rsb, float *C,
                                           ptrdiff_t ldc, ptrdiff_t n_lo, ptrdiff_t n_hi,
                                           const float *bias, int relu, int accumulate)
{
    for (ptrdiff_t i = 0; i < M; i += MB) {
        const int mb = M - i < MB ? (int)(M - i) : MB;
        const float *a = A + i * rsa;
        float *c = C + i * ldc;
        ptrdiff_t n = n_lo;
#define AXPY(mb_, nv_, start_, skip_)                                                     \
    SMALL(axpy_block)(mb_, nv_, K, a, rsa, csa, B, rsb, c, ldc, start_, skip_, bias, relu,   \
                      accumulate)
#define AXPY_MB(nv_, start_, skip_)                                                        \
    do {                                                                                   \
        if (mb == 1) AXPY(1, nv_, start_, skip_);                                          \
        else if (mb == 2) AXPY(2, nv_, start_, skip_);                                     \
        else AXPY_WIDE(nv_, start_, skip_);                                                \
    } while (0)
#if MB > 2
#define AXPY_WIDE(nv_, start_, skip_)                                                      \
    do {                                                                                   \
        if (mb == 3) AXPY(3, nv_, start_, skip_);                                          \
        else AXPY(4, nv_, start_, skip_);                                                  \
    } while (0)
#else
#define AXPY_WIDE(nv_, start_, skip_) AXPY(2, nv_, start_, skip_)
#endif
        for (; n + 4 * VF <= n_hi; n += 4 * VF) AXPY_MB(4, n, 0);
        for (; n < n_hi; n += VF) {
            const ptrdiff_t start = n + VF <= n_hi ? n : n_hi - VF;
            AXPY_MB(1, start, (int)(n - start));
        }
#undef AXPY_MB
#undef AXPY_WIDE
#undef AXPY
    }
}

#undef VEC
#undef LOADED_B
#undef SCALAR_B
