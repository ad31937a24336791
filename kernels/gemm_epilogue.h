/* The GEMM epilogue's loop (bias, then ReLU, on one finished tile of C), compiled once per
 * instruction set by isa_variants.h (no include guard: it is included three times). gemm.c's
 * own code is built for the baseline, where this loop, with c and bias possibly aliasing, ran
 * element by element: 4% of an LSTM forward's samples, the bias of its 1120 x 800 input
 * projection (perf, Zen 4). The restrict-qualified variant is one vector add per 16 columns;
 * each element is still c + bias[j] then the max, so every variant gives the same bits. */
FNN_TARGET static void FNN_VARIANT(epilogue_tile)(float *restrict c, ptrdiff_t ldc, int rows,
                                                  int cols, const float *restrict bias, int relu)
{
    for (int i = 0; i < rows; ++i) {
        float *restrict ci = c + i * ldc;
        if (bias) {
#pragma omp simd
            for (int j = 0; j < cols; ++j) ci[j] += bias[j];
        }
        if (relu) {
#pragma omp simd
            for (int j = 0; j < cols; ++j) ci[j] = ci[j] <= 0.0f ? 0.0f : ci[j];
        }
    }
}
