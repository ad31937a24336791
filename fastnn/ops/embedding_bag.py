"""F.embedding_bag: the sums, means or maxima of bags of embedding rows without building the
(indices, dim) intermediate a lookup followed by a reduction would keep for backward (the
text classification tutorial's EmbeddingBag). Bags are runs of a flat index list cut at
`offsets`, or the rows of a 2-D index tensor. Also the max_norm renormalisation and
scale_grad_by_freq that F.embedding shares with it, with torch's arguments and errors."""
import warnings

import numpy as np

from fastnn.autograd.function import Function
from fastnn.tensor import Tensor

MODES = ("sum", "mean", "max")


def index_array(value, what):
    array = value._data if isinstance(value, Tensor) else np.asarray(value)
    if array.dtype.kind not in "iu":
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the "
                           "following scalar types: Long, Int; but got "
                           f"{Tensor._wrap(array).type()} instead (while checking arguments "
                           f"for {what})")
    return array.astype(np.int64, copy=False)


def renorm_(weight, indices, max_norm, norm_type):
    """torch.embedding_renorm_: rows looked up whose norm exceeds max_norm are scaled in
    place (outside autograd) to max_norm / (norm + 1e-7)."""
    rows = np.unique(indices)
    data = weight._data
    norms = np.linalg.norm(data[rows].astype(np.float64), ord=norm_type, axis=1)
    big = norms > max_norm
    scale = max_norm / (norms[big] + 1e-7)
    data[rows[big]] = (data[rows[big]] * scale[:, None]).astype(data.dtype)
    weight._version[0] += 1


def frequency_scale(indices, dtype):
    """scale_grad_by_freq: each looked-up row's gradient divided by how often its index occurs
    in the mini-batch."""
    _, inverse, counts = np.unique(indices, return_inverse=True, return_counts=True)
    return (1.0 / counts[inverse]).astype(dtype)


def _bag_frequency_scale(indices, dtype):
    """scale_grad_by_freq as torch's embedding_bag applies it (ATen EmbeddingBag.cpp, dense
    backward): the k-th distinct index, in sorted order, is scaled by 1 / the count of the
    index at sorted position k, not by its own count (F.embedding scales by its own).
    Reproduced so gradients match torch's; returned per index value."""
    if indices.size == 0:
        return np.zeros(0, dtype)
    ordered = np.sort(indices)
    distinct = np.unique(ordered)
    counts = np.bincount(indices)
    scale = np.zeros(int(ordered[-1]) + 1, dtype)
    scale[distinct] = 1.0 / counts[ordered[:distinct.size]]
    return scale


class EmbeddingBag(Function):
    backward_name = "EmbeddingBagBackward0"

    @staticmethod
    def forward(ctx, weight, per_sample_weights, plan):
        rows = weight[plan.entries]  # (m, D): the rows that count, bag by bag
        weighted = rows
        if per_sample_weights is not None:
            weighted = rows * per_sample_weights[plan.kept][:, None]
        out = np.zeros((plan.bags, weight.shape[1]), weight.dtype)
        filled = plan.filled
        if plan.mode == "max":
            if plan.starts.size:
                out[filled] = np.maximum.reduceat(weighted, plan.starts, axis=0)
                # the first row reaching each maximum takes its gradient
                position = np.arange(len(rows))[:, None]
                hits = np.where(weighted == out[plan.bag_of_entry], position, len(rows))
                ctx.argmax = np.minimum.reduceat(hits, plan.starts, axis=0)
        elif plan.starts.size:
            out[filled] = np.add.reduceat(weighted, plan.starts, axis=0)
            if plan.mode == "mean":
                out[filled] /= plan.counts[filled, None].astype(weight.dtype)
        ctx.plan, ctx.weight_shape, ctx.dtype = plan, weight.shape, weight.dtype
        ctx.rows = rows if per_sample_weights is not None else None
        ctx.per_sample_weights = per_sample_weights
        return out

    @staticmethod
    def backward(ctx, g):
        plan = ctx.plan
        grad_weight = np.zeros(ctx.weight_shape, ctx.dtype)
        grad_psw = None
        if ctx.per_sample_weights is not None:
            grad_psw = np.zeros(ctx.per_sample_weights.shape, g.dtype)
        if plan.starts.size == 0:
            return grad_weight, grad_psw, None
        if plan.mode == "max":
            filled = np.flatnonzero(plan.filled)
            columns = np.broadcast_to(np.arange(g.shape[1]), ctx.argmax.shape)
            np.add.at(grad_weight, (plan.entries[ctx.argmax], columns), g[filled])
            return grad_weight, None, None
        per_row = g[plan.bag_of_entry]  # (m, D)
        if plan.mode == "mean":
            per_row = per_row / plan.counts[plan.bag_of_entry, None].astype(g.dtype)
        if grad_psw is not None:
            grad_psw[plan.kept] = (per_row * ctx.rows).sum(axis=1)
            per_row = per_row * ctx.per_sample_weights[plan.kept][:, None]
        if plan.scale is not None:
            per_row = per_row * plan.scale[:, None]
        np.add.at(grad_weight, plan.entries, per_row)
        return grad_weight, grad_psw, None


