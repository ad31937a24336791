"""The LSTM and GRU time loops in NumPy: the reference of the lstm_* / gru_* kernels, and the
loops fastnn/ops/recurrent.py runs where no kernel applies (Elman RNN, proj_size).

Formulas and gate order are torch.nn.LSTM's ([i, f, g, o]; c = f*c + i*g, h = o*tanh(c), then
h W_hr^T with proj_size) and torch.nn.GRU's ([r, z, n]; n = tanh(x_n + r*(h W_hn^T + b_hn)),
h = (1-z)*n + z*h). `mm(a, b, out=None, bias=None, accumulate=False)` is the matrix
product to use: NumPy's here, backend.product when recurrent.py runs the loop."""
import numpy as np


def numpy_mm(a, b, out=None, bias=None, accumulate=False):
    if out is not None and not accumulate:  # straight into out, no temporary to copy
        np.matmul(a, b, out=out)
        if bias is not None:
            out += bias
        return out
    product = a @ b
    if bias is not None:
        product += bias
    if out is None:
        return product
    out += product
    return out


def sigmoid(x, out):
    """sigmoid(x) = (1 + tanh(x/2)) / 2: one vectorised tanh, no overflow for any x (exp(-x)
    overflows float32 below -88)."""
    np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def _per_gate(hidden, dtype, sigmoid_gates, g_gate):
    """A row over [i | f | g | o]: sigmoid_gates on i, f and o, g_gate on g."""
    row = np.full(4 * hidden, sigmoid_gates, dtype)
    row[2 * hidden:3 * hidden] = g_gate
    return row


def _steps(count, reverse):
    return range(count - 1, -1, -1) if reverse else range(count)


def lstm_forward_loop(xw, w_hh_t, b_hh, h0, c0, gates, cells, tanh_c, h_prev, output, reverse,
                      w_hr=None, mm=numpy_mm):
    """Fills gates (activated [i|f|g|o]), cells, tanh_c, h_prev (h_{t-1} of each step) and
    output over the steps of xw (L, N, 4H: x W_ih^T + b_ih), in reverse order if asked."""
    hidden = cells.shape[2]
    # sigmoid(x) = tanh(x/2)/2 + 1/2 on i, f and o, tanh on g: one tanh over the whole row
    # (no exp(-x) to overflow; four NumPy calls instead of nine on slices)
    scale, shift = _per_gate(hidden, gates.dtype, 0.5, 1), _per_gate(hidden, gates.dtype, 0.5, 0)
    h, c = h0, c0
    for t in _steps(xw.shape[0], reverse):
        h_prev[t] = h
        act = mm(h, w_hh_t, out=gates[t], bias=b_hh)
        act += xw[t]
        act *= scale
        np.tanh(act, out=act)
        act *= scale
        act += shift
        i, f, g, o = (act[:, k * hidden:(k + 1) * hidden] for k in range(4))
        c = np.multiply(f, c, out=cells[t])
        c += i * g
        np.tanh(c, out=tanh_c[t])
        if w_hr is None:
            h = np.multiply(o, tanh_c[t], out=output[t])
        else:
            h = output[t] = mm(o * tanh_c[t], w_hr.T)


def lstm_backward_loop(grad_out, dc, gates, cells, tanh_c, c0, w_hh, d_gates, dh, reverse,
                       w_hr=None, d_w_hr=None, mm=numpy_mm):
    """Backpropagation through lstm_forward_loop's steps: d_gates[t] = the gradient of step t's
    gate pre-activations; dc (in: the gradient of c_n) ends as that of c0, dh as that of h0;
    with w_hr, its gradient is added to d_w_hr."""
    steps, hidden = cells.shape[0], cells.shape[2]
    dtype = gates.dtype
    first = steps - 1 if reverse else 0
    # the activations' derivatives for all steps at once: i(1-i), f(1-f), 1-g^2, o(1-o)
    # as u + a (v - a), and 1 - tanh(c)^2
    u, v = _per_gate(hidden, dtype, 0, 1), _per_gate(hidden, dtype, 1, 0)
    slopes = v - gates
    slopes *= gates
    slopes += u
    tanh_slopes = tanh_c * tanh_c
    np.subtract(1, tanh_slopes, out=tanh_slopes)
    grad_h = np.zeros(dh.shape, dtype)
    for t in _steps(steps, not reverse):
        grad_h = grad_h + grad_out[t]
        i, f, g, o = (gates[t][:, k * hidden:(k + 1) * hidden] for k in range(4))
        tc = tanh_c[t]
        if w_hr is not None:
            mm(grad_h.T, o * tc, out=d_w_hr, accumulate=True)
            grad_h = mm(grad_h, w_hr)
        c_before = c0 if t == first else cells[t + 1 if reverse else t - 1]
        dg = d_gates[t]
        np.multiply(grad_h, tc, out=dg[:, 3 * hidden:])  # d o, before o's slope
        through = grad_h * o
        through *= tanh_slopes[t]
        dc += through
        np.multiply(dc, g, out=dg[:, :hidden])
        np.multiply(dc, c_before, out=dg[:, hidden:2 * hidden])
        np.multiply(dc, i, out=dg[:, 2 * hidden:3 * hidden])
        dg *= slopes[t]
        dc *= f
        grad_h = mm(dg, w_hh)
    dh[...] = grad_h


