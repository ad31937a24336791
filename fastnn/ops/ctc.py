"""Connectionist temporal classification loss (Graves et al. 2006, "Connectionist Temporal
Classification: Labelling Unsegmented Sequence Data with Recurrent Neural Networks"), with
torch.nn.functional.ctc_loss's arguments, reductions and gradient.

The forward (alpha) and backward (beta) recursions run in log space over the extended label
sequence (a blank around every target), vectorised over the batch, one time step at a time,
in float64. As torch's CPU kernel, the gradient is the one with respect to the logits of a
log_softmax that produced log_probs: exp(lp) - exp(log sum alpha*beta + nll - lp) (PyTorch's
LossCTC.cpp, eq. 16 of the paper); time steps past an input's length get zero."""
import numpy as np

from fastnn.autograd.function import Function
from fastnn.tensor import Tensor

_NEG = -np.inf


def _lse(*terms):
    stacked = np.stack(terms)
    top = stacked.max(axis=0)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return safe + np.log(np.exp(stacked - safe).sum(axis=0))


def _shifted(a, k):
    """a moved k places along the extended labels (right for k > 0), -inf shifted in."""
    out = np.full_like(a, _NEG)
    if k > 0 and a.shape[1] > k:
        out[:, k:] = a[:, :-k]
    elif k < 0 and a.shape[1] > -k:
        out[:, :k] = a[:, -k:]
    return out


def _extended(targets, target_lengths, blank):
    """(N, 2*S+1) extended labels (blank, l1, blank, l2, ..., blank), padded with blanks."""
    n, longest = len(target_lengths), int(max(target_lengths, default=0))
    ext = np.full((n, 2 * longest + 1), blank, dtype=np.int64)
    for i, labels in enumerate(targets):
        ext[i, 1:2 * len(labels):2] = labels
    return ext


def _recursions(lp, ext, input_lengths, target_lengths, blank):
    """log alpha and log beta, (T, N, 2S+1), and each sequence's negative log-likelihood."""
    steps, n, _ = lp.shape
    width = ext.shape[1]
    rows = np.arange(n)[:, None]
    emit = lp[:, rows, ext]  # (T, N, W): log-probability of each extended label per step
    ends = 2 * np.asarray(target_lengths) + 1  # valid extended length per sequence
    valid = np.arange(width)[None, :] < ends[:, None]
    skip = np.zeros((n, width), bool)  # s-2 -> s allowed: a label differing from l(s-2)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    alpha = np.full((steps, n, width), _NEG)
    beta = np.full((steps, n, width), _NEG)
    if steps == 0:
        return alpha, beta, np.full(n, np.inf)
    alpha[0, :, 0] = emit[0, :, 0]
    if width > 1:  # (every target empty: the blank path alone)
        alpha[0, :, 1] = np.where(ends > 1, emit[0, :, 1], _NEG)
    for t in range(1, steps):
        prev = alpha[t - 1]
        nxt = _lse(prev, _shifted(prev, 1), np.where(skip, _shifted(prev, 2), _NEG)) + emit[t]
        live = (t < np.asarray(input_lengths))[:, None] & valid
        alpha[t] = np.where(live, nxt, _NEG)
    last = np.asarray(input_lengths) - 1
    final = alpha[np.maximum(last, 0), np.arange(n)]
    end_blank = final[np.arange(n), ends - 1]
    end_label = np.where(ends > 1, final[np.arange(n), np.maximum(ends - 2, 0)], _NEG)
    nll = -_lse(end_blank, end_label)
    nll = np.where(last < 0, np.where(ends == 1, 0.0, np.inf), nll)
    # beta: started at each sequence's own last step, carried back to step 0
    skip_next = np.zeros((n, width), bool)  # s -> s+2 allowed
    skip_next[:, :-2] = skip[:, 2:]
    for t in range(steps - 1, -1, -1):
        start = np.full((n, width), _NEG)
        start[np.arange(n), ends - 1] = emit[t, np.arange(n), ends - 1]
        has_label = ends > 1
        idx = np.maximum(ends - 2, 0)
        start[np.arange(n)[has_label], idx[has_label]] = emit[t, np.arange(n), idx][has_label]
        if t + 1 < steps:
            nxt = beta[t + 1]
            carried = _lse(nxt, _shifted(nxt, -1), np.where(skip_next, _shifted(nxt, -2), _NEG)) \
                + emit[t]
        else:
            carried = np.full((n, width), _NEG)
        at_last = (t == last)[:, None]
        inside = (t < last)[:, None]
        beta[t] = np.where(valid, np.where(at_last, start, np.where(inside, carried, _NEG)), _NEG)
    return alpha, beta, nll