class _BagPlan:
    """Which index lands in which bag, with padding entries dropped: entries (m,) row numbers
    in bag order, bag_of_entry (m,), kept (n,) mask of the entries used, counts per bag,
    starts of the non-empty bags in the entry list."""

    def __init__(self, indices, starts, end, padding_idx, mode, scale_by_freq, dtype):
        n = indices.shape[0]
        # an entry belongs to the last bag starting at or before it; several bags may start
        # at the same place (empty bags), and entries from `end` on belong to none
        bag_of_index = np.searchsorted(starts, np.arange(n), side="right") - 1
        self.kept = np.arange(n) < end
        if padding_idx is not None:
            self.kept &= indices != padding_idx
        bags = starts.shape[0]
        self.entries = indices[self.kept]
        self.bag_of_entry = bag_of_index[self.kept]
        self.bags, self.mode = bags, mode
        self.counts = np.bincount(self.bag_of_entry, minlength=bags)[:bags]
        self.filled = self.counts > 0
        self.starts = (np.cumsum(self.counts) - self.counts)[self.filled]
        self.scale = _bag_frequency_scale(indices, dtype)[self.entries] if scale_by_freq \
            else None


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode="mean", sparse=False,
                  per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """torch.nn.functional.embedding_bag. `sparse` is accepted; the gradient is dense."""
    if weight.dtype.name == "int64" and input.is_floating_point():
        warnings.warn("Argument order of nn.functional.embedding_bag was changed. Usage "
                      "`embedding_bag(weight, input, ...)` is deprecated, and should now be "
                      "`embedding_bag(input, weight, ...)`.", stacklevel=2)
        weight, input = input, weight
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) "
                         "is not None, then it must have the same shape as the input "
                         f"({input.shape})")
    if weight.dim() != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.dim()}")
    indices = index_array(input, "embedding_bag")
    if indices.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found "
                             f"offsets of type {type(offsets)}")
        starts = np.arange(0, indices.size, max(indices.shape[1], 1), dtype=np.int64)
        bags = indices.shape[0]
        indices = indices.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
        include_last_offset = False
    elif indices.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        starts = index_array(offsets, "embedding_bag")
        bags = starts.shape[0] - 1 if include_last_offset else starts.shape[0]
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{indices.ndim}")
    if mode not in MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    _check_range(indices, weight.shape[0])
    if max_norm is not None:
        renorm_(weight, indices, max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. "
                                  "per_sample_weights is only supported for mode='sum' "
                                  f"(got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    _check_offsets(starts, indices.shape[0])
    if not weight.is_floating_point():
        raise RuntimeError(f'"embedding_bag" not implemented for \'{weight.dtype.title}\'')
    if per_sample_weights is not None and per_sample_weights.dtype != weight.dtype:
        raise RuntimeError("Expected tensor for argument #1 'weight' to have the same type as "
                           "tensor for argument #1 'per_sample_weights'; but type "
                           f"{weight.type()} does not equal {per_sample_weights.type()} "
                           "(while checking arguments for embedding_bag)")
    if padding_idx is not None:
        if not -weight.shape[0] <= padding_idx < weight.shape[0]:
            raise AssertionError("padding_idx must be within the number of embeddings")
        padding_idx %= weight.shape[0]
    end = starts[bags] if include_last_offset and bags >= 0 else indices.shape[0]
    plan = _BagPlan(indices, starts[:max(bags, 0)], end, padding_idx, mode,
                    scale_grad_by_freq, weight.dtype.numpy)
    return EmbeddingBag.apply(weight, per_sample_weights, plan)


def _check_offsets(offsets, length):
    if offsets.size == 0:
        return
    if offsets[0] != 0:
        raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                           f"has to start from position 0. However, got {offsets[0]}")
    if offsets[-1] > length:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {length} but "
                           f"got offsets[-1] of {offsets[-1]}")
    if (np.diff(offsets) < 0).any():
        where = int(np.flatnonzero(np.diff(offsets) < 0)[0]) + 1
        raise RuntimeError(f"offsets have to be non-decreasing, but offsets[{where}] = "
                           f"{offsets[where]} is less than offsets[{where - 1}] = "
                           f"{offsets[where - 1]}")


def _check_range(indices, rows):
    bad = np.flatnonzero((indices < 0) | (indices >= rows))
    if bad.size:
        raise RuntimeError(f"Index {bad[0]} of input takes value {indices[bad[0]]} which is "
                           f"not in the valid range [0, {rows})")