def lstm_forward(xw, w_hh_t, b_hh, h0, c0, gates, cells, tanh_c, h_prev, output, reverse):
    lstm_forward_loop(xw, w_hh_t, b_hh, h0, c0, gates, cells, tanh_c, h_prev, output, reverse)


def lstm_backward(grad_out, dc, gates, cells, tanh_c, c0, w_hh, d_gates, dh, reverse):
    lstm_backward_loop(grad_out, dc, gates, cells, tanh_c, c0, w_hh, d_gates, dh, reverse)


def gru_forward_loop(xw, w_hh_t, b_hh, h0, gates, hn, h_prev, output, reverse, mm=numpy_mm):
    """Fills gates (activated [r|z|n]), hn (h W_hn^T + b_hn of each step), h_prev and output
    over the steps of xw (L, N, 3H: x W_ih^T + b_ih), in reverse order if asked."""
    hidden = hn.shape[2]
    h = h0
    for t in _steps(xw.shape[0], reverse):
        h_prev[t] = h
        act = mm(h, w_hh_t, out=gates[t], bias=b_hh)  # h W_hh^T + b_hh, activated in place
        hn[t] = act[:, 2 * hidden:]
        sigmoid(xw[t][:, :2 * hidden] + act[:, :2 * hidden], act[:, :2 * hidden])
        r, z, n = (act[:, k * hidden:(k + 1) * hidden] for k in range(3))
        np.tanh(xw[t][:, 2 * hidden:] + r * hn[t], out=n)
        h = output[t] = (1 - z) * n + z * h


def gru_backward_loop(grad_out, gates, hn, h_prev, w_hh, d_xw, d_hw, dh, reverse, mm=numpy_mm):
    """Backpropagation through gru_forward_loop's steps: d_xw[t] and d_hw[t] = the gradients
    of step t's x W_ih^T + b_ih and h W_hh^T + b_hh (they differ in the n gate, where r
    scales the latter); dh ends as the gradient of h0."""
    steps, hidden = hn.shape[0], hn.shape[2]
    grad_h = np.zeros(dh.shape, gates.dtype)
    for t in _steps(steps, not reverse):
        grad_h = grad_h + grad_out[t]
        r, z, n = (gates[t][:, k * hidden:(k + 1) * hidden] for k in range(3))
        dn = grad_h * (1 - z) * (1 - n * n)
        dz = grad_h * (h_prev[t] - n) * z * (1 - z)
        dr = dn * hn[t] * r * (1 - r)
        dx, dhw = d_xw[t], d_hw[t]
        dx[:, :hidden] = dhw[:, :hidden] = dr
        dx[:, hidden:2 * hidden] = dhw[:, hidden:2 * hidden] = dz
        dx[:, 2 * hidden:] = dn
        dhw[:, 2 * hidden:] = dn * r
        grad_h = grad_h * z + mm(dhw, w_hh)
    dh[...] = grad_h


def gru_forward(xw, w_hh_t, b_hh, h0, gates, hn, h_prev, output, reverse):
    gru_forward_loop(xw, w_hh_t, b_hh, h0, gates, hn, h_prev, output, reverse)


def gru_backward(grad_out, gates, hn, h_prev, w_hh, d_xw, d_hw, dh, reverse):
    gru_backward_loop(grad_out, gates, hn, h_prev, w_hh, d_xw, d_hw, dh, reverse)
