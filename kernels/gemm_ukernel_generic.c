/* Portable 4 x 16 micro-kernel in plain C: the fallback for CPUs without AVX2+FMA. The fixed
 * trip counts let the compiler keep the tile in registers and vectorise the j loop with the
 * baseline x86-64 SSE2 (or whatever the target's baseline is). */
#include "gemm_config.h"

void fnn_ukernel_generic(ptrdiff_t kc, const float *a, const float *b,
                         float *c, ptrdiff_t ldc, int accumulate)
{
    float acc[FNN_MR_GENERIC][FNN_NR_GENERIC] = {{0.0f}};
    for (ptrdiff_t k = 0; k < kc; ++k) {
        for (int i = 0; i < FNN_MR_GENERIC; ++i) {
            const float ai = a[i];
            for (int j = 0; j < FNN_NR_GENERIC; ++j)
                acc[i][j] += ai * b[j];
        }
        a += FNN_MR_GENERIC;
        b += FNN_NR_GENERIC;
    }
    for (int i = 0; i < FNN_MR_GENERIC; ++i) {
        float *ci = c + i * ldc;
        for (int j = 0; j < FNN_NR_GENERIC; ++j)
            ci[j] = accumulate ? ci[j] + acc[i][j] : acc[i][j];
    }
}
