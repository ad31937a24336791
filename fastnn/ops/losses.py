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
