/* The LSTM and GRU cells' pointwise passes, compiled once per instruction set by isa_variants.h
 * (no include guard: it is included three times) and once per element type: FNN_REAL is float
 * in kernels/rnn.c (the time loops) and double in kernels/rnn_f64.c (the float64 steps), each
 * with its own exp, tanh and sigmoid (rnn_lanes_f32.h, rnn_lanes_f64.h). */
#ifdef FNN_RNN_DOUBLE
#include "rnn_lanes_f64.h"
#else
#include "rnn_lanes_f32.h"
#endif

/* The cells are processed 16 at a time (one AVX-512 vector of float, two AVX2, four SSE;
 * rnn_f64.c sets 8 doubles), the last H % 16 of a row through zero-padded copies: left to the
 * compiler, that remainder ran as scalar code with libm-free but unvectorised tanh, a third of
 * a row of 200. */
#ifndef LSTM_LANES
#define LSTM_LANES 16
#endif

/* One block of cells of one row: g* hold the gate sums h W_hh^T + b_hh and are overwritten
 * with the activated gates, x* are the input's gate terms. */
FNN_TARGET static inline __attribute__((always_inline)) void FNN_VARIANT(cell_forward_lanes)(
    FNN_REAL *restrict gi, FNN_REAL *restrict gf, FNN_REAL *restrict gg, FNN_REAL *restrict go,
    const FNN_REAL *restrict xi, const FNN_REAL *restrict xf, const FNN_REAL *restrict xg,
    const FNN_REAL *restrict xo, const FNN_REAL *restrict cp, FNN_REAL *restrict c,
    FNN_REAL *restrict tc, FNN_REAL *restrict h)
{
#pragma omp simd
    for (int j = 0; j < LSTM_LANES; ++j) {
        const FNN_REAL i = FNN_VARIANT(sigmoid_lane)(gi[j] + xi[j]);
        const FNN_REAL f = FNN_VARIANT(sigmoid_lane)(gf[j] + xf[j]);
        const FNN_REAL g = FNN_VARIANT(tanh_lane)(gg[j] + xg[j]);
        const FNN_REAL o = FNN_VARIANT(sigmoid_lane)(go[j] + xo[j]);
        gi[j] = i;
        gf[j] = f;
        gg[j] = g;
        go[j] = o;
        const FNN_REAL cell = f * cp[j] + i * g;
        const FNN_REAL t = FNN_VARIANT(tanh_lane)(cell);
        c[j] = cell;
        tc[j] = t;
        h[j] = o * t;
    }
}

/* Rows [r0, r1) of one step: gates[n] (h W_hh^T + b_hh on entry, [i|f|g|o] activated on exit)
 * plus xw[n], then c = f c_prev + i g, tanh_c = tanh(c), h = o tanh(c). */
FNN_TARGET static void FNN_VARIANT(lstm_cell_forward_rows)(FNN_REAL *gates, const FNN_REAL *xw,
                                                           const FNN_REAL *c_prev, FNN_REAL *c,
                                                           FNN_REAL *tanh_c, FNN_REAL *h,
                                                           ptrdiff_t H, ptrdiff_t r0, ptrdiff_t r1)
{
    for (ptrdiff_t n = r0; n < r1; ++n) {
        FNN_REAL *g = gates + n * 4 * H, *cn = c + n * H, *tn = tanh_c + n * H, *hn = h + n * H;
        const FNN_REAL *x = xw + n * 4 * H, *cp = c_prev + n * H;
        ptrdiff_t j = 0;
        for (; j + LSTM_LANES <= H; j += LSTM_LANES)
            FNN_VARIANT(cell_forward_lanes)(g + j, g + H + j, g + 2 * H + j, g + 3 * H + j,
                                            x + j, x + H + j, x + 2 * H + j, x + 3 * H + j,
                                            cp + j, cn + j, tn + j, hn + j);
        const ptrdiff_t rest = H - j;
        if (rest == 0) continue;
        /* in: 4 gate sums, 4 input terms, c_prev; out: 4 gates, c, tanh(c), h */
        FNN_REAL in[9][LSTM_LANES] = {{0}}, out[3][LSTM_LANES];
        for (int k = 0; k < 4; ++k) {
            memcpy(in[k], g + k * H + j, (size_t)rest * sizeof(FNN_REAL));
            memcpy(in[4 + k], x + k * H + j, (size_t)rest * sizeof(FNN_REAL));
        }
        memcpy(in[8], cp + j, (size_t)rest * sizeof(FNN_REAL));
        FNN_VARIANT(cell_forward_lanes)(in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7],
                                        in[8], out[0], out[1], out[2]);
        for (int k = 0; k < 4; ++k) memcpy(g + k * H + j, in[k], (size_t)rest * sizeof(FNN_REAL));
        memcpy(cn + j, out[0], (size_t)rest * sizeof(FNN_REAL));
        memcpy(tn + j, out[1], (size_t)rest * sizeof(FNN_REAL));
        memcpy(hn + j, out[2], (size_t)rest * sizeof(FNN_REAL));
    }
}

