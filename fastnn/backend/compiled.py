"""The compiled backend: the hand-written C kernels (kernels/) through their Cython wrappers."""
import numpy as np

from fastnn import _kernels
from fastnn.backend import rnn_step_loops
from fastnn.backend.reference_rnn import numpy_mm
from fastnn.backend.contract import KERNELS

NAME = "cython"

# The checked GEMM for the common call (validated in C; None: take the checked path).
gemm_if_valid = _kernels.gemm_if_valid
# A Linear+ReLU backward's mask and bias sums into new arrays, validated in C (or None).
relu_backward_bias_new = _kernels.relu_backward_bias_new
# Plain SGD over a list of parameters in one call, validated in C (or False).
sgd_steps_if_valid = _kernels.sgd_steps_if_valid
# The streaming kernels' entries that validate their own common call in C (backend._call).
VALIDATED = {k.name: getattr(_kernels, k.name + "_if_valid")
             for k in KERNELS if k.stream or k.name == "sum_all"}


# The bfloat16 GEMM (False where the CPU has no AVX512_BF16: backend.gemm_bf16 falls back).
gemm_bf16 = _kernels.gemm_bf16
gemm_bf16_storage = _kernels.gemm_bf16_storage
bf16_supported = _kernels.bf16_supported


def gemm(a, b, out, bias=None, relu=False, accumulate=False):
    _kernels.gemm(a, b, out, bias, relu, accumulate)
    return out


def sum_all(x, out):
    _kernels.sum_all(x.reshape(-1), out)
    return out


def copy_array(source, out):
    _kernels.copy_array(source.reshape(-1).view(np.uint8), out.reshape(-1).view(np.uint8))
    return out


def fill_rows(values, out):
    _kernels.fill_rows(np.ascontiguousarray(values), out)
    return out


def relu_forward(x, out):
    _kernels.relu_forward(x.reshape(-1), out.reshape(-1))
    return out


def relu_backward(x, grad_out, out):
    _kernels.relu_backward(x.reshape(-1), grad_out.reshape(-1), out.reshape(-1))
    return out


def relu_backward_bias(y, grad_out, out, bias_grad):
    _kernels.relu_backward_bias(y, grad_out, out, bias_grad)
    return out


def softmax_cross_entropy(logits, labels, losses, grad, grad_scale):
    bad = _kernels.softmax_cross_entropy(logits, labels, losses, grad, grad_scale)
    if bad:  # unreachable after checks.check_labels; kept so a bug cannot pass silently
        raise IndexError(f"{bad} target labels were out of range inside the kernel")
    return bad


def sgd_step(param, grad, buf, lr, weight_decay, momentum, dampening, nesterov, first):
    _kernels.sgd_step(param.reshape(-1), grad.reshape(-1),
                      None if buf is None else buf.reshape(-1), lr, weight_decay, momentum,
                      dampening, nesterov, first)


def _flat(a):
    return None if a is None else a.reshape(-1)


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step_size, inv_bc2_sqrt, beta1,
              beta2, eps, l2, decay):
    _kernels.adam_step(_flat(param), _flat(grad), _flat(exp_avg), _flat(exp_avg_sq),
                       _flat(max_exp_avg_sq), step_size, inv_bc2_sqrt, beta1, beta2, eps, l2,
                       decay)


def adagrad_step(param, grad, state_sum, clr, weight_decay, eps):
    _kernels.adagrad_step(_flat(param), _flat(grad), _flat(state_sum), clr, weight_decay, eps)


def rmsprop_step(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                 weight_decay, momentum):
    _kernels.rmsprop_step(_flat(param), _flat(grad), _flat(square_avg), _flat(grad_avg),
                          _flat(momentum_buffer), lr, alpha, eps, weight_decay, momentum)


def conv2d_forward(x, w, bias, y, shape, relu=False):
    _kernels.conv2d_forward(x, w, bias, y, shape, relu)


def conv2d_backward(x, w, gy, gx, gw, gb, shape, relu_output=None):
    _kernels.conv2d_backward(x, w, gy, gx, gw, gb, shape, relu_output)


def maxpool2d_forward(x, y, idx, shape):
    _kernels.maxpool2d_forward(x, y, idx, shape)


def maxpool2d_backward(gy, idx, gx, shape):
    _kernels.maxpool2d_backward(gy, idx, gx, shape)


