/* The streaming loops of the optimizer updates (rules in optimizers.c), compiled once per
 * instruction set by isa_variants.h (no include guard: it is included three times). */
FNN_TARGET static void FNN_VARIANT(sgd_range)(float *p, const float *g, float *buf, ptrdiff_t n, float lr, float wd,
                      float momentum, float dampening, int nesterov, int first)
{
    if (!buf) {
#pragma omp simd
        for (ptrdiff_t i = 0; i < n; ++i) p[i] -= lr * (g[i] + wd * p[i]);
        return;
    }
#pragma omp simd
    for (ptrdiff_t i = 0; i < n; ++i) {
        const float d = g[i] + wd * p[i];
        const float b = first ? d : momentum * buf[i] + (1.0f - dampening) * d;
        buf[i] = b;
        p[i] -= lr * (nesterov ? d + momentum * b : b);
    }
}

FNN_TARGET static void FNN_VARIANT(adam_range)(float *p, const float *g, float *m, float *v, float *vmax, ptrdiff_t n,
                       float step_size, float inv_bc2_sqrt, float b1, float b2, float eps,
                       float l2, float decay)
{
#pragma omp simd
    for (ptrdiff_t i = 0; i < n; ++i) {
        const float gi = g[i] + l2 * p[i];
        const float mi = b1 * m[i] + (1.0f - b1) * gi;
        const float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        float second = vi;
        if (vmax) {
            second = vmax[i] > vi ? vmax[i] : vi;
            vmax[i] = second;
        }
        const float denom = sqrtf(second) * inv_bc2_sqrt + eps;
        p[i] = p[i] * decay - step_size * mi / denom;
    }
}

FNN_TARGET static void FNN_VARIANT(adagrad_range)(float *p, const float *g, float *sum, ptrdiff_t n, float clr,
                          float wd, float eps)
{
#pragma omp simd
    for (ptrdiff_t i = 0; i < n; ++i) {
        const float gi = g[i] + wd * p[i];
        const float si = sum[i] + gi * gi;
        sum[i] = si;
        p[i] -= clr * gi / (sqrtf(si) + eps);
    }
}

FNN_TARGET static void FNN_VARIANT(rmsprop_range)(float *p, const float *g, float *sq, float *ga, float *buf,
                          ptrdiff_t n, float lr, float alpha, float eps, float wd,
                          float momentum)
{
#pragma omp simd
    for (ptrdiff_t i = 0; i < n; ++i) {
        const float gi = g[i] + wd * p[i];
        const float si = alpha * sq[i] + (1.0f - alpha) * gi * gi;
        sq[i] = si;
        float var = si;
        if (ga) {
            const float ai = alpha * ga[i] + (1.0f - alpha) * gi;
            ga[i] = ai;
            var = si - ai * ai;
        }
        const float avg = sqrtf(var) + eps;
        if (buf) {
            const float bi = momentum * buf[i] + gi / avg;
            buf[i] = bi;
            p[i] -= lr * bi;
        } else {
            p[i] -= lr * gi / avg;
        }
    }
}

/* Adadelta: g += wd * p; sq = rho sq + (1 - rho) g^2; delta = sqrt(acc + eps) / sqrt(sq + eps)
 * * g; acc = rho acc + (1 - rho) delta^2; p -= lr * delta. */
FNN_TARGET static void FNN_VARIANT(adadelta_range)(float *p, const float *g, float *sq,
                                                     float *acc, ptrdiff_t n, float lr, float rho,
                                                     float eps, float wd)
{
#pragma omp simd
    for (ptrdiff_t i = 0; i < n; ++i) {
        const float gi = g[i] + wd * p[i];
        const float si = rho * sq[i] + (1.0f - rho) * gi * gi;
        sq[i] = si;
        const float delta = sqrtf(acc[i] + eps) / sqrtf(si + eps) * gi;
        acc[i] = rho * acc[i] + (1.0f - rho) * delta * delta;
        p[i] -= lr * delta;
    }
}

/* Adamax: g += wd * p; m = b1 m + (1 - b1) g; u = max(b2 u, |g| + eps); p -= clr * m / u. */
FNN_TARGET static void FNN_VARIANT(adamax_range)(float *p, const float *g, float *m, float *u,
                                                   ptrdiff_t n, float clr, float b1, float b2,
                                                   float eps, float wd)
{
#pragma omp simd
    for (ptrdiff_t i = 0; i < n; ++i) {
        const float gi = g[i] + wd * p[i];
        const float mi = b1 * m[i] + (1.0f - b1) * gi;
        const float scaled = b2 * u[i], fresh = fabsf(gi) + eps;
        const float ui = scaled > fresh ? scaled : fresh;
        m[i] = mi;
        u[i] = ui;
        p[i] -= clr * mi / ui;
    }
}

/* The step NAdam and RAdam share with Adam: decoupled decay, L2 decay, both moments. */
FNN_TARGET static inline void FNN_VARIANT(adam_moments)(float *p, const float *g, float *m,
                                                          float *v, ptrdiff_t i, float b1,
                                                          float b2, float wd, float decay,
                                                          float *pi, float *gi)
{
    *pi = p[i] * decay;
    *gi = g[i] + wd * *pi;
    m[i] = b1 * m[i] + (1.0f - b1) * *gi;
    v[i] = b2 * v[i] + (1.0f - b2) * *gi * *gi;
}

/* NAdam: p *= decay; g += wd * p; m, v as Adam; d = sqrt(v / bc2) + eps;
 * p -= grad_coef * g / d + avg_coef * m / d. */
FNN_TARGET static void FNN_VARIANT(nadam_range)(float *p, const float *g, float *m, float *v,
                                                  ptrdiff_t n, float grad_coef, float avg_coef,
                                                  float b1, float b2, float inv_bc2, float eps,
                                                  float wd, float decay)
{
#pragma omp simd
    for (ptrdiff_t i = 0; i < n; ++i) {
        float pi, gi;
        FNN_VARIANT(adam_moments)(p, g, m, v, i, b1, b2, wd, decay, &pi, &gi);
        const float mi = m[i], vi = v[i];
        const float d = sqrtf(vi * inv_bc2) + eps;
        p[i] = pi - grad_coef * gi / d - avg_coef * mi / d;
    }
}

/* RAdam: p *= decay; g += wd * p; m, v as Adam; p -= step_size * m, times
 * rect_scale / (sqrt(v) + eps) once the variance is rectified. */
FNN_TARGET static void FNN_VARIANT(radam_range)(float *p, const float *g, float *m, float *v,
                                                  ptrdiff_t n, float step_size, float rect_scale,
                                                  int rectified, float b1, float b2, float eps,
                                                  float wd, float decay)
{
#pragma omp simd
    for (ptrdiff_t i = 0; i < n; ++i) {
        float pi, gi;
        FNN_VARIANT(adam_moments)(p, g, m, v, i, b1, b2, wd, decay, &pi, &gi);
        const float mi = m[i], vi = v[i];
        const float scale = rectified ? rect_scale / (sqrtf(vi) + eps) : 1.0f;
        p[i] = pi - step_size * mi * scale;
    }
}