/* One block of cells of one step backward: with dh' = dh + grad_out (the gradient reaching
 * h_t),
 *   d o = dh' tanh(c) o (1 - o),   dc += dh' o (1 - tanh(c)^2),
 *   d i = dc g i (1 - i),   d f = dc c_prev f (1 - f),   d g = dc i (1 - g^2),
 * into d* (the gradient of each gate's pre-activation), and dc becomes dc f (the gradient
 * reaching c_{t-1}). The products are grouped as the NumPy reference groups them. */
FNN_TARGET static inline __attribute__((always_inline)) void FNN_VARIANT(cell_backward_lanes)(
    const FNN_REAL *restrict gi, const FNN_REAL *restrict gf, const FNN_REAL *restrict gg,
    const FNN_REAL *restrict go, const FNN_REAL *restrict tn, const FNN_REAL *restrict cp,
    const FNN_REAL *restrict gout, const FNN_REAL *restrict dh, FNN_REAL *restrict dc,
    FNN_REAL *restrict di, FNN_REAL *restrict df, FNN_REAL *restrict dg, FNN_REAL *restrict dout)
{
#pragma omp simd
    for (int j = 0; j < LSTM_LANES; ++j) {
        const FNN_REAL i = gi[j], f = gf[j], g = gg[j], o = go[j], tc = tn[j];
        const FNN_REAL d = dh[j] + gout[j];
        dout[j] = (d * tc) * ((1.0f - o) * o);
        const FNN_REAL cell_grad = dc[j] + (d * o) * (1.0f - tc * tc);
        di[j] = (cell_grad * g) * ((1.0f - i) * i);
        df[j] = (cell_grad * cp[j]) * ((1.0f - f) * f);
        dg[j] = (cell_grad * i) * (1.0f - g * g);
        dc[j] = cell_grad * f;
    }
}

/* Rows [r0, r1) of one step backward (cell_backward_lanes over each row). */
FNN_TARGET static void FNN_VARIANT(lstm_cell_backward_rows)(const FNN_REAL *gates,
                                                            const FNN_REAL *tanh_c,
                                                            const FNN_REAL *c_prev,
                                                            const FNN_REAL *grad_out,
                                                            const FNN_REAL *dh, FNN_REAL *dc,
                                                            FNN_REAL *d_gates, ptrdiff_t H,
                                                            ptrdiff_t r0, ptrdiff_t r1)
{
    for (ptrdiff_t n = r0; n < r1; ++n) {
        const FNN_REAL *g = gates + n * 4 * H, *tn = tanh_c + n * H, *cp = c_prev + n * H;
        const FNN_REAL *gon = grad_out + n * H, *dhn = dh + n * H;
        FNN_REAL *d = d_gates + n * 4 * H, *dcn = dc + n * H;
        ptrdiff_t j = 0;
        for (; j + LSTM_LANES <= H; j += LSTM_LANES)
            FNN_VARIANT(cell_backward_lanes)(g + j, g + H + j, g + 2 * H + j, g + 3 * H + j,
                                             tn + j, cp + j, gon + j, dhn + j, dcn + j, d + j,
                                             d + H + j, d + 2 * H + j, d + 3 * H + j);
        const ptrdiff_t rest = H - j;
        if (rest == 0) continue;
        /* in: 4 gates, tanh(c), c_prev, grad_out, dh, dc (also out); out: 4 gate gradients */
        FNN_REAL in[9][LSTM_LANES] = {{0}}, out[4][LSTM_LANES];
        for (int k = 0; k < 4; ++k) memcpy(in[k], g + k * H + j, (size_t)rest * sizeof(FNN_REAL));
        memcpy(in[4], tn + j, (size_t)rest * sizeof(FNN_REAL));
        memcpy(in[5], cp + j, (size_t)rest * sizeof(FNN_REAL));
        memcpy(in[6], gon + j, (size_t)rest * sizeof(FNN_REAL));
        memcpy(in[7], dhn + j, (size_t)rest * sizeof(FNN_REAL));
        memcpy(in[8], dcn + j, (size_t)rest * sizeof(FNN_REAL));
        FNN_VARIANT(cell_backward_lanes)(in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7],
                                         in[8], out[0], out[1], out[2], out[3]);
        for (int k = 0; k < 4; ++k) memcpy(d + k * H + j, out[k], (size_t)rest * sizeof(FNN_REAL));
        memcpy(dcn + j, in[8], (size_t)rest * sizeof(FNN_REAL));
    }
}

