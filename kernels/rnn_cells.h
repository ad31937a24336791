/* The LSTM and GRU cells' pointwise passes (kernels/rnn.c), compiled once per instruction set by
 * isa_variants.h (no include guard: it is included three times).
 *
 * exp, tanh and sigmoid are computed here, not by libm, so that the loops vectorise.
 * e^y: y = n ln2 + r, |r| <= ln2/2, a degree-6 polynomial in r (weighted least squares on
 * Chebyshev nodes), 2^n put into the exponent bits; the callers keep y in [-87, 88], where
 * 2^n is a normal number. tanh: an odd polynomial below |x| = 0.625 (x + x^3 P(x^2), P of
 * degree 4 fitted the same way; under 0.8 ulp there), and 1 - 2 / (e^{2|x|} + 1) above it,
 * where the subtraction cancels at most one bit (tanh(0.625) = 0.55); |x| is clamped at 10,
 * where float32 tanh is 1 (at 9 it is still 1 - 2^-24). Against float64 tanh over 3M points
 * of [0.625, 10]: at most 1.33 ulp. sigmoid(x) = 1 / (1 + e^-x), with -x clamped to
 * [-87, 88] (beyond, float32 sigmoid is 1, or below 1e-38): one exp and one division where
 * the reference's tanh(x/2)/2 + 1/2 took the whole tanh (five activations a cell made the
 * pass compute-bound). tests/test_lstm_kernel.py checks tanh to 2 ulp and sigmoid to 1.2e-7
 * on every instruction set. NaN comes out NaN, +-inf as +-1 (tanh) or 1 and 0, -0 as -0. */

FNN_TARGET static inline __attribute__((always_inline)) float FNN_VARIANT(exp_lane)(float y)
{
    const float n = __builtin_rintf(y * 1.44269504088896341f);
    const float r = (y - n * 0.693145751953125f) - n * 1.428606765330187e-06f;
    float q = 0.00137514f;
    q = q * r + 0.00836892f;
    q = q * r + 0.04166953f;
    q = q * r + 0.16666518f;
    q = q * r + 0.49999988f;
    const float poly = 1.0f + r + r * r * q;
    const int32_t bits = ((int32_t)n + 127) << 23; /* 2^n, n in [-126, 127] */
    float scale;
    __builtin_memcpy(&scale, &bits, sizeof scale);
    return poly * scale;
}

FNN_TARGET static inline __attribute__((always_inline)) float FNN_VARIANT(tanh_lane)(float x)
{
    const float a = x < 0.0f ? -x : x;
    const float s = a * a;
    float p = -0.00573112f;
    p = p * s + 0.02066466f;
    p = p * s - 0.05374843f;
    p = p * s + 0.13331561f;
    p = p * s - 0.33333287f;
    const float small = a + a * s * p;
    const float y = 2.0f * (a < 10.0f ? a : 10.0f); /* a NaN becomes 10: n stays an integer */
    const float big = 1.0f - 2.0f / (FNN_VARIANT(exp_lane)(y) + 1.0f);
    float t = a < 0.625f ? small : big;
    t = a == a ? t : a;  /* NaN in, NaN out */
    return __builtin_copysignf(t, x); /* tanh(-0) = -0 */
}

FNN_TARGET static inline __attribute__((always_inline)) float FNN_VARIANT(sigmoid_lane)(float x)
{
    float y = -x;
    y = y > -87.0f ? y : -87.0f; /* a NaN becomes -87 here, and NaN again below */
    y = y < 88.0f ? y : 88.0f;
    const float v = 1.0f / (1.0f + FNN_VARIANT(exp_lane)(y));
    return x == x ? v : x;
}

/* The cells are processed 16 at a time (one AVX-512 vector, two AVX2, four SSE), the last
 * H % 16 of a row through zero-padded copies: left to the compiler, that remainder ran as
 * scalar code with libm-free but unvectorised tanh, a third of a row of 200. */
#ifndef LSTM_LANES
#define LSTM_LANES 16
#endif

/* One block of cells of one row: g* hold the gate sums h W_hh^T + b_hh and are overwritten
 * with the activated gates, x* are the input's gate terms. */
