/* The time loops of an LSTM layer (torch.nn.LSTM without proj_size) and a GRU layer
 * (torch.nn.GRU), float32, forward and backward, in C: per step one GEMM with W_hh and one
 * fused pointwise pass over the cells (kernels/rnn_cells.h).
 *
 * Why the loop is here and not in Python: at torch's word_language_model sizes (hidden 200,
 * batch 8 to 32, 35 steps) a step's arithmetic takes 20 to 100 us, and the NumPy version spent
 * another 20 to 45 us a step on a dozen ufunc calls over slices of the gate array plus the
 * Python around them (issue 12, LSTM rows of benches/); at d2l's seq2seq sizes (hidden 32,
 * batch 64, 9 steps) those calls were the whole cost of a GRU step. PyTorch's CPU LSTM runs oneDNN's fused
 * RNN primitive for the same reason. The input projection x W_ih^T + b_ih of all steps and the
 * weight gradients stay single large GEMMs in fastnn/ops/recurrent.py. */
#include <string.h>

#include "fastnn_kernels.h"
#include "parallel.h"

#define FNN_REAL float
#define FNN_VARIANTS_FILE "rnn_cells.h"
#include "isa_variants.h"

extern long long fnn_call_counts[FNN_K_COUNT];

/* Cells (batch rows x hidden) of one step from which the pointwise pass is split over the
 * threads. The pass costs ~6 ns a cell on one Zen 4 core (five tanh), and a team that just
 * ran the step's GEMM forks again cheaply: 35 steps of hidden 200 at 2 threads, forward
 * against a threshold of 8192 cells (alternated builds, 5 runs): batch 8 0.88x the time,
 * batch 16 0.95x, batch 32 0.92x; 256 was no better than 1024. */
#ifndef LSTM_CELLS_PARALLEL_MIN
#define LSTM_CELLS_PARALLEL_MIN 1024
#endif

static ptrdiff_t rows_to_thread(ptrdiff_t H)
{
    return (LSTM_CELLS_PARALLEL_MIN + H - 1) / H;
}

int fnn_lstm_forward(ptrdiff_t L, ptrdiff_t N, ptrdiff_t H, const float *xw, const float *w_hh_t,
                     const float *b_hh, const float *h0, const float *c0, float *gates,
                     float *cells, float *tanh_c, float *h_prev, float *output, int reverse)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_LSTM], 1, __ATOMIC_RELAXED);
    const ptrdiff_t step = N * H, gate_step = 4 * N * H, min_rows = rows_to_thread(H);
    const float *h = h0, *c_prev = c0;
    for (ptrdiff_t s = 0; s < L; ++s) {
        const ptrdiff_t t = reverse ? L - 1 - s : s;
        FNN_ASSERT_RANGE(t, t + 1, gate_step, L * gate_step);
        memcpy(h_prev + t * step, h, (size_t)step * sizeof(float));
        float *g = gates + t * gate_step;
        const int status = fnn_sgemm(N, 4 * H, H, h, H, 1, w_hh_t, 4 * H, 1, g, 4 * H, b_hh, 0, 0);
        if (status != FNN_OK) return status;
        float *c = cells + t * step, *tc = tanh_c + t * step, *out = output + t * step;
        const float *x_t = xw + t * gate_step;
        FNN_FOR_RANGES(N, min_rows,
                       FNN_ISA_CALL(lstm_cell_forward_rows, g, x_t, c_prev, c, tc, out, H, lo, hi));
        h = out;
        c_prev = c;
    }
    return FNN_OK;
}

