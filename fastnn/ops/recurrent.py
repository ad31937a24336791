"""One direction of one recurrent layer (Elman RNN, LSTM, GRU) as a single autograd op.

The input's contribution to every gate, x_t W_ih^T + b_ih, is one GEMM over all L*N rows;
only h_{t-1} W_hh^T stays inside the time loop. Backward is hand-written backpropagation
through time: the gate gradients of all steps are collected in one (L, N, G) array, so the
input and weight gradients are again single GEMMs (dW_hh = sum_t dG_t^T h_{t-1} as one product
of (L*N)-row matrices). This is how cuDNN and oneDNN lay out their RNN primitives. The time
loops of float32 and float64 LSTM and GRU layers run in the backend's lstm_* / gru_* kernels
(C: kernels/rnn.c, kernels/rnn_f64.c); the others in reference_rnn's NumPy loops (the kernels'
reference). Built from
per-step autograd ops instead, each x[t] would backpropagate a zero-filled copy of the whole
sequence, L^2 work per layer.

Gate orders and formulas are torch's (torch.nn.LSTM / GRU documentation):
  LSTM  [i, f, g, o]:  c = f*c + i*g,  h = o*tanh(c)  (then h W_hr^T with proj_size)
  GRU   [r, z, n]:     n = tanh(x_n + r*(h W_hn^T + b_hn)),  h = (1-z)*n + z*h
  RNN:                 h = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)  (or relu)

The op returns one flat array, [output (L, N, H_out) | c_n (N, H)] for an LSTM, because an
autograd Function here has one output; the module splits it with views."""
import numpy as np

from fastnn import backend
from fastnn.backend import reference_rnn
from fastnn.autograd.function import Function, presented


GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _kernel_applies(dtype, w_hr):
    """The backend's LSTM and GRU kernels take float32 and float64 layers (an LSTM without
    proj_size); the rest runs the NumPy loops of reference_rnn with fastnn's GEMM."""
    return (dtype == np.float32 or dtype == np.float64) and w_hr is None


