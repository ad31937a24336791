"""Losses built from differentiable ops (and one stable fused op for BCE-with-logits), with
PyTorch's reductions. Cross-entropy without label smoothing uses the fused kernel
(fastnn/ops/loss.py)."""
import warnings

import numpy as np

from fastnn import amp
from fastnn.autograd.function import Function
from fastnn.backend import checks
from fastnn.ops.broadcast import unbroadcast
from fastnn.tensor import Tensor

REDUCTIONS = ("none", "mean", "sum")


def legacy_reduction(size_average, reduce, reduction):
    """The reduction, as torch reads it: `reduction` unless the deprecated size_average or
    reduce is given; then each None counts as True, reduce=False gives 'none', else
    size_average picks 'mean' or 'sum', and torch's warning says so."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn("size_average and reduce args will be deprecated, please use "
                  f"reduction='{reduction}' instead.", stacklevel=3)
    return reduction


def reduce(loss, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _warn_if_broadcast(input, target):
    """torch's regression losses broadcast a target of another size, with this warning (a
    (N, 1) prediction against an (N,) target becomes N x N)."""
    if tuple(input.shape) != tuple(target.shape):
        warnings.warn(f"Using a target size ({target.shape!r}) that is different to the input "
                      f"size ({input.shape!r}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.", stacklevel=3)


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


class MseLoss(Function):
    """(input - target)^2, reduced: one node, as torch's MseLossBackward0 (the blitz tutorial
    walks loss.grad_fn.next_functions from it)."""
    backward_name = "MseLossBackward0"

    @staticmethod
    def forward(ctx, input, target, reduction):
        diff = np.subtract(input, target)
        ctx.save_for_backward(diff)
        ctx.meta = (np.shape(input), np.shape(target), reduction)
        squared = diff * diff
        if reduction == "none":
            return squared
        total = squared.sum() if reduction == "sum" else squared.mean()  # (mean of none: nan)
        return np.asarray(total, dtype=squared.dtype)

    @staticmethod
    def backward(ctx, g):
        (diff,) = ctx.saved_tensors
        in_shape, target_shape, reduction = ctx.meta
        scale = 2.0 / diff.size if reduction == "mean" and diff.size else 2.0
        grad = (np.asarray(g) * np.asarray(scale, dtype=diff.dtype) * diff).astype(diff.dtype,
                                                                                   copy=False)
        need_input, need_target = ctx.needs_input_grad[:2]
        return (unbroadcast(grad, in_shape) if need_input else None,
                unbroadcast(-grad, target_shape) if need_target else None, None)


@amp.float32_inputs
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _tensor(target)
    _warn_if_broadcast(input, target)
    if weight is None and reduction in ("mean", "sum", "none"):
        from fastnn.ops.broadcast import promote
        a, b = promote(input, target)  # torch's result dtype (float32 - int64 is float32)
        if a.dtype.is_floating_point:
            return MseLoss.apply(a, b, reduction)
    diff = input - target
    return _weighted(diff * diff, weight, input, reduction)


@amp.float32_inputs
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _tensor(target)
    _warn_if_broadcast(input, target)
    return _weighted((input - target).abs(), weight, input, reduction)


def _weighted(loss, weight, input, reduction):
    """torch's per-element weights of mse_loss / l1_loss: 'mean' divides by their sum."""
    if weight is None:
        return _reduction(loss, reduction)
    weight = _tensor(weight)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduction(loss, reduction)


class BCEWithLogits(Function):
    """max(x, 0) - x*y + log(1 + exp(-|x|)): never exponentiates a positive number, so large
    logits of either sign stay finite. d/dx = sigmoid(x) - y."""
    backward_name = "BinaryCrossEntropyWithLogitsBackward0"
    tangent_rule = "elementwise"  # forward AD: sums dy/da_i * v_i


    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        ctx.shapes = (np.shape(x), np.shape(y))
        loss = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
        # float64 operands give a float64 loss (torch)
        return loss.astype(np.result_type(x, y), copy=False)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        e = np.exp(-np.abs(x))
        sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
        need_x, need_y = ctx.needs_input_grad
        gx = unbroadcast((g * (sig - y)).astype(x.dtype), ctx.shapes[0]) if need_x else None
        gy = unbroadcast((-g * x).astype(y.dtype), ctx.shapes[1]) if need_y else None
        return gx, gy