/* The GRU cell (torch.nn.GRU, gates [r | z | n]) on one block of cells: g* hold h W_hh^T + b_hh
 * on entry; r and z are overwritten with their activations, n's slot with n, and hn keeps
 * n's h W_hn^T + b_hn (the backward's r derivative needs it):
 *   r = sigmoid(x_r + g_r), z = sigmoid(x_z + g_z), n = tanh(x_n + r hn),
 *   h = (1 - z) n + z h_prev. */
FNN_TARGET static inline __attribute__((always_inline)) void FNN_VARIANT(gru_forward_lanes)(
    FNN_REAL *restrict gr, FNN_REAL *restrict gz, FNN_REAL *restrict gn,
    const FNN_REAL *restrict xr,
    const FNN_REAL *restrict xz, const FNN_REAL *restrict xn, const FNN_REAL *restrict hp,
    FNN_REAL *restrict hn, FNN_REAL *restrict h)
{
#pragma omp simd
    for (int j = 0; j < LSTM_LANES; ++j) {
        const FNN_REAL r = FNN_VARIANT(sigmoid_lane)(xr[j] + gr[j]);
        const FNN_REAL z = FNN_VARIANT(sigmoid_lane)(xz[j] + gz[j]);
        const FNN_REAL hw_n = gn[j];
        const FNN_REAL n = FNN_VARIANT(tanh_lane)(xn[j] + r * hw_n);
        gr[j] = r;
        gz[j] = z;
        gn[j] = n;
        hn[j] = hw_n;
        h[j] = (1.0f - z) * n + z * hp[j];
    }
}

/* Rows [r0, r1) of one GRU step (gru_forward_lanes over each row; the remainder of a row
 * through zero-padded copies, as the LSTM's). */
FNN_TARGET static void FNN_VARIANT(gru_cell_forward_rows)(FNN_REAL *gates, const FNN_REAL *xw,
                                                          const FNN_REAL *h_prev, FNN_REAL *hn,
                                                          FNN_REAL *h, ptrdiff_t H, ptrdiff_t r0,
                                                          ptrdiff_t r1)
{
    for (ptrdiff_t n = r0; n < r1; ++n) {
        FNN_REAL *g = gates + n * 3 * H, *hnn = hn + n * H, *hout = h + n * H;
        const FNN_REAL *x = xw + n * 3 * H, *hp = h_prev + n * H;
        ptrdiff_t j = 0;
        for (; j + LSTM_LANES <= H; j += LSTM_LANES)
            FNN_VARIANT(gru_forward_lanes)(g + j, g + H + j, g + 2 * H + j, x + j, x + H + j,
                                           x + 2 * H + j, hp + j, hnn + j, hout + j);
        const ptrdiff_t rest = H - j;
        if (rest == 0) continue;
        /* in/out: 3 gates; in: 3 input terms, h_prev; out: hn, h */
        FNN_REAL in[7][LSTM_LANES] = {{0}}, out[2][LSTM_LANES];
        for (int k = 0; k < 3; ++k) {
            memcpy(in[k], g + k * H + j, (size_t)rest * sizeof(FNN_REAL));
            memcpy(in[3 + k], x + k * H + j, (size_t)rest * sizeof(FNN_REAL));
        }
        memcpy(in[6], hp + j, (size_t)rest * sizeof(FNN_REAL));
        FNN_VARIANT(gru_forward_lanes)(in[0], in[1], in[2], in[3], in[4], in[5], in[6], out[0],
                                       out[1]);
        for (int k = 0; k < 3; ++k) memcpy(g + k * H + j, in[k], (size_t)rest * sizeof(FNN_REAL));
        memcpy(hnn + j, out[0], (size_t)rest * sizeof(FNN_REAL));
        memcpy(hout + j, out[1], (size_t)rest * sizeof(FNN_REAL));
    }
}

