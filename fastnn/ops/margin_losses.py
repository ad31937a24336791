"""Embedding, ranking and count losses with torch's formulas, arguments and reductions:
pairwise_distance, triplet_margin_loss, margin_ranking_loss, cosine_embedding_loss,
hinge_embedding_loss, soft_margin_loss, multilabel_soft_margin_loss, multi_margin_loss,
poisson_nll_loss and gaussian_nll_loss. Compositions of differentiable ops."""
import math

import numpy as np

from fastnn.autograd.function import presents
from fastnn.ops import elementwise
from fastnn.ops.losses import _tensor, legacy_reduction
from fastnn.ops.losses import reduce as _reduce
from fastnn.ops.nonlinearities import logsigmoid, softplus
from fastnn.tensor import Tensor


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dimension (eps keeps the norm differentiable at 0)."""
    return (x1 - x2 + eps).norm(p, dim=-1, keepdim=keepdim)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    reduction = legacy_reduction(size_average, reduce, reduction)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:  # the nearer of the two negatives' distances
        d_neg = -elementwise.maximum(-d_neg, -pairwise_distance(positive, negative, p, eps))
    return _reduce(elementwise.clamp(margin + d_pos - d_neg, min=0.0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """The triplet loss with any distance (pairwise_distance by default); swap takes the
    nearer of anchor-negative and positive-negative (Balntas et al. 2016)."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError("The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {anchor.ndim}D, "
                           f"positive {positive.ndim}D, and negative {negative.ndim}D inputs")
    distance = distance_function or pairwise_distance
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = -elementwise.maximum(-d_neg, -distance(positive, negative))
    return _reduce(elementwise.clamp(margin + d_pos - d_neg, min=0.0), reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Hinge loss between each target class (the classes listed in `target` before its first
    -1) and each non-target class: sum of max(0, 1 - (x[target] - x[other])) over the pairs,
    divided by the class count."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _tensor(target)
    if input.ndim not in (1, 2) or input.shape[-1] == 0:
        raise RuntimeError("Expected non-empty vector or matrix with optional 0-dim batch size, "
                           f"but got: {list(input.shape)}")
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                           f"{list(input.shape)}")
    if target.dtype.name != "int64":
        raise RuntimeError(f"expected scalar type Long but found {target.dtype.title}")
    labels = target._data.reshape(-1, input.shape[-1])
    classes = labels.shape[1]
    if ((labels < -1) | (labels >= classes)).any():
        raise RuntimeError("argument #2 'target' is out of range")
    # the listed targets end at the first -1; a class listed twice counts twice, as torch's
    listed = np.cumprod(labels != -1, axis=1).astype(bool)
    counts = np.zeros(labels.shape, np.float64)
    rows = np.nonzero(listed)[0]
    np.add.at(counts, (rows, labels[listed]), 1.0)
    others = counts == 0
    weights = (counts[:, :, None] * others[:, None, :]).astype(input.dtype.numpy)
    x = input.reshape(labels.shape)
    hinge = elementwise.clamp(1 - x.unsqueeze(2) + x.unsqueeze(1), min=0.0)
    loss = (hinge * Tensor._wrap(weights)).sum((1, 2)) / classes
    return _reduce(loss if input.ndim == 2 else loss.reshape(()), reduction)


@presents("PdistBackward0")
def pdist(input, p=2):
    """The distances between every pair of rows i < j, in row-major order of the pairs."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    n = input.shape[0]
    rows, cols = np.triu_indices(n, 1)
    pairs = input[Tensor._wrap(rows)] - input[Tensor._wrap(cols)]
    return pairs.norm(p, dim=1)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _tensor(target)
    return _reduce(elementwise.clamp(-target * (input1 - input2) + margin, min=0.0), reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(x1, x2) for target 1, max(0, cos - margin) for target -1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _tensor(target)
    eps = 1e-12  # torch's EPSILON in the magnitudes
    dot = (input1 * input2).sum(-1)
    cos = dot / (((input1 * input1).sum(-1) + eps) * ((input2 * input2).sum(-1) + eps)).sqrt()
    positive = target._data == 1
    negative = target._data == -1
    loss = elementwise.where(positive, 1 - cos, 0.0) + \
        elementwise.where(negative, elementwise.clamp(cos - margin, min=0.0), 0.0)
    return _reduce(loss, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _tensor(target)
    margin_part = elementwise.where(target._data != 1,
                                    elementwise.clamp(margin - input, min=0.0), 0.0)
    self_part = elementwise.where(target._data != -1, input, 0.0)
    return _reduce(margin_part + self_part, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _reduce(softplus(-_tensor(target) * input), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _tensor(target)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(-1) / input.shape[-1]  # the mean over classes, per sample
    return _reduce(loss, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """sum over i != y of max(0, margin - x[y] + x[i])^p, divided by the number of classes."""
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    reduction = legacy_reduction(size_average, reduce, reduction)
    x = input if input.ndim == 2 else input.reshape(1, -1)
    labels = np.asarray(target._data if isinstance(target, Tensor) else target,
                        np.int64).reshape(-1)
    classes = x.shape[1]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise IndexError(f"Target {int(labels.max())} is out of bounds.")
    picked = x.gather(1, Tensor._wrap(labels.reshape(-1, 1)))
    hinge = elementwise.clamp(margin - picked + x, min=0.0)
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * weight.reshape(-1)[labels].reshape(-1, 1)
    not_target = np.ones(tuple(x.shape), np.float32)
    not_target[np.arange(len(labels)), labels] = 0.0
    loss = (hinge * Tensor._wrap(not_target.astype(x._data.dtype))).sum(1) / classes
    if input.ndim == 1:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    reduction = legacy_reduction(size_average, reduce, reduction)
    target = _tensor(target)
    if log_input:
        loss = elementwise.exp(input) - target * input
    else:
        loss = input - target * elementwise.log(input + eps)
    if full:  # Stirling's approximation of log(target!), where target > 1
        t = target._data
        with np.errstate(divide="ignore", invalid="ignore"):
            stirling = t * np.log(t) - t + 0.5 * np.log(2 * math.pi * t)
        loss = loss + Tensor._wrap(np.where(t > 1, stirling, 0.0).astype(loss._data.dtype))
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log var + (input - target)^2 / var); var clamped to eps without changing its
    gradient (torch clamps a clone under no_grad)."""
    var = var if isinstance(var, Tensor) else Tensor(np.full(tuple(input.shape), var,
                                                             input._data.dtype))
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not valid")
    if (var._data < 0).any():
        raise ValueError("var has negative entry/entries")
    clamped = var + Tensor._wrap(np.maximum(var._data, eps) - var._data).detach()
    loss = 0.5 * (elementwise.log(clamped) + (input - target) ** 2 / clamped)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)
