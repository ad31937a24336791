"""Cross-entropy on integer class labels through the fused softmax-cross-entropy kernel.

Forward computes the per-row losses and, when a gradient will be needed, the gradient
(softmax - onehot) * scale in the same pass (Chainer keeps the softmax from forward for the
same reason); backward only scales it by the incoming gradient.
"""
import numpy as np

from fastnn import amp, backend
from fastnn.backend import checks
from fastnn.autograd.function import Function
from fastnn.ops.losses import legacy_reduction
from fastnn.tensor import Tensor

REDUCTIONS = ("none", "mean", "sum")


class SoftmaxCrossEntropy(Function):
    backward_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, logits, labels, reduction):
        if logits.dtype != np.float32:
            raise TypeError(f"cross_entropy expects float32 logits, got {logits.dtype}")
        unbatched = logits.ndim == 1
        if unbatched:
            logits = logits[np.newaxis]
            labels = np.reshape(labels, (1,))
        if logits.ndim != 2:
            raise ValueError(f"cross_entropy expects (N, C) logits, got shape {logits.shape}")
        n = logits.shape[0]
        scale = 1.0 / n if reduction == "mean" and n else 1.0
        want_grad = ctx.needs_input_grad[0]
        losses, grad = backend.softmax_cross_entropy(logits, labels, want_grad, scale)
        ctx.grad = grad.reshape(-1) if unbatched and want_grad else grad
        ctx.reduction = reduction
        ctx.labels = labels  # (for create_graph's recorded backward, autograd/higher_order.py)
        if reduction == "none":
            return losses[0] if unbatched else losses
        # (one row: its loss, without NumPy's float64 sum)
        total = losses[0] if n == 1 else np.float32(losses.sum(dtype=np.float64))
        if reduction == "mean":
            return np.asarray(np.float32(total / n) if n else np.float32(np.nan))
        return np.asarray(total)

    @staticmethod
    def backward(ctx, g):
        grad = ctx.grad
        if ctx.reduction == "none":
            g = np.asarray(g, dtype=np.float32)
            return (grad * g[..., np.newaxis] if grad.ndim == 2 else grad * g), None, None
        if g == 1.0:  # the usual loss.backward(): no extra pass
            return grad, None, None
        return grad * np.float32(g), None, None


@amp.float32_inputs
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """torch.nn.functional.cross_entropy. The common case (float32 logits, class indices in
    range, no weights, no smoothing) runs the fused kernel; class weights, ignored targets,
    class-probability targets and (N, C, d...) logits are composed from log_softmax."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    labels = target._data if isinstance(target, Tensor) else np.asarray(target)
    general = (weight is not None or labels.dtype.kind == "f" or input.ndim > 2
               or (labels.dtype.kind in "iu" and labels.size and input.ndim >= 1
                   and _may_ignore(labels, ignore_index, input.shape[-1])))
    if general:
        from fastnn.ops.losses import cross_entropy_general
        return cross_entropy_general(input, target if isinstance(target, Tensor) else
                                     Tensor._wrap(labels), weight, ignore_index, reduction,
                                     label_smoothing)
    if input._data.dtype != np.float32 and input._data.dtype.kind == "f" and not label_smoothing:
        return _cross_entropy_composed(input, target, reduction)
    if label_smoothing:
        from fastnn.ops.losses import cross_entropy_smoothed
        return cross_entropy_smoothed(input, target, reduction, label_smoothing)
    labels = target._data if isinstance(target, Tensor) else np.asarray(target)
    return SoftmaxCrossEntropy.apply(input, labels, reduction)


def _may_ignore(labels, ignore_index, n_classes):
    """Whether some label may equal ignore_index. With the default -100, labels all in
    [0, n_classes) (one C pass) cannot: that answer saves the comparison's 2 us of a
    batch-1 loss. Labels out of range go the general way, which ignores or rejects them."""
    if not 0 <= ignore_index < n_classes and checks.labels_in_range(labels, n_classes):
        return False
    return bool((labels == ignore_index).any())


def _cross_entropy_composed(input, target, reduction):
    """float64/float16 logits: -log_softmax picked at the labels, from differentiable ops
    (the fused kernel is float32)."""
    from fastnn.ops.activation import log_softmax
    labels = target._data if isinstance(target, Tensor) else np.asarray(target)
    logits = input if input.ndim == 2 else input.reshape(1, -1)
    labels = labels.reshape(-1).astype(np.int64)
    if labels.shape[0] != logits.shape[0]:
        raise ValueError(f"Expected input batch_size ({logits.shape[0]}) to match target "
                         f"batch_size ({labels.shape[0]}).")
    if labels.size and (labels.min() < 0 or labels.max() >= logits.shape[1]):
        raise IndexError(f"Target {int(labels.max() if labels.max() >= logits.shape[1] else labels.min())} "
                         f"is out of bounds.")
    losses = -log_softmax(logits, 1)[np.arange(labels.shape[0]), labels]
    if reduction == "none":
        return losses if input.ndim == 2 else losses.reshape(())
    return losses.sum() if reduction == "sum" else losses.mean()
