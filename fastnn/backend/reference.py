"""The NumPy reference backend: the readable definition of every kernel and the test oracle.

Same contract as the compiled and Numba backends (see fastnn/backend/__init__.py): inputs are
already validated; results go into the given output arrays.
"""
import numpy as np

NAME = "numpy"

from fastnn.backend.reference_conv import (avgpool2d_backward, avgpool2d_forward,  # noqa: E402,F401
                                           batchnorm_backward, batchnorm_forward,
                                           conv2d_backward, conv2d_forward, maxpool2d_backward,
                                           maxpool2d_forward, maxpool2x2_backward,
                                           maxpool2x2_forward)
from fastnn.backend.reference_rnn import (gru_backward, gru_forward, lstm_backward,  # noqa: E402,F401
                                          lstm_forward)


def gemm(a, b, out, bias=None, relu=False, accumulate=False):
    product = np.matmul(a, b, dtype=np.float32)
    if accumulate:
        product += out
    if bias is not None:
        product += bias
    if relu:
        np.maximum(product, np.float32(0), out=product)  # propagates NaN, as torch.relu
    out[...] = product
    return out


def sum_all(x, out):
    """The exact sum (float64 accumulation), rounded once to float32."""
    out[0] = np.float32(np.sum(x, dtype=np.float64))
    return out


def copy_array(source, out):
    np.copyto(out, source)
    return out


def fill_rows(values, out):
    out[...] = values[:, None]
    return out


def relu_forward(x, out):
    return np.maximum(x, np.float32(0), out=out)  # propagates NaN, as torch.relu


def relu_backward(x, grad_out, out):
    """grad_out where x > 0, else exactly 0 (even where grad_out is NaN or inf, as torch)."""
    out[...] = 0
    np.copyto(out, grad_out, where=x > 0)
    return out


def relu_backward_bias(y, grad_out, out, bias_grad):
    """out = grad_out where y > 0; bias_grad = out summed over rows (if not None)."""
    relu_backward(y, grad_out, out)
    if bias_grad is not None:
        bias_grad[...] = out.sum(axis=0, dtype=np.float32)
    return out


def softmax_cross_entropy(logits, labels, losses, grad, grad_scale):
    """loss = logsumexp(x) - x[y], in float64; grad = scale * (softmax(x) - onehot(y))."""
    n_rows = logits.shape[0]
    if n_rows == 0:
        return 0
    x = logits.astype(np.float64)
    row_max = x.max(axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):  # inf - inf in a row of infinities: NaN, as torch
        shifted = np.exp(x - row_max)
    total = shifted.sum(axis=1, keepdims=True)
    rows = np.arange(n_rows)
    losses[...] = (np.log(total[:, 0]) + row_max[:, 0] - x[rows, labels]).astype(np.float32)
    if grad is not None:
        g = shifted / total
        g[rows, labels] -= 1.0
        grad[...] = (g * grad_scale).astype(np.float32)
    return 0


def sgd_step(param, grad, buf, lr, weight_decay, momentum, dampening, nesterov, first):
    """torch.optim.SGD's update of `param` in place (buf: momentum buffer or None)."""
    d = grad + np.float32(weight_decay) * param if weight_decay else grad
    if buf is not None:
        if first:
            buf[...] = d
        else:
            buf *= np.float32(momentum)
            buf += np.float32(1 - dampening) * d
        d = d + np.float32(momentum) * buf if nesterov else buf
    param -= np.float32(lr) * d


def adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step_size, inv_bc2_sqrt, beta1,
              beta2, eps, l2, decay):
    """Adam/AdamW in place (see kernels/optimizers.c for the formula)."""
    f32 = np.float32
    g = grad + f32(l2) * param if l2 else grad
    exp_avg *= f32(beta1)
    exp_avg += f32(1 - beta1) * g
    exp_avg_sq *= f32(beta2)
    exp_avg_sq += f32(1 - beta2) * g * g
    second = exp_avg_sq
    if max_exp_avg_sq is not None:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second = max_exp_avg_sq
    denom = np.sqrt(second) * f32(inv_bc2_sqrt) + f32(eps)
    if decay != 1.0:
        param *= f32(decay)
    param -= f32(step_size) * exp_avg / denom


def adagrad_step(param, grad, state_sum, clr, weight_decay, eps):
    f32 = np.float32
    g = grad + f32(weight_decay) * param if weight_decay else grad
    state_sum += g * g
    param -= f32(clr) * g / (np.sqrt(state_sum) + f32(eps))


def rmsprop_step(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                 weight_decay, momentum):
    f32 = np.float32
    g = grad + f32(weight_decay) * param if weight_decay else grad
    square_avg *= f32(alpha)
    square_avg += f32(1 - alpha) * g * g
    var = square_avg
    if grad_avg is not None:
        grad_avg *= f32(alpha)
        grad_avg += f32(1 - alpha) * g
        var = square_avg - grad_avg * grad_avg
    avg = np.sqrt(var) + f32(eps)
    if momentum_buffer is not None:
        momentum_buffer *= f32(momentum)
        momentum_buffer += g / avg
        param -= f32(lr) * momentum_buffer
    else:
        param -= f32(lr) * g / avg


def adadelta_step(param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay):
    f32 = np.float32
    g = grad + f32(weight_decay) * param if weight_decay else grad
    square_avg *= f32(rho)
    square_avg += f32(1 - rho) * g * g
    delta = np.sqrt(acc_delta + f32(eps)) / np.sqrt(square_avg + f32(eps)) * g
    acc_delta *= f32(rho)
    acc_delta += f32(1 - rho) * delta * delta
    param -= f32(lr) * delta


def adamax_step(param, grad, exp_avg, exp_inf, clr, beta1, beta2, eps, weight_decay):
    f32 = np.float32
    g = grad + f32(weight_decay) * param if weight_decay else grad
    exp_avg *= f32(beta1)
    exp_avg += f32(1 - beta1) * g
    np.maximum(exp_inf * f32(beta2), np.abs(g) + f32(eps), out=exp_inf)
    param -= f32(clr) * exp_avg / exp_inf


def _adam_moments(param, grad, exp_avg, exp_avg_sq, beta1, beta2, weight_decay, decay):
    f32 = np.float32
    if decay != 1.0:
        param *= f32(decay)
    g = grad + f32(weight_decay) * param if weight_decay else grad
    exp_avg *= f32(beta1)
    exp_avg += f32(1 - beta1) * g
    exp_avg_sq *= f32(beta2)
    exp_avg_sq += f32(1 - beta2) * g * g
    return g


def nadam_step(param, grad, exp_avg, exp_avg_sq, grad_coef, avg_coef, beta1, beta2, inv_bc2,
               eps, weight_decay, decay):
    f32 = np.float32
    g = _adam_moments(param, grad, exp_avg, exp_avg_sq, beta1, beta2, weight_decay, decay)
    d = np.sqrt(exp_avg_sq * f32(inv_bc2)) + f32(eps)
    param -= f32(grad_coef) * g / d + f32(avg_coef) * exp_avg / d


def radam_step(param, grad, exp_avg, exp_avg_sq, step_size, rect_scale, rectified, beta1,
               beta2, eps, weight_decay, decay):
    f32 = np.float32
    _adam_moments(param, grad, exp_avg, exp_avg_sq, beta1, beta2, weight_decay, decay)
    scale = f32(rect_scale) / (np.sqrt(exp_avg_sq) + f32(eps)) if rectified else f32(1)
    param -= f32(step_size) * exp_avg * scale