class RecurrentLayer(Function):
    backward_name = "RecurrentLayerBackward0"

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, reverse, cell=False):
        ctx.x_shape = x.shape
        if cell:  # one step of an RNNCell / GRUCell / LSTMCell: x is (N, H_in)
            x = x[None]
        steps, batch, _ = x.shape
        hidden = w_hh.shape[1] if w_hr is None else w_hr.shape[1]
        out_size = h0.shape[1]
        dtype = x.dtype
        x2 = x.reshape(steps * batch, x.shape[2])
        xw = backend.product(x2, w_ih.T, bias=b_ih).reshape(steps, batch, w_ih.shape[0])
        # One row-major copy of W_hh^T per sequence: with few rows the GEMM reads B in place,
        # and a row-major B takes its axpy form, 1.6x the dot form that W_hh.T (a transposed
        # view) gets at 8 to 64 rows (Zen 4, 200 x 800: 93 against 150 us at 32 rows, 1
        # thread); from 96 rows, packed, the two are even.
        w_hh_t = np.ascontiguousarray(w_hh.T) if steps > 2 else w_hh.T
        order = range(steps - 1, -1, -1) if reverse else range(steps)
        out = np.empty(steps * batch * out_size + (batch * hidden if mode == "LSTM" else 0),
                       dtype)
        output = out[:steps * batch * out_size].reshape(steps, batch, out_size)
        # h_{t-1} of each step, in time order: the rows of dW_hh's product in backward
        h_prev = np.empty((steps, batch, out_size), dtype)
        saved = {}
        h = h0
        if mode == "LSTM":
            gates = np.empty((steps, batch, 4 * hidden), dtype)  # activated i, f, g, o
            cells = np.empty((steps, batch, hidden), dtype)  # c_t
            tanh_c = np.empty((steps, batch, hidden), dtype)
            arrays = (xw, w_hh_t, b_hh, np.ascontiguousarray(h0), np.ascontiguousarray(c0), gates,
                      cells, tanh_c, h_prev, output, reverse)
            if _kernel_applies(dtype, w_hr):
                backend.lstm_forward(*arrays[:1], np.ascontiguousarray(w_hh_t), *arrays[2:])
            else:
                reference_rnn.lstm_forward_loop(*arrays, w_hr=w_hr, mm=backend.product)
            if steps:
                out[steps * batch * out_size:] = cells[0 if reverse else -1].reshape(-1)
            else:
                out[steps * batch * out_size:] = c0.reshape(-1)
            saved = dict(gates=gates, cells=cells, tanh_c=tanh_c, c0=arrays[4])
        elif mode == "GRU":
            gates = np.empty((steps, batch, 3 * hidden), dtype)  # activated r, z, n
            hn = np.empty((steps, batch, hidden), dtype)  # h W_hn^T + b_hn, before r*
            arrays = (xw, w_hh_t, b_hh, np.ascontiguousarray(h0), gates, hn, h_prev, output,
                      reverse)
            if _kernel_applies(dtype, w_hr):
                backend.gru_forward(*arrays[:1], np.ascontiguousarray(w_hh_t), *arrays[2:])
            else:
                reference_rnn.gru_forward_loop(*arrays, mm=backend.product)
            saved = dict(gates=gates, hn=hn)
        else:
            for t in order:
                h_prev[t] = h
                pre = backend.product(h, w_hh_t, bias=b_hh)
                pre += xw[t]
                h = output[t] = np.tanh(pre) if mode == "RNN_TANH" else np.maximum(pre, 0)
        ctx.save_for_backward(x, w_ih, w_hh, w_hr)
        ctx.saved = saved
        ctx.h_prev, ctx.output = h_prev, output
        ctx.meta = (mode, reverse, b_ih is not None, b_hh is not None)
        if cell:  # h (N, H) itself, or [h | c] as (2, N, H) (recurrent_cell)
            return out.reshape(2, batch, hidden) if mode == "LSTM" else out.reshape(batch,
                                                                                    out_size)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, w_ih, w_hh, w_hr = ctx.saved_tensors
        mode, reverse, has_b_ih, has_b_hh = ctx.meta
        h_prev, output, saved = ctx.h_prev, ctx.output, ctx.saved
        steps, batch, out_size = output.shape
        hidden = w_hh.shape[1] if w_hr is None else w_hr.shape[1]
        dtype = output.dtype
        grad = grad.reshape(-1)  # (a cell's output is shaped; the layer's is flat)
        grad_out = grad[:steps * batch * out_size].reshape(steps, batch, out_size)
        gates_n = GATES[mode] * hidden
        d_xw = np.empty((steps, batch, gates_n), dtype)  # d(x W_ih^T + b_ih) per step
        # d(h W_hh^T + b_hh): the same as d_xw except for the GRU's n gate
        d_hw = d_xw if mode != "GRU" else np.empty((steps, batch, gates_n), dtype)
        order = range(steps) if reverse else range(steps - 1, -1, -1)
        dh = np.zeros((batch, out_size), dtype)
        dc = None
        d_w_hr = None
        if mode == "LSTM":
            gates, cells, tanh_c, c0 = (saved[k] for k in ("gates", "cells", "tanh_c", "c0"))
            dc = grad[steps * batch * out_size:].reshape(batch, hidden).astype(dtype, copy=True)
            dh = np.empty((batch, out_size), dtype)
            arrays = (np.ascontiguousarray(grad_out), dc, gates, cells, tanh_c, c0,
                      np.ascontiguousarray(w_hh), d_xw, dh, reverse)
            if _kernel_applies(dtype, w_hr):
                backend.lstm_backward(*arrays)
            else:
                d_w_hr = None if w_hr is None else np.zeros_like(w_hr)
                reference_rnn.lstm_backward_loop(*arrays, w_hr=w_hr, d_w_hr=d_w_hr,
                                                 mm=backend.product)
        elif mode == "GRU":
            dh = np.empty((batch, out_size), dtype)
            arrays = (np.ascontiguousarray(grad_out), saved["gates"], saved["hn"], h_prev,
                      np.ascontiguousarray(w_hh), d_xw, d_hw, dh, reverse)
            if _kernel_applies(dtype, w_hr):
                backend.gru_backward(*arrays)
            else:
                reference_rnn.gru_backward_loop(*arrays, mm=backend.product)
        else:
            for t in order:
                dh = dh + grad_out[t]
                h = output[t]
                d_xw[t] = dh * (1 - h * h) if mode == "RNN_TANH" else dh * (h > 0)
                dh = backend.product(d_xw[t], w_hh)
        need = ctx.needs_input_grad
        rows = steps * batch
        dx2, dhw2 = d_xw.reshape(rows, gates_n), d_hw.reshape(rows, gates_n)
        grad_x = backend.product(dx2, w_ih).reshape(ctx.x_shape) if need[0] else None
        grad_w_ih = backend.product(dx2.T, x.reshape(rows, x.shape[2])) if need[3] else None
        grad_w_hh = (backend.product(dhw2.T, h_prev.reshape(rows, out_size))
                     if need[4] else None)
        grad_b_ih = dx2.sum(0) if has_b_ih and need[5] else None
        grad_b_hh = dhw2.sum(0) if has_b_hh and need[6] else None
        return (grad_x, dh if need[1] else None, dc if need[2] else None, grad_w_ih,
                grad_w_hh, grad_b_ih, grad_b_hh, d_w_hr if need[7] else None, None, None, None)


def recurrent_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, reverse):
    """(output (L, N, H_out), h_n, c_n or None) of one layer direction over x (L, N, H_in)."""
    flat = RecurrentLayer.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mode, reverse, False)
    steps, batch = x.shape[:2]
    out_size = h0.shape[-1]
    split = steps * batch * out_size
    output = (flat[:split] if mode == "LSTM" else flat).reshape(steps, batch, out_size)
    h_n = output[0] if reverse else output[-1]
    if steps == 0:
        h_n = h0
    c_n = flat[split:].reshape(batch, c0.shape[-1]) if mode == "LSTM" else None
    return output, h_n, c_n


# The grad_fn torch's cells give their results on the CPU (aten's lstm_cell / gru_cell /
# rnn_tanh_cell end in these ops), so a cell's graph reads as torch's.
_CELL_NODE_NAMES = {"LSTM": ("MulBackward0", "AddBackward0"), "GRU": ("AddBackward0",),
                    "RNN_TANH": ("TanhBackward0",), "RNN_RELU": ("ReluBackward0",)}


def recurrent_cell(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode):
    """(h (N, H), c or None) of one step from x (N, H_in): the layer op on a sequence of one,
    its result shaped by the op itself (a layer's flat result took five view ops to split,
    a fifth of a small LSTMCell's forward and backward)."""
    out = RecurrentLayer.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, None, mode, False, True)
    names = _CELL_NODE_NAMES[mode]
    if mode != "LSTM":
        return presented(out, names[0]), None
    return presented(out[0], names[0]), presented(out[1], names[1])
