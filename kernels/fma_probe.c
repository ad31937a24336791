/* A register-only FMA throughput probe: the machine's floating-point peak, measured rather than
 * taken from a data sheet, so the benchmarks can report GEMM as a fraction of what this CPU
 * (at its current clock, in this VM) can do. Twelve independent accumulator chains cover the
 * FMA latency (4 cycles) times the number of FMA pipes (2) with room to spare; nothing touches
 * memory inside the loop. acc = acc * a + b with a just below 1 converges, so no value
 * overflows or turns denormal. */
#include "fastnn_kernels.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#define CHAINS 12

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f,fma"))) static double probe_avx512(long long iters)
{
    __m512 acc[CHAINS];
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-6f);
    for (int j = 0; j < CHAINS; ++j) acc[j] = _mm512_set1_ps((float)j);
    for (long long i = 0; i < iters; ++i)
        for (int j = 0; j < CHAINS; ++j) acc[j] = _mm512_fmadd_ps(acc[j], a, b);
    float out[16];
    __m512 s = acc[0];
    for (int j = 1; j < CHAINS; ++j) s = _mm512_add_ps(s, acc[j]);
    _mm512_storeu_ps(out, s);
    return out[0];
}

__attribute__((target("avx2,fma"))) static double probe_avx2(long long iters)
{
    __m256 acc[CHAINS];
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-6f);
    for (int j = 0; j < CHAINS; ++j) acc[j] = _mm256_set1_ps((float)j);
    for (long long i = 0; i < iters; ++i)
        for (int j = 0; j < CHAINS; ++j) acc[j] = _mm256_fmadd_ps(acc[j], a, b);
    float out[8];
    __m256 s = acc[0];
    for (int j = 1; j < CHAINS; ++j) s = _mm256_add_ps(s, acc[j]);
    _mm256_storeu_ps(out, s);
    return out[0];
}
#endif

/* Runs `iters` iterations on each of `threads` threads; returns the floating-point operations
 * done (2 per lane per FMA), or -1 if `isa` has no probe or is unsupported. */
double fnn_fma_probe(int isa, long long iters, int threads)
{
    if (!fnn_isa_supported(isa) || isa == FNN_ISA_GENERIC) return -1.0;
    int lanes = isa == FNN_ISA_AVX512 ? 16 : 8;
    volatile double sink = 0.0;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
        double r = 0.0;
#if defined(__x86_64__)
        r = isa == FNN_ISA_AVX512 ? probe_avx512(iters) : probe_avx2(iters);
#endif
#pragma omp atomic
        sink += r;
    }
    (void)sink;
    return 2.0 * lanes * CHAINS * (double)iters * threads;
}
