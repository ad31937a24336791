"""The compiled backend's recurrent time loops for float64 layers and cells: per step NumPy's
float64 product with W_hh, then the step's pointwise pass in C (kernels/rnn_f64.c). The C loops
of kernels/rnn.c run float32 only (their per-step GEMM is fastnn's float32 one); the steps,
orders and sums here are theirs, so the reference loops (backend/reference_rnn.py) check both."""
import numpy as np

from fastnn import _kernels


def _steps(count, reverse):
    return range(count - 1, -1, -1) if reverse else range(count)


def _product(a, b, out, bias):
    np.matmul(a, b, out=out)
    if bias is not None:
        out += bias


def lstm_forward(xw, w_hh_t, b_hh, h0, c0, gates, cells, tanh_c, h_prev, output, reverse):
    h, c = h0, c0
    for t in _steps(cells.shape[0], reverse):
        h_prev[t] = h
        _product(h, w_hh_t, gates[t], b_hh)
        _kernels.lstm_step_forward_f64(gates[t], xw[t], c, cells[t], tanh_c[t], output[t])
        h, c = output[t], cells[t]


def lstm_backward(grad_out, dc, gates, cells, tanh_c, c0, w_hh, d_gates, dh, reverse):
    steps = cells.shape[0]
    dh[...] = 0
    first = steps - 1 if reverse else 0
    for t in _steps(steps, not reverse):
        c_before = c0 if t == first else cells[t + 1 if reverse else t - 1]
        _kernels.lstm_step_backward_f64(gates[t], tanh_c[t], c_before, grad_out[t], dh, dc,
                                        d_gates[t])
        np.matmul(d_gates[t], w_hh, out=dh)  # the gradient reaching h_{t-1}


def gru_forward(xw, w_hh_t, b_hh, h0, gates, hn, h_prev, output, reverse):
    h = h0
    for t in _steps(hn.shape[0], reverse):
        h_prev[t] = h
        _product(h, w_hh_t, gates[t], b_hh)
        _kernels.gru_step_forward_f64(gates[t], xw[t], h_prev[t], hn[t], output[t])
        h = output[t]


def gru_backward(grad_out, gates, hn, h_prev, w_hh, d_xw, d_hw, dh, reverse):
    dh[...] = 0
    for t in _steps(hn.shape[0], not reverse):
        _kernels.gru_step_backward_f64(gates[t], hn[t], h_prev[t], grad_out[t], dh, d_xw[t],
                                       d_hw[t])
        dh += d_hw[t] @ w_hh  # dh' z + d_hw W_hh: the gradient reaching h_{t-1}