def maxpool2x2_forward(x, y, code, shape):
    _kernels.maxpool2x2_forward(x, y, code, shape)


def maxpool2x2_backward(gy, code, gx, shape):
    _kernels.maxpool2x2_backward(gy, code, gx, shape)


def avgpool2d_forward(x, y, shape, count_include_pad):
    _kernels.avgpool2d_forward(x, y, shape, count_include_pad)


def avgpool2d_backward(gy, gx, shape, count_include_pad):
    _kernels.avgpool2d_backward(gy, gx, shape, count_include_pad)


def batchnorm_forward(x, gamma, beta, y, mean, var, training, eps):
    _kernels.batchnorm_forward(x, gamma, beta, y, mean, var, training, eps)


def batchnorm_backward(x, g, gamma, mean, var, gx, ggamma, gbeta, eps):
    _kernels.batchnorm_backward(x, g, gamma, mean, var, gx, ggamma, gbeta, eps)


def adadelta_step(param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay):
    _kernels.adadelta_step(_flat(param), _flat(grad), _flat(square_avg), _flat(acc_delta), lr,
                           rho, eps, weight_decay)


def adamax_step(param, grad, exp_avg, exp_inf, clr, beta1, beta2, eps, weight_decay):
    _kernels.adamax_step(_flat(param), _flat(grad), _flat(exp_avg), _flat(exp_inf), clr, beta1,
                         beta2, eps, weight_decay)


def nadam_step(param, grad, exp_avg, exp_avg_sq, grad_coef, avg_coef, beta1, beta2, inv_bc2,
               eps, weight_decay, decay):
    _kernels.nadam_step(_flat(param), _flat(grad), _flat(exp_avg), _flat(exp_avg_sq), grad_coef,
                        avg_coef, beta1, beta2, inv_bc2, eps, weight_decay, decay)


def radam_step(param, grad, exp_avg, exp_avg_sq, step_size, rect_scale, rectified, beta1, beta2,
               eps, weight_decay, decay):
    _kernels.radam_step(_flat(param), _flat(grad), _flat(exp_avg), _flat(exp_avg_sq), step_size,
                        rect_scale, rectified, beta1, beta2, eps, weight_decay, decay)


def lstm_forward(xw, w_hh_t, b_hh, h0, c0, gates, cells, tanh_c, h_prev, output, reverse):
    if cells.dtype == np.float64:
        # float64: the C cells step by step after NumPy's products (rnn_step_loops.py)
        return rnn_step_loops.lstm_forward(xw, w_hh_t, b_hh, h0, c0, gates, cells, tanh_c,
                                           h_prev, output, reverse, numpy_mm,
                                           _kernels.lstm_step_forward_f64)
    _kernels.lstm_forward(xw, w_hh_t, b_hh, h0, c0, gates, cells, tanh_c, h_prev, output, reverse)


def lstm_backward(grad_out, dc, gates, cells, tanh_c, c0, w_hh, d_gates, dh, reverse):
    if cells.dtype == np.float64:
        return rnn_step_loops.lstm_backward(grad_out, dc, gates, cells, tanh_c, c0, w_hh,
                                            d_gates, dh, reverse, numpy_mm,
                                            _kernels.lstm_step_backward_f64)
    _kernels.lstm_backward(grad_out, dc, gates, cells, tanh_c, c0, w_hh, d_gates, dh, reverse)


def gru_forward(xw, w_hh_t, b_hh, h0, gates, hn, h_prev, output, reverse):
    if hn.dtype == np.float64:
        return rnn_step_loops.gru_forward(xw, w_hh_t, b_hh, h0, gates, hn, h_prev, output,
                                          reverse, numpy_mm, _kernels.gru_step_forward_f64)
    _kernels.gru_forward(xw, w_hh_t, b_hh, h0, gates, hn, h_prev, output, reverse)


def gru_backward(grad_out, gates, hn, h_prev, w_hh, d_xw, d_hw, dh, reverse):
    if hn.dtype == np.float64:
        return rnn_step_loops.gru_backward(grad_out, gates, hn, h_prev, w_hh, d_xw, d_hw, dh,
                                           reverse, numpy_mm, _kernels.gru_step_backward_f64)
    _kernels.gru_backward(grad_out, gates, hn, h_prev, w_hh, d_xw, d_hw, dh, reverse)