int fnn_lstm_backward(ptrdiff_t L, ptrdiff_t N, ptrdiff_t H, const float *grad_out, float *dc,
                      const float *gates, const float *cells, const float *tanh_c,
                      const float *c0, const float *w_hh, float *d_gates, float *dh, int reverse)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_LSTM], 1, __ATOMIC_RELAXED);
    const ptrdiff_t step = N * H, gate_step = 4 * N * H, min_rows = rows_to_thread(H);
    memset(dh, 0, (size_t)step * sizeof(float));
    for (ptrdiff_t s = 0; s < L; ++s) {
        const ptrdiff_t t = reverse ? s : L - 1 - s;  /* the forward order, backwards */
        FNN_ASSERT_RANGE(t, t + 1, gate_step, L * gate_step);
        const int first = reverse ? t == L - 1 : t == 0;
        const float *c_before = first ? c0 : cells + (reverse ? t + 1 : t - 1) * step;
        const float *g = gates + t * gate_step, *tc = tanh_c + t * step;
        const float *go = grad_out + t * step;
        float *dg = d_gates + t * gate_step;
        FNN_FOR_RANGES(N, min_rows,
                       FNN_ISA_CALL(lstm_cell_backward_rows, g, tc, c_before, go, dh, dc, dg, H,
                                    lo, hi));
        /* the gradient reaching h_{t-1}: d_gates_t @ W_hh (dh was read above, before this) */
        const int status = fnn_sgemm(N, H, 4 * H, dg, 4 * H, 1, w_hh, H, 1, dh, H, NULL, 0, 0);
        if (status != FNN_OK) return status;
    }
    return FNN_OK;
}

int fnn_gru_forward(ptrdiff_t L, ptrdiff_t N, ptrdiff_t H, const float *xw, const float *w_hh_t,
                    const float *b_hh, const float *h0, float *gates, float *hn, float *h_prev,
                    float *output, int reverse)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_GRU], 1, __ATOMIC_RELAXED);
    const ptrdiff_t step = N * H, gate_step = 3 * N * H, min_rows = rows_to_thread(H);
    const float *h = h0;
    for (ptrdiff_t s = 0; s < L; ++s) {
        const ptrdiff_t t = reverse ? L - 1 - s : s;
        FNN_ASSERT_RANGE(t, t + 1, gate_step, L * gate_step);
        float *hp = h_prev + t * step;
        memcpy(hp, h, (size_t)step * sizeof(float));
        float *g = gates + t * gate_step;
        const int status = fnn_sgemm(N, 3 * H, H, h, H, 1, w_hh_t, 3 * H, 1, g, 3 * H, b_hh, 0, 0);
        if (status != FNN_OK) return status;
        float *out = output + t * step, *hn_t = hn + t * step;
        const float *x_t = xw + t * gate_step;
        FNN_FOR_RANGES(N, min_rows,
                       FNN_ISA_CALL(gru_cell_forward_rows, g, x_t, hp, hn_t, out, H, lo, hi));
        h = out;
    }
    return FNN_OK;
}

int fnn_gru_backward(ptrdiff_t L, ptrdiff_t N, ptrdiff_t H, const float *grad_out,
                     const float *gates, const float *hn, const float *h_prev, const float *w_hh,
                     float *d_xw, float *d_hw, float *dh, int reverse)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_GRU], 1, __ATOMIC_RELAXED);
    const ptrdiff_t step = N * H, gate_step = 3 * N * H, min_rows = rows_to_thread(H);
    memset(dh, 0, (size_t)step * sizeof(float));
    for (ptrdiff_t s = 0; s < L; ++s) {
        const ptrdiff_t t = reverse ? s : L - 1 - s;
        FNN_ASSERT_RANGE(t, t + 1, gate_step, L * gate_step);
        const float *g = gates + t * gate_step, *hn_t = hn + t * step, *hp = h_prev + t * step;
        const float *go = grad_out + t * step;
        float *dx = d_xw + t * gate_step, *dw = d_hw + t * gate_step;
        FNN_FOR_RANGES(N, min_rows,
                       FNN_ISA_CALL(gru_cell_backward_rows, g, hn_t, hp, go, dh, dx, dw, H, lo,
                                    hi));
        /* dh (now dh' z) += d_hw_t @ W_hh: the gradient reaching h_{t-1} */
        const int status = fnn_sgemm(N, H, 3 * H, dw, 3 * H, 1, w_hh, H, 1, dh, H, NULL, 0, 1);
        if (status != FNN_OK) return status;
    }
    return FNN_OK;
}