@amp.float32_inputs
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """torch's: weight scales each element's loss; pos_weight (broadcast with the target, so
    one per class along the last dimension) scales the positive term,
    loss = weight * (pos_weight * y * softplus(-x) + (1 - y) * softplus(x)), composed from
    differentiable ops; without it the fused, overflow-free BCEWithLogits."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _tensor(target)
    if not target.dtype.is_floating_point:
        target = target.float()
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"Target size ({target.shape!r}) must be the same as input size "
                         f"({input.shape!r})")
    if pos_weight is None:
        loss = BCEWithLogits.apply(input, target)
    else:
        from fastnn.ops.nonlinearities import softplus
        loss = (1.0 - target) * softplus(input) + _tensor(pos_weight) * target * softplus(-input)
    if weight is not None:
        loss = loss * _tensor(weight)
    return _reduction(loss, reduction)


def _class_last(input):
    """(N, C, d1, ...) or (N, C) or (C,) log-probabilities as (rows, C)."""
    if input.ndim == 1:
        return input.unsqueeze(0)
    if input.ndim > 2:
        order = (0,) + tuple(range(2, input.ndim)) + (1,)
        return input.permute(order).reshape(-1, input.shape[1])
    return input


@amp.float32_inputs
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """-weight[t] * input[i, t] for log-probabilities input (N, C[, d...]) and class indices t;
    rows whose target is ignore_index count for nothing, and 'mean' divides by the summed
    weights of the rows that count, as torch's."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    labels = target._data if isinstance(target, Tensor) else np.asarray(target)
    if labels.dtype not in (np.int64, np.uint8):  # torch takes Long or Byte class indices
        raise RuntimeError("expected target dtype to be Long or Byte, but got "
                           f"{Tensor._wrap(labels).dtype.title}")
    rows = _class_last(input)
    n_classes = rows.shape[1]
    flat = labels.reshape(-1).astype(np.int64)
    if input.ndim >= 2 and labels.shape != (input.shape[0],) + tuple(input.shape[2:]):
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({labels.shape[0] if labels.ndim else 1}).")
    counted = flat != ignore_index
    bad = flat[counted & ((flat < 0) | (flat >= n_classes))]
    if bad.size:
        raise IndexError(f"Target {int(bad[0])} is out of bounds.")
    safe = np.where(counted, flat, 0)
    picked = rows[Tensor._wrap(np.arange(rows.shape[0])), Tensor._wrap(safe)]
    w = np.ones(n_classes, np.float64) if weight is None else np.asarray(
        weight._data if isinstance(weight, Tensor) else weight, np.float64)
    if w.shape != (n_classes,):
        raise RuntimeError(f"weight tensor should be defined either for all {n_classes} classes "
                           f"or no classes but got weight tensor of shape: {list(w.shape)}")
    row_weight = np.where(counted, w[safe], 0.0).astype(rows._data.dtype)
    losses = -picked * Tensor._wrap(row_weight)
    if reduction == "none":
        return losses.reshape(labels.shape) if input.ndim != 1 else losses.reshape(())
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":
        return losses.sum() / float(row_weight.sum(dtype=np.float64))
    raise ValueError(f"{reduction} is not a valid value for reduction")


def cross_entropy_general(input, target, weight, ignore_index, reduction, label_smoothing):
    """cross_entropy with class weights, ignored targets, class-probability targets or label
    smoothing, composed from log_softmax as torch defines it."""
    from fastnn.ops.activation import log_softmax
    dim = 0 if input.ndim == 1 else 1
    logp = log_softmax(input, dim)
    n_classes = input.shape[dim]
    if isinstance(target, Tensor) and target._data.dtype.kind == "f":
        if tuple(target.shape) != tuple(input.shape):
            if target.ndim == input.ndim - 1:  # class indices given as floats: torch's words
                raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                                   f"{target.dtype.title}")
            raise RuntimeError(f"Expected target size {list(input.shape)}, got "
                               f"{list(target.shape)}")
        probs = target * (1 - label_smoothing) + label_smoothing / n_classes
        per_class = logp * probs
        if weight is not None:
            per_class = per_class * weight.reshape((-1,) + (1,) * (input.ndim - 2)) \
                if input.ndim > 1 else per_class * weight
        return reduce(-per_class.sum(dim), reduction)  # 'mean': over the rows, as torch
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if not label_smoothing:
        return nll
    # torch: (1 - eps) * nll + eps * smooth, smooth = sum_c w_c (-logp_c) / C per counted row
    labels = target._data if isinstance(target, Tensor) else np.asarray(target)
    rows = _class_last(logp)
    counted = (labels.reshape(-1) != ignore_index).astype(rows._data.dtype)
    w = None if weight is None else (weight if isinstance(weight, Tensor) else Tensor(weight))
    per_row = -(rows * w).sum(1) if w is not None else -rows.sum(1)
    per_row = per_row * Tensor._wrap(counted) / n_classes
    if reduction == "none":
        smooth = per_row.reshape(labels.shape) if input.ndim != 1 else per_row.reshape(())
    elif reduction == "sum":
        smooth = per_row.sum()
    else:
        safe = np.where(counted > 0, labels.reshape(-1), 0).astype(np.int64)
        denominator = counted.sum() if weight is None else float(
            (np.asarray(w._data, np.float64)[safe] * counted).sum())
        smooth = per_row.sum() / float(denominator)
    return nll * (1 - label_smoothing) + smooth * label_smoothing


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


@amp.float32_inputs
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-(t log p + (1 - t) log(1 - p)), each log clamped at -100 as torch's (a p of exactly 0
    or 1 gives a finite loss)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
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


@amp.float32_inputs
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    reduction = legacy_reduction(size_average, reduce, reduction)
    from fastnn.ops import elementwise
    _warn_if_broadcast(input, _tensor(target))
    diff = elementwise.abs(input - target)
    if beta == 0.0:
        return _reduction(diff, reduction)
    quadratic = 0.5 * diff * diff / beta
    return _reduction(elementwise.where(diff < beta, quadratic, diff - 0.5 * beta), reduction)


@amp.float32_inputs
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    from fastnn.ops import elementwise
    _warn_if_broadcast(input, _tensor(target))
    diff = elementwise.abs(input - target)
    quadratic = 0.5 * diff * diff
    loss = elementwise.where(diff < delta, quadratic, delta * (diff - 0.5 * delta))
    if weight is not None:
        loss = loss * weight
    return _reduction(loss, reduction)


@amp.float32_inputs
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """target * (log target - input), input being log-probabilities; 0 log 0 = 0."""
    if size_average is None and reduce is None and reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", UserWarning,
                      stacklevel=3)  # (past amp's float32 wrapper, to the caller)
    reduction = legacy_reduction(size_average, reduce, reduction)
    from fastnn.ops import elementwise
    if log_target:
        loss = elementwise.exp(target) * (target - input)
    else:
        safe = elementwise.where(target > 0, target, 1.0)
        loss = elementwise.where(target > 0, target * elementwise.log(safe), 0.0) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduction(loss, reduction)
