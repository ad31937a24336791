"""The NumPy reference backend: the readable definition of every kernel and the test oracle.

Same contract as the compiled and Numba backends (see fastnn/backend/__init__.py): inputs are
already validated; results go into the given output arrays.
"""
import numpy as np

NAME = "numpy"


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