FNN_TARGET static inline __attribute__((always_inline)) void FNN_VARIANT(cell_forward_lanes)(
    float *restrict gi, float *restrict gf, float *restrict gg, float *restrict go,
    const float *restrict xi, const float *restrict xf, const float *restrict xg,
    const float *restrict xo, const float *restrict cp, float *restrict c, float *restrict tc,
    float *restrict h)
{
#pragma omp simd
    for (int j = 0; j < LSTM_LANES; ++j) {
        const float i = FNN_VARIANT(sigmoid_lane)(gi[j] + xi[j]);
        const float f = FNN_VARIANT(sigmoid_lane)(gf[j] + xf[j]);
        const float g = FNN_VARIANT(tanh_lane)(gg[j] + xg[j]);
        const float o = FNN_VARIANT(sigmoid_lane)(go[j] + xo[j]);
        gi[j] = i;
        gf[j] = f;
        gg[j] = g;
        go[j] = o;
        const float cell = f * cp[j] + i * g;
        const float t = FNN_VARIANT(tanh_lane)(cell);
        c[j] = cell;
        tc[j] = t;
        h[j] = o * t;
    }
}

/* Rows [r0, r1) of one step: gates[n] (h W_hh^T + b_hh on entry, [i|f|g|o] activated on exit)
 * plus xw[n], then c = f c_prev + i g, tanh_c = tanh(c), h = o tanh(c). */
FNN_TARGET static void FNN_VARIANT(lstm_cell_forward_rows)(float *gates, const float *xw,
                                                           const float *c_prev, float *c,
                                                           float *tanh_c, float *h, ptrdiff_t H,
                                                           ptrdiff_t r0, ptrdiff_t r1)
{
    for (ptrdiff_t n = r0; n < r1; ++n) {
        float *g = gates + n * 4 * H, *cn = c + n * H, *tn = tanh_c + n * H, *hn = h + n * H;
        const float *x = xw + n * 4 * H, *cp = c_prev + n * H;
        ptrdiff_t j = 0;
        for (; j + LSTM_LANES <= H; j += LSTM_LANES)
            FNN_VARIANT(cell_forward_lanes)(g + j, g + H + j, g + 2 * H + j, g + 3 * H + j,
                                            x + j, x + H + j, x + 2 * H + j, x + 3 * H + j,
                                            cp + j, cn + j, tn + j, hn + j);
        const ptrdiff_t rest = H - j;
        if (rest == 0) continue;
        /* in: 4 gate sums, 4 input terms, c_prev; out: 4 gates, c, tanh(c), h */
        float in[9][LSTM_LANES] = {{0}}, out[3][LSTM_LANES];
        for (int k = 0; k < 4; ++k) {
            memcpy(in[k], g + k * H + j, (size_t)rest * sizeof(float));
            memcpy(in[4 + k], x + k * H + j, (size_t)rest * sizeof(float));
        }
        memcpy(in[8], cp + j, (size_t)rest * sizeof(float));
        FNN_VARIANT(cell_forward_lanes)(in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7],
                                        in[8], out[0], out[1], out[2]);
        for (int k = 0; k < 4; ++k) memcpy(g + k * H + j, in[k], (size_t)rest * sizeof(float));
        memcpy(cn + j, out[0], (size_t)rest * sizeof(float));
        memcpy(tn + j, out[1], (size_t)rest * sizeof(float));
        memcpy(hn + j, out[2], (size_t)rest * sizeof(float));
    }
}

/* One block of cells of one step backward: with dh' = dh + grad_out (the gradient reaching
 * h_t),
 *   d o = dh' tanh(c) o (1 - o),   dc += dh' o (1 - tanh(c)^2),
 *   d i = dc g i (1 - i),   d f = dc c_prev f (1 - f),   d g = dc i (1 - g^2),
 * into d* (the gradient of each gate's pre-activation), and dc becomes dc f (the gradient
 * reaching c_{t-1}). The products are grouped as the NumPy reference groups them. */
FNN_TARGET static inline __attribute__((always_inline)) void FNN_VARIANT(cell_backward_lanes)(
    const float *restrict gi, const float *restrict gf, const float *restrict gg,
    const float *restrict go, const float *restrict tn, const float *restrict cp,
    const float *restrict gout, const float *restrict dh, float *restrict dc,
    float *restrict di, float *restrict df, float *restrict dg, float *restrict dout)
{
#pragma omp simd
    for (int j = 0; j < LSTM_LANES; ++j) {
        const float i = gi[j], f = gf[j], g = gg[j], o = go[j], tc = tn[j];
        const float d = dh[j] + gout[j];
        dout[j] = (d * tc) * ((1.0f - o) * o);
        const float cell_grad = dc[j] + (d * o) * (1.0f - tc * tc);
        di[j] = (cell_grad * g) * ((1.0f - i) * i);
        df[j] = (cell_grad * cp[j]) * ((1.0f - f) * f);
        dg[j] = (cell_grad * i) * (1.0f - g * g);
        dc[j] = cell_grad * f;
    }
}

