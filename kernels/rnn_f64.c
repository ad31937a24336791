/* One step of an LSTM or GRU layer's pointwise pass in float64 (torch's double RNNs and cells,
 * as pytorch/examples time_sequence_prediction trains its LSTMCell pair): the cells of
 * rnn_cells.h compiled for double. The step's product with W_hh stays NumPy's float64 GEMM
 * (fastnn/backend/rnn_step_loops.py runs the time loop); what this replaces is the NumPy
 * version of the pass, a dozen ufunc calls over slices of the gate array with two whole-array
 * tanh
 * (LSTMCell(51, 51), batch 97: about 75 of a step's 230 us). */
#include <stdint.h>
#include <string.h>

#include "fastnn_kernels.h"

#define FNN_RNN_DOUBLE 1
#define FNN_REAL double
#define LSTM_LANES 8
#define FNN_VARIANTS_FILE "rnn_cells.h"
#include "isa_variants.h"

extern long long fnn_call_counts[FNN_K_COUNT];

/* The pass runs on the calling thread, not split over the team as rnn.c's float32 loops split
 * theirs: the step's product before it ran on NumPy's BLAS, whose workers keep spinning for a
 * while after it, so a team forked right then waits for a core. Forward and backward of an
 * LSTMCell at 2 threads, split against one thread: (51, 51) batch 97 800-815 against 510-550
 * us; (512, 512) batch 128 38.9 against 24.6 ms. */

void fnn_lstm_step_forward_f64(ptrdiff_t N, ptrdiff_t H, double *gates, const double *xw,
                               const double *c_prev, double *c, double *tanh_c, double *h)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_LSTM], 1, __ATOMIC_RELAXED);
    FNN_ISA_CALL(lstm_cell_forward_rows, gates, xw, c_prev, c, tanh_c, h, H, 0, N);
}

void fnn_lstm_step_backward_f64(ptrdiff_t N, ptrdiff_t H, const double *gates,
                                const double *tanh_c, const double *c_prev,
                                const double *grad_out, const double *dh, double *dc,
                                double *d_gates)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_LSTM], 1, __ATOMIC_RELAXED);
    FNN_ISA_CALL(lstm_cell_backward_rows, gates, tanh_c, c_prev, grad_out, dh, dc,
                 d_gates, H, 0, N);
}

void fnn_gru_step_forward_f64(ptrdiff_t N, ptrdiff_t H, double *gates, const double *xw,
                              const double *h_prev, double *hn, double *h)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_GRU], 1, __ATOMIC_RELAXED);
    FNN_ISA_CALL(gru_cell_forward_rows, gates, xw, h_prev, hn, h, H, 0, N);
}

void fnn_gru_step_backward_f64(ptrdiff_t N, ptrdiff_t H, const double *gates, const double *hn,
                               const double *h_prev, const double *grad_out, double *dh,
                               double *d_xw, double *d_hw)
{
    __atomic_fetch_add(&fnn_call_counts[FNN_K_GRU], 1, __ATOMIC_RELAXED);
    FNN_ISA_CALL(gru_cell_backward_rows, gates, hn, h_prev, grad_out, dh, d_xw,
                 d_hw, H, 0, N);
}
