/* The streaming loops of ReLU forward/backward and the Linear+ReLU bias epilogue, compiled once
 * per instruction set by isa_variants.h (no include guard: it is included three times). */
FNN_TARGET static void FNN_VARIANT(relu_forward_range)(const float *x, float *y, ptrdiff_t n)
{
#pragma omp simd
    for (ptrdiff_t i = 0; i < n; ++i) y[i] = x[i] <= 0.0f ? 0.0f : x[i]; /* NaN stays NaN */
}

FNN_TARGET static void FNN_VARIANT(relu_backward_range)(const float *x, const float *gy, float *gx, ptrdiff_t n)
{
#pragma omp simd
    for (ptrdiff_t i = 0; i < n; ++i) {
        const float g = gy[i]; /* loaded unconditionally: a select, not a branch (see conv.c) */
        gx[i] = x[i] > 0.0f ? g : 0.0f;
    }
}

FNN_TARGET static void FNN_VARIANT(relu_bias_cols)(const float *y, const float *gy, float *gz, float *bias_grad,
                           ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t j0, ptrdiff_t j1)
{
    if (bias_grad)
        for (ptrdiff_t j = j0; j < j1; ++j) bias_grad[j] = 0.0f;
    for (ptrdiff_t i = 0; i < rows; ++i) {
        const float *yi = y + i * cols, *gi = gy + i * cols;
        float *zi = gz + i * cols;
        if (bias_grad) {
#pragma omp simd
            for (ptrdiff_t j = j0; j < j1; ++j) {
                const float g = gi[j];
                const float v = yi[j] > 0.0f ? g : 0.0f;
                zi[j] = v;
                bias_grad[j] += v;
            }
        } else {
#pragma omp simd
            for (ptrdiff_t j = j0; j < j1; ++j) {
                const float g = gi[j];
                zi[j] = yi[j] > 0.0f ? g : 0.0f;
            }
        }
    }
}