/* Rows [r0, r1) of one step backward (cell_backward_lanes over each row). */
FNN_TARGET static void FNN_VARIANT(lstm_cell_backward_rows)(const float *gates,
                                                            const float *tanh_c,
                                                            const float *c_prev,
                                                            const float *grad_out,
                                                            const float *dh, float *dc,
                                                            float *d_gates, ptrdiff_t H,
                                                            ptrdiff_t r0, ptrdiff_t r1)
{
    for (ptrdiff_t n = r0; n < r1; ++n) {
        const float *g = gates + n * 4 * H, *tn = tanh_c + n * H, *cp = c_prev + n * H;
        const float *gon = grad_out + n * H, *dhn = dh + n * H;
        float *d = d_gates + n * 4 * H, *dcn = dc + n * H;
        ptrdiff_t j = 0;
        for (; j + LSTM_LANES <= H; j += LSTM_LANES)
            FNN_VARIANT(cell_backward_lanes)(g + j, g + H + j, g + 2 * H + j, g + 3 * H + j,
                                             tn + j, cp + j, gon + j, dhn + j, dcn + j, d + j,
                                             d + H + j, d + 2 * H + j, d + 3 * H + j);
        const ptrdiff_t rest = H - j;
        if (rest == 0) continue;
        /* in: 4 gates, tanh(c), c_prev, grad_out, dh, dc (also out); out: 4 gate gradients */
        float in[9][LSTM_LANES] = {{0}}, out[4][LSTM_LANES];
        for (int k = 0; k < 4; ++k) memcpy(in[k], g + k * H + j, (size_t)rest * sizeof(float));
        memcpy(in[4], tn + j, (size_t)rest * sizeof(float));
        memcpy(in[5], cp + j, (size_t)rest * sizeof(float));
        memcpy(in[6], gon + j, (size_t)rest * sizeof(float));
        memcpy(in[7], dhn + j, (size_t)rest * sizeof(float));
        memcpy(in[8], dcn + j, (size_t)rest * sizeof(float));
        FNN_VARIANT(cell_backward_lanes)(in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7],
                                         in[8], out[0], out[1], out[2], out[3]);
        for (int k = 0; k < 4; ++k) memcpy(d + k * H + j, out[k], (size_t)rest * sizeof(float));
        memcpy(dcn + j, in[8], (size_t)rest * sizeof(float));
    }
}

/* The GRU cell (torch.nn.GRU, gates [r | z | n]) on one block of cells: g* hold h W_hh^T + b_hh
 * on entry; r and z are overwritten with their activations, n's slot with n, and hn keeps
 * n's h W_hn^T + b_hn (the backward's r derivative needs it):
 *   r = sigmoid(x_r + g_r), z = sigmoid(x_z + g_z), n = tanh(x_n + r hn),
 *   h = (1 - z) n + z h_prev. */
FNN_TARGET static inline __attribute__((always_inline)) void FNN_VARIANT(gru_forward_lanes)(
    float *restrict gr, float *restrict gz, float *restrict gn, const float *restrict xr,
    const float *restrict xz, const float *restrict xn, const float *restrict hp,
    float *restrict hn, float *restrict h)
{
#pragma omp simd
    for (int j = 0; j < LSTM_LANES; ++j) {
        const float r = FNN_VARIANT(sigmoid_lane)(xr[j] + gr[j]);
        const float z = FNN_VARIANT(sigmoid_lane)(xz[j] + gz[j]);
        const float hw_n = gn[j];
        const float n = FNN_VARIANT(tanh_lane)(xn[j] + r * hw_n);
        gr[j] = r;
        gz[j] = z;
        gn[j] = n;
        hn[j] = hw_n;
        h[j] = (1.0f - z) * n + z * hp[j];
    }
}

/* Rows [r0, r1) of one GRU step (gru_forward_lanes over each row; the remainder of a row
 * through zero-padded copies, as the LSTM's). */
FNN_TARGET static void FNN_VARIANT(gru_cell_forward_rows)(float *gates, const float *xw,
                                                          const float *h_prev, float *hn,
                                                          float *h, ptrdiff_t H, ptrdiff_t r0,
                                                          ptrdiff_t r1)
{
    for (ptrdiff_t n = r0; n < r1; ++n) {
        float *g = gates + n * 3 * H, *hnn = hn + n * H, *hout = h + n * H;
        const float *x = xw + n * 3 * H, *hp = h_prev + n * H;
        ptrdiff_t j = 0;
        for (; j + LSTM_LANES <= H; j += LSTM_LANES)
            FNN_VARIANT(gru_forward_lanes)(g + j, g + H + j, g + 2 * H + j, x + j, x + H + j,
                                           x + 2 * H + j, hp + j, hnn + j, hout + j);
        const ptrdiff_t rest = H - j;
        if (rest == 0) continue;
        /* in/out: 3 gates; in: 3 input terms, h_prev; out: hn, h */
        float in[7][LSTM_LANES] = {{0}}, out[2][LSTM_LANES];
        for (int k = 0; k < 3; ++k) {
            memcpy(in[k], g + k * H + j, (size_t)rest * sizeof(float));
            memcpy(in[3 + k], x + k * H + j, (size_t)rest * sizeof(float));
        }
        memcpy(in[6], hp + j, (size_t)rest * sizeof(float));
        FNN_VARIANT(gru_forward_lanes)(in[0], in[1], in[2], in[3], in[4], in[5], in[6], out[0],
                                       out[1]);
        for (int k = 0; k < 3; ++k) memcpy(g + k * H + j, in[k], (size_t)rest * sizeof(float));
        memcpy(hnn + j, out[0], (size_t)rest * sizeof(float));
        memcpy(hout + j, out[1], (size_t)rest * sizeof(float));
    }
}

