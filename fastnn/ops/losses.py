"""Losses built from differentiable ops (and one stable fused op for BCE-with-logits), with
PyTorch's reductions. Cross-entropy without label smoothing uses the fused kernel
(fastnn/ops/loss.py)."""
import numpy as np

from fastnn.autograd.function import Function
from fastnn.backend import checks
from fastnn.ops.broadcast import unbroadcast
from fastnn.tensor import Tensor

REDUCTIONS = ("none", "mean", "sum")


def reduce(loss, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _same_shape(input, target, name):
    if input.shape != target.shape:
        raise ValueError(f"{name}: Using a target size ({tuple(target.shape)}) that is different "
                         f"to the input size ({tuple(input.shape)}). This will likely lead to "
                         "incorrect results due to broadcasting. Please ensure they have the "
                         "same size.")


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def mse_loss(input, target, reduction="mean"):
    target = _tensor(target)
    _same_shape(input, target, "mse_loss")
    diff = input - target
    return reduce(diff * diff, reduction)


def l1_loss(input, target, reduction="mean"):
    target = _tensor(target)
    _same_shape(input, target, "l1_loss")
    return reduce((input - target).abs(), reduction)


class BCEWithLogits(Function):
    """max(x, 0) - x*y + log(1 + exp(-|x|)): never exponentiates a positive number, so large
    logits of either sign stay finite. d/dx = sigmoid(x) - y."""
    backward_name = "BinaryCrossEntropyWithLogitsBackward0"


    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        ctx.shapes = (np.shape(x), np.shape(y))
        loss = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
        return loss.astype(np.float32)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        e = np.exp(-np.abs(x))
        sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        need_x, need_y = ctx.needs_input_grad
        gx = unbroadcast((g * (sig - y)).astype(np.float32), ctx.shapes[0]) if need_x else None
        gy = unbroadcast((-g * x).astype(np.float32), ctx.shapes[1]) if need_y else None
        return gx, gy


def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    target = _tensor(target).float()
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    return reduce(BCEWithLogits.apply(input, target), reduction)


def nll_loss(input, target, reduction="mean"):
    """-input[i, target[i]] for log-probabilities input (N, C) and class indices target."""
    labels = target._data if isinstance(target, Tensor) else np.asarray(target)
    if input.ndim == 1:
        input, labels = input.unsqueeze(0), np.reshape(labels, (1,))
    if input.ndim != 2:
        raise ValueError(f"nll_loss expects (N, C) input, got {tuple(input.shape)}")
    checks.check_labels(labels, input.shape[0], input.shape[1])
    picked = input[np.arange(input.shape[0]), labels.astype(np.int64)]
    return reduce(-picked, reduction)


def cross_entropy_smoothed(input, target, reduction, label_smoothing):
    """(1 - eps) * NLL(log_softmax(x), y) + eps * mean_k(-log_softmax(x)_k), as torch."""
    from fastnn.ops.activation import log_softmax
    logp = log_softmax(input, dim=-1 if input.ndim == 1 else 1)
    nll = nll_loss(logp, target, reduction="none")
    smooth = -logp.mean(dim=-1 if input.ndim == 1 else 1)
    return reduce(nll * (1 - label_smoothing) + smooth * label_smoothing, reduction)



_reduction = reduce  # the losses below take torch's legacy `reduce` argument


def _same_size(input, target, name):
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the same "
                         f"size.")


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-(t log p + (1 - t) log(1 - p)), each log clamped at -100 as torch's (a p of exactly 0
    or 1 gives a finite loss)."""
    from fastnn.ops import elementwise
    _same_size(input, target, "binary_cross_entropy")
    if ((input._data < 0) | (input._data > 1)).any():
        raise RuntimeError("all elements of input should be between 0 and 1")
    log_p = elementwise.clamp(elementwise.log(input), min=-100.0)
    log_q = elementwise.clamp(elementwise.log(1.0 - input), min=-100.0)
    loss = -(target * log_p + (1.0 - target) * log_q)
    if weight is not None:
        loss = loss * weight
    return _reduction(loss, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    from fastnn.ops import elementwise
    diff = elementwise.abs(input - target)
    if beta == 0.0:
        return _reduction(diff, reduction)
    quadratic = 0.5 * diff * diff / beta
    return _reduction(elementwise.where(diff < beta, quadratic, diff - 0.5 * beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    from fastnn.ops import elementwise
    diff = elementwise.abs(input - target)
    quadratic = 0.5 * diff * diff
    loss = elementwise.where(diff < delta, quadratic, delta * (diff - 0.5 * delta))
    if weight is not None:
        loss = loss * weight
    return _reduction(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """target * (log target - input), input being log-probabilities; 0 log 0 = 0."""
    from fastnn.ops import elementwise
    if log_target:
        loss = elementwise.exp(target) * (target - input)
    else:
        safe = elementwise.where(target > 0, target, 1.0)
        loss = elementwise.where(target > 0, target * elementwise.log(safe), 0.0) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduction(loss, reduction)
