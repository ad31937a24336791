"""The LSTM and GRU time loops, step by step around a cell pass: per step `gemm` with W_hh, then
`cell` over the step's arrays (forward: gates, xw, c_prev or h_prev, ...; the argument orders
of kernels/rnn_cells.h's rows). The Numba backend runs them with its @njit cells (numba_rnn.py)
and, for float32, its GEMM; the compiled backend runs them for float64 with the C cells of
kernels/rnn_f64.c (its float32 loops are C: kernels/rnn.c). float64 products are NumPy's
(reference_rnn.numpy_mm). gemm(a, b, out, bias=None, accumulate=False) writes a @ b (+ bias)
into out, or adds it."""


def _steps(count, reverse):
    return range(count - 1, -1, -1) if reverse else range(count)


def lstm_forward(xw, w_hh_t, b_hh, h0, c0, gates, cells, tanh_c, h_prev, output, reverse, gemm,
                 cell):
    h, c = h0, c0
    for t in _steps(cells.shape[0], reverse):
        h_prev[t] = h
        gemm(h, w_hh_t, gates[t], b_hh)
        cell(gates[t], xw[t], c, cells[t], tanh_c[t], output[t])
        h, c = output[t], cells[t]


def lstm_backward(grad_out, dc, gates, cells, tanh_c, c0, w_hh, d_gates, dh, reverse, gemm,
                  cell):
    steps = cells.shape[0]
    dh[...] = 0
    first = steps - 1 if reverse else 0
    for t in _steps(steps, not reverse):
        c_before = c0 if t == first else cells[t + 1 if reverse else t - 1]
        cell(gates[t], tanh_c[t], c_before, grad_out[t], dh, dc, d_gates[t])
        gemm(d_gates[t], w_hh, dh)  # the gradient reaching h_{t-1}


def gru_forward(xw, w_hh_t, b_hh, h0, gates, hn, h_prev, output, reverse, gemm, cell):
    h = h0
    for t in _steps(hn.shape[0], reverse):
        h_prev[t] = h
        gemm(h, w_hh_t, gates[t], b_hh)
        cell(gates[t], xw[t], h_prev[t], hn[t], output[t])
        h = output[t]


def gru_backward(grad_out, gates, hn, h_prev, w_hh, d_xw, d_hw, dh, reverse, gemm, cell):
    dh[...] = 0
    for t in _steps(hn.shape[0], not reverse):
        cell(gates[t], hn[t], h_prev[t], grad_out[t], dh, d_xw[t], d_hw[t])
        gemm(d_hw[t], w_hh, dh, accumulate=True)  # dh = dh' z + d_hw W_hh