class CtcLoss(Function):
    backward_name = "CtcLossBackward0"

    @staticmethod
    def forward(ctx, log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
        lp = log_probs.astype(np.float64)
        ext = _extended(targets, target_lengths, blank)
        alpha, beta, nll = _recursions(lp, ext, input_lengths, target_lengths, blank)
        ctx.saved = (lp, ext, alpha, beta, nll, input_lengths, zero_infinity, log_probs.dtype)
        if zero_infinity:
            nll = np.where(np.isinf(nll), 0.0, nll)
        return nll.astype(log_probs.dtype)

    @staticmethod
    def backward(ctx, g):
        lp, ext, alpha, beta, nll, input_lengths, zero_infinity, dtype = ctx.saved
        steps, n, classes = lp.shape
        # log sum over the extended positions carrying class c of alpha_t(s) beta_t(s)
        both = alpha + beta
        lcab = np.full((steps, n, classes), _NEG)
        for s in range(ext.shape[1]):
            c = ext[:, s]
            lcab[:, np.arange(n), c] = _lse(lcab[:, np.arange(n), c], both[:, :, s])
        with np.errstate(over="ignore", invalid="ignore"):
            grad = np.exp(lp) - np.exp(lcab + nll[None, :, None] - lp)
        live = np.arange(steps)[:, None] < np.asarray(input_lengths)[None, :]
        grad = np.where(live[:, :, None], grad, 0.0)
        if zero_infinity:
            grad = np.where(np.isinf(nll)[None, :, None], 0.0, grad)
        grad = grad * np.asarray(g, dtype=np.float64)[None, :, None]
        return grad.astype(dtype), None, None, None, None, None


def _lengths(value, name):
    if isinstance(value, Tensor):
        value = value._data
    array = np.asarray(value).reshape(-1)
    if array.dtype.kind not in "iu":
        raise RuntimeError(f"{name} must be integral")
    return [int(v) for v in array]


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """torch.nn.functional.ctc_loss: log_probs (T, N, C) or (T, C) (log_softmax outputs),
    targets (N, S) padded or 1-D concatenated, lengths as tensors or sequences."""
    from fastnn.ops import reductions
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
    if log_probs.ndim != 3:
        raise RuntimeError(f"ctc_loss expects log_probs of 2 or 3 dimensions, got "
                           f"{log_probs.ndim}")
    steps, n, classes = log_probs.shape
    ins, outs = _lengths(input_lengths, "input_lengths"), _lengths(target_lengths,
                                                                   "target_lengths")
    if len(ins) != n or len(outs) != n:
        raise RuntimeError(f"input_lengths and target_lengths must have {n} entries (the "
                           f"batch size), got {len(ins)} and {len(outs)}")
    if not 0 <= blank < classes:
        raise RuntimeError("blank must be in label range")
    for length in ins:
        if length < 0 or length > steps:
            raise RuntimeError(f"Expected input_lengths to have value at most {steps}, but "
                               f"got value {length}")
    labels = np.asarray(targets._data if isinstance(targets, Tensor) else targets)
    if unbatched:
        labels = labels.reshape(1, -1) if labels.ndim == 1 else labels
    if labels.ndim == 1:  # concatenated
        if labels.shape[0] < sum(outs):
            raise RuntimeError("targets holds fewer labels than the sum of target_lengths")
        offsets = np.concatenate([[0], np.cumsum(outs)])
        rows = [labels[offsets[i]:offsets[i + 1]] for i in range(n)]
    else:
        for i, length in enumerate(outs):
            if length > labels.shape[1]:
                raise RuntimeError(f"Expected tensor to have size at least {length} at "
                                   f"dimension 1, but got size {labels.shape[1]} for argument "
                                   f"#2 'targets' (while checking arguments for ctc_loss_cpu)")
        rows = [labels[i, :outs[i]] for i in range(n)]
    for row in rows:
        if row.size and (row.min() < 0 or row.max() >= classes):
            raise RuntimeError(f"ctc_loss: target labels must be in [0, {classes})")
    losses = CtcLoss.apply(log_probs, [r.astype(np.int64) for r in rows], ins, outs, int(blank),
                           bool(zero_infinity))
    if reduction == "none":
        return losses.squeeze(0) if unbatched else losses
    if reduction == "sum":
        return reductions.sum(losses)
    divisors = Tensor._wrap(np.maximum(np.asarray(outs), 1).astype(losses._data.dtype))
    return reductions.mean(losses / divisors)
