"""The LSTM and GRU cells on the Numba backend: one fused @njit pass over a step's cells
(kernels/rnn_cells.h's formulas, with NumPy's tanh), compiled for float32 and float64, which
rnn_step_loops.py runs after each step's product with W_hh."""
import numpy as np
from numba import float32, float64, njit, void

_COMMON = dict(cache=True, fastmath={"contract"}, nogil=True)
_M, _M64 = float32[:, ::1], float64[:, ::1]


def _signatures(count):
    """A void kernel of `count` C-contiguous matrices, for both dtypes."""
    return [void(*([_M] * count)), void(*([_M64] * count))]


@njit([float32(float32), float64(float64)], **_COMMON)
def _sigmoid(x):
    """tanh(x/2)/2 + 1/2, the reference's formula (no exp(-x) to overflow)."""
    return np.tanh(np.float32(0.5) * x) * np.float32(0.5) + np.float32(0.5)


@njit(_signatures(6), **_COMMON)
def cell_forward(gates, xw, c_prev, c, tanh_c, h):
    hidden = c.shape[1]
    for n in range(c.shape[0]):
        for j in range(hidden):
            i = _sigmoid(gates[n, j] + xw[n, j])
            f = _sigmoid(gates[n, hidden + j] + xw[n, hidden + j])
            g = np.tanh(gates[n, 2 * hidden + j] + xw[n, 2 * hidden + j])
            o = _sigmoid(gates[n, 3 * hidden + j] + xw[n, 3 * hidden + j])
            gates[n, j], gates[n, hidden + j] = i, f
            gates[n, 2 * hidden + j], gates[n, 3 * hidden + j] = g, o
            cell = f * c_prev[n, j] + i * g
            tc = np.tanh(cell)
            c[n, j] = cell
            tanh_c[n, j] = tc
            h[n, j] = o * tc


@njit(_signatures(7), **_COMMON)
def cell_backward(gates, tanh_c, c_prev, grad_out, dh, dc, d_gates):
    hidden = dc.shape[1]
    one = np.float32(1)
    for n in range(dc.shape[0]):
        for j in range(hidden):
            i, f = gates[n, j], gates[n, hidden + j]
            g, o = gates[n, 2 * hidden + j], gates[n, 3 * hidden + j]
            tc = tanh_c[n, j]
            d = dh[n, j] + grad_out[n, j]
            d_gates[n, 3 * hidden + j] = (d * tc) * ((one - o) * o)
            cell_grad = dc[n, j] + (d * o) * (one - tc * tc)
            d_gates[n, j] = (cell_grad * g) * ((one - i) * i)
            d_gates[n, hidden + j] = (cell_grad * c_prev[n, j]) * ((one - f) * f)
            d_gates[n, 2 * hidden + j] = (cell_grad * i) * (one - g * g)
            dc[n, j] = cell_grad * f


@njit(_signatures(5), **_COMMON)
def gru_cell_forward(gates, xw, h_prev, hn, h):
    hidden = h.shape[1]
    one = np.float32(1)
    for n in range(h.shape[0]):
        for j in range(hidden):
            r = _sigmoid(xw[n, j] + gates[n, j])
            z = _sigmoid(xw[n, hidden + j] + gates[n, hidden + j])
            hw_n = gates[n, 2 * hidden + j]
            new = np.tanh(xw[n, 2 * hidden + j] + r * hw_n)
            gates[n, j], gates[n, hidden + j], gates[n, 2 * hidden + j] = r, z, new
            hn[n, j] = hw_n
            h[n, j] = (one - z) * new + z * h_prev[n, j]


@njit(_signatures(7), **_COMMON)
def gru_cell_backward(gates, hn, h_prev, grad_out, dh, d_xw, d_hw):
    hidden = dh.shape[1]
    one = np.float32(1)
    for n in range(dh.shape[0]):
        for j in range(hidden):
            r, z, new = gates[n, j], gates[n, hidden + j], gates[n, 2 * hidden + j]
            d = dh[n, j] + grad_out[n, j]
            dn = (d * (one - z)) * (one - new * new)
            dz = ((d * (h_prev[n, j] - new)) * z) * (one - z)
            dr = ((dn * hn[n, j]) * r) * (one - r)
            d_xw[n, j], d_xw[n, hidden + j], d_xw[n, 2 * hidden + j] = dr, dz, dn
            d_hw[n, j], d_hw[n, hidden + j], d_hw[n, 2 * hidden + j] = dr, dz, dn * r
            dh[n, j] = d * z