/* One block of a GRU step backward: with d = dh + grad_out (the gradient reaching h_t),
 *   dn = d (1 - z) (1 - n^2),   dz = d (h_prev - n) z (1 - z),   dr = dn hn r (1 - r),
 * d_xw = [dr | dz | dn], d_hw = [dr | dz | dn r], and dh becomes d z (the GEMM then adds
 * d_hw W_hh). Grouped as the NumPy reference groups them. */
FNN_TARGET static inline __attribute__((always_inline)) void FNN_VARIANT(gru_backward_lanes)(
    const float *restrict gr, const float *restrict gz, const float *restrict gn,
    const float *restrict hn, const float *restrict hp, const float *restrict gout,
    float *restrict dh, float *restrict xr, float *restrict xz, float *restrict xn,
    float *restrict wr, float *restrict wz, float *restrict wn)
{
#pragma omp simd
    for (int j = 0; j < LSTM_LANES; ++j) {
        const float r = gr[j], z = gz[j], n = gn[j];
        const float d = dh[j] + gout[j];
        const float dn = (d * (1.0f - z)) * (1.0f - n * n);
        const float dz = ((d * (hp[j] - n)) * z) * (1.0f - z);
        const float dr = ((dn * hn[j]) * r) * (1.0f - r);
        xr[j] = dr;
        xz[j] = dz;
        xn[j] = dn;
        wr[j] = dr;
        wz[j] = dz;
        wn[j] = dn * r;
        dh[j] = d * z;
    }
}

/* Rows [r0, r1) of one GRU step backward. */
FNN_TARGET static void FNN_VARIANT(gru_cell_backward_rows)(const float *gates, const float *hn,
                                                           const float *h_prev,
                                                           const float *grad_out, float *dh,
                                                           float *d_xw, float *d_hw,
                                                           ptrdiff_t H, ptrdiff_t r0,
                                                           ptrdiff_t r1)
{
    for (ptrdiff_t n = r0; n < r1; ++n) {
        const float *g = gates + n * 3 * H, *hnn = hn + n * H, *hp = h_prev + n * H;
        const float *gon = grad_out + n * H;
        float *dhn = dh + n * H, *dx = d_xw + n * 3 * H, *dw = d_hw + n * 3 * H;
        ptrdiff_t j = 0;
        for (; j + LSTM_LANES <= H; j += LSTM_LANES)
            FNN_VARIANT(gru_backward_lanes)(g + j, g + H + j, g + 2 * H + j, hnn + j, hp + j,
                                            gon + j, dhn + j, dx + j, dx + H + j, dx + 2 * H + j,
                                            dw + j, dw + H + j, dw + 2 * H + j);
        const ptrdiff_t rest = H - j;
        if (rest == 0) continue;
        /* in: 3 gates, hn, h_prev, grad_out; in/out: dh; out: 6 gate gradients */
        float in[7][LSTM_LANES] = {{0}}, out[6][LSTM_LANES];
        for (int k = 0; k < 3; ++k) memcpy(in[k], g + k * H + j, (size_t)rest * sizeof(float));
        memcpy(in[3], hnn + j, (size_t)rest * sizeof(float));
        memcpy(in[4], hp + j, (size_t)rest * sizeof(float));
        memcpy(in[5], gon + j, (size_t)rest * sizeof(float));
        memcpy(in[6], dhn + j, (size_t)rest * sizeof(float));
        FNN_VARIANT(gru_backward_lanes)(in[0], in[1], in[2], in[3], in[4], in[5], in[6], out[0],
                                        out[1], out[2], out[3], out[4], out[5]);
        for (int k = 0; k < 3; ++k) {
            memcpy(dx + k * H + j, out[k], (size_t)rest * sizeof(float));
            memcpy(dw + k * H + j, out[3 + k], (size_t)rest * sizeof(float));
        }
        memcpy(dhn + j, in[6], (size_t)rest * sizeof(float));
    }
}