/* One block of a GRU step backward: with d = dh + grad_out (the gradient reaching h_t),
 *   dn = d (1 - z) (1 - n^2),   dz = d (h_prev - n) z (1 - z),   dr = dn hn r (1 - r),
 * d_xw = [dr | dz | dn], d_hw = [dr | dz | dn r], and dh becomes d z (the GEMM then adds
 * d_hw W_hh). Grouped as the NumPy reference groups them. */
FNN_TARGET static inline __attribute__((always_inline)) void FNN_VARIANT(gru_backward_lanes)(
    const FNN_REAL *restrict gr, const FNN_REAL *restrict gz, const FNN_REAL *restrict gn,
    const FNN_REAL *restrict hn, const FNN_REAL *restrict hp, const FNN_REAL *restrict gout,
    FNN_REAL *restrict dh, FNN_REAL *restrict xr, FNN_REAL *restrict xz, FNN_REAL *restrict xn,
    FNN_REAL *restrict wr, FNN_REAL *restrict wz, FNN_REAL *restrict wn)
{
#pragma omp simd
    for (int j = 0; j < LSTM_LANES; ++j) {
        const FNN_REAL r = gr[j], z = gz[j], n = gn[j];
        const FNN_REAL d = dh[j] + gout[j];
        const FNN_REAL dn = (d * (1.0f - z)) * (1.0f - n * n);
        const FNN_REAL dz = ((d * (hp[j] - n)) * z) * (1.0f - z);
        const FNN_REAL dr = ((dn * hn[j]) * r) * (1.0f - r);
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
FNN_TARGET static void FNN_VARIANT(gru_cell_backward_rows)(const FNN_REAL *gates,
                                                           const FNN_REAL *hn,
                                                           const FNN_REAL *h_prev,
                                                           const FNN_REAL *grad_out, FNN_REAL *dh,
                                                           FNN_REAL *d_xw, FNN_REAL *d_hw,
                                                           ptrdiff_t H, ptrdiff_t r0,
                                                           ptrdiff_t r1)
{
    for (ptrdiff_t n = r0; n < r1; ++n) {
        const FNN_REAL *g = gates + n * 3 * H, *hnn = hn + n * H, *hp = h_prev + n * H;
        const FNN_REAL *gon = grad_out + n * H;
        FNN_REAL *dhn = dh + n * H, *dx = d_xw + n * 3 * H, *dw = d_hw + n * 3 * H;
        ptrdiff_t j = 0;
        for (; j + LSTM_LANES <= H; j += LSTM_LANES)
            FNN_VARIANT(gru_backward_lanes)(g + j, g + H + j, g + 2 * H + j, hnn + j, hp + j,
                                            gon + j, dhn + j, dx + j, dx + H + j, dx + 2 * H + j,
                                            dw + j, dw + H + j, dw + 2 * H + j);
        const ptrdiff_t rest = H - j;
        if (rest == 0) continue;
        /* in: 3 gates, hn, h_prev, grad_out; in/out: dh; out: 6 gate gradients */
        FNN_REAL in[7][LSTM_LANES] = {{0}}, out[6][LSTM_LANES];
        for (int k = 0; k < 3; ++k) memcpy(in[k], g + k * H + j, (size_t)rest * sizeof(FNN_REAL));
        memcpy(in[3], hnn + j, (size_t)rest * sizeof(FNN_REAL));
        memcpy(in[4], hp + j, (size_t)rest * sizeof(FNN_REAL));
        memcpy(in[5], gon + j, (size_t)rest * sizeof(FNN_REAL));
        memcpy(in[6], dhn + j, (size_t)rest * sizeof(FNN_REAL));
        FNN_VARIANT(gru_backward_lanes)(in[0], in[1], in[2], in[3], in[4], in[5], in[6], out[0],
                                        out[1], out[2], out[3], out[4], out[5]);
        for (int k = 0; k < 3; ++k) {
            memcpy(dx + k * H + j, out[k], (size_t)rest * sizeof(FNN_REAL));
            memcpy(dw + k * H + j, out[3 + k], (size_t)rest * sizeof(FNN_REAL));
        }
        memcpy(dhn + j, in[6], (size_t)rest * sizeof(FNN_REAL));
    }
}
