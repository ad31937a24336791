"""create_graph's formulas for the layer ops: convolutions, pooling, normalisation, dropout,
cross-entropy, padding and masking, in-place writes (IndexPut, CopySlices), and user
autograd.Functions (their tensor-op backward run recorded). Ops with a fused kernel whose
second derivative is easiest from their composition (layer and batch norm) are differentiated
through that composition with vjp_of."""
import math

import numpy as np

from fastnn.autograd.function import Context, Function
from fastnn.autograd.formulas_math import _constant, _sum_to
from fastnn.autograd.higher_order import backward, formula
from fastnn.tensor import Tensor

def vjp_of(composite, ins, g):
    """The gradients of composite(*ins) (recorded ops re-deriving an op that has a fused
    kernel) with respect to the inputs that require grad, themselves recorded."""
    out = composite(*ins)
    wanted = [x for x in ins if isinstance(x, Tensor) and x.requires_grad]
    found = backward(out, g, capture=wanted) if out.requires_grad else {}
    return tuple(found.get(id(x)) if isinstance(x, Tensor) and x.requires_grad else None
                 for x in ins)


def _conv_weight_grad(inp, grad, kernel, stride, padding, dilation, groups):
    """conv2d's weight gradient, from recorded ops: per group, the input and the output
    gradient with batch and channels swapped, convolved (stride and dilation trade places) and
    cropped to the kernel."""
    import fastnn
    from fastnn.nn import functional as F
    kh, kw = kernel
    cg, og = inp.shape[1] // groups, grad.shape[1] // groups
    per_group = []
    for k in range(groups):
        xs = inp[:, k * cg:(k + 1) * cg].transpose(0, 1)
        gs = grad[:, k * og:(k + 1) * og].transpose(0, 1)
        full = F.conv2d(xs, gs, None, dilation, padding, stride)
        per_group.append(full[:, :, :kh, :kw].transpose(0, 1))
    return per_group[0] if groups == 1 else fastnn.cat(per_group, 0)


@formula("Conv2d")
def _conv2d(ctx, g, ins):
    """The input gradient is the transposed convolution of g with the weight; the weight
    gradient _conv_weight_grad's."""
    from fastnn.nn import functional as F
    x, weight, bias = ins[:3]
    n, c, h, w, oc, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, groups = ctx.shape
    relu_output = ctx.saved_tensors[2]
    if relu_output is not None:  # the fused ReLU's mask first
        g = g * _constant((relu_output > 0).astype(relu_output.dtype))
    x_val = x if x is not None else _constant(ctx.saved_tensors[0])
    w_val = weight if weight is not None else _constant(ctx.saved_tensors[1])
    gx = gw = gb = None
    if x is not None:
        extra = (h + 2 * ph - dh * (kh - 1) - 1 - (oh - 1) * sh,
                 w + 2 * pw - dw * (kw - 1) - 1 - (ow - 1) * sw)
        gx = F.conv_transpose2d(g, w_val, None, (sh, sw), (ph, pw), extra, groups, (dh, dw))
    if weight is not None:
        gw = _conv_weight_grad(x_val, g, (kh, kw), (sh, sw), (ph, pw), (dh, dw), groups)
    if bias is not None:
        gb = g.sum((0, 2, 3))
    return gx, gw, gb, None, None


@formula("ConvTranspose2d")
def _conv_transpose2d(ctx, g, ins):
    """A transposed convolution is the adjoint of the convolution ctx.shape describes (its
    input is this op's output): the input gradient is that convolution of g, the weight
    gradient its weight gradient with g as the input and x as the output gradient."""
    from fastnn.nn import functional as F
    x, weight, bias = ins[:3]
    shape = ctx.shape
    kh, kw, sh, sw, ph, pw, dh, dw, groups = shape[7:16]
    x_val = x if x is not None else _constant(ctx.saved_tensors[0])
    w_val = weight if weight is not None else _constant(ctx.saved_tensors[1])
    gx = F.conv2d(g, w_val, None, (sh, sw), (ph, pw), (dh, dw), groups) if x is not None \
        else None
    gw = (_conv_weight_grad(g, x_val, (kh, kw), (sh, sw), (ph, pw), (dh, dw), groups)
          if weight is not None else None)
    gb = g.sum((0, 2, 3)) if bias is not None else None
    return gx, gw, gb, None


@formula("MaxPool2d")
def _max_pool2d(ctx, g, ins):
    """g sent back to the window maxima: recorded as an accumulating index_put at the argmax
    positions (recomputed as int64 indices; the kernel may keep one-byte window codes)."""
    from fastnn.nn import functional as F
    from fastnn.ops.indexing_ops import IndexPutAccumulate
    x = ins[0]
    n, c, h, w = ctx.in_shape
    _, _, _, _, _, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw = ctx.shape[:15]
    with _no_grad():
        _, indices = F.max_pool2d(x.detach(), (kh, kw), (sh, sw), (ph, pw), (dh, dw),
                                  return_indices=True)
    flat = indices._data.reshape(n, c, -1)
    grids = (np.arange(n)[:, None, None], np.arange(c)[None, :, None], flat)
    zeros = Tensor._wrap(np.zeros((n, c, h * w), dtype=g._data.dtype))
    return (IndexPutAccumulate.apply(zeros, grids, g.reshape(n, c, -1)).reshape(n, c, h, w),
            None, None)


def _no_grad():
    from fastnn.autograd.grad_mode import no_grad
    return no_grad()


class AvgPoolAdjoint(Function):
    """g -> avg_pool2d's input gradient, as a recorded op (a fixed linear map; its own
    gradient is avg_pool2d itself)."""
    backward_name = "AvgPool2DBackwardBackward0"

    @staticmethod
    def forward(ctx, g, meta):
        from fastnn.ops.conv import kernel_dtype, kernels_for
        shape, count_include_pad, in_shape = meta
        dtype = kernel_dtype(g)
        gx = np.zeros(in_shape, dtype=dtype)
        if g.size:
            kernels_for(gx).avgpool2d_backward(np.ascontiguousarray(g, dtype=dtype), gx, shape,
                                               count_include_pad)
        ctx.meta = meta
        return gx

    @staticmethod
    def backward(ctx, gg):
        from fastnn.ops.conv import kernel_dtype, kernels_for
        shape, count_include_pad, in_shape = ctx.meta
        n, c, _, _, _, oh, ow = shape[:7]
        dtype = kernel_dtype(gg)
        y = np.zeros((n, c, oh, ow), dtype=dtype)
        if y.size:
            kernels_for(y).avgpool2d_forward(np.ascontiguousarray(gg, dtype=dtype), y, shape,
                                             count_include_pad)
        return y, None


@formula("AvgPool2d")
def _avg_pool2d(ctx, g, ins):
    return (AvgPoolAdjoint.apply(g, ctx.meta), None, None)


@formula("AvgPoolAdjoint")
def _avg_pool_adjoint(ctx, g, ins):
    from fastnn.ops.pool import AvgPool2d
    shape, count_include_pad, _ = ctx.meta
    return (AvgPool2d.apply(g, shape, count_include_pad), None)


class AdaptiveAvgPoolAdjoint(Function):
    """g -> adaptive_avg_pool2d's input gradient, as a recorded op (a fixed linear map; its
    own gradient is the pooling itself)."""
    backward_name = "AdaptiveAvgPool2DBackwardBackward0"

    @staticmethod
    def forward(ctx, g, meta):
        from fastnn.ops.pool import adaptive_avg_pool2d_adjoint
        ctx.meta = meta
        return adaptive_avg_pool2d_adjoint(g, meta)

    @staticmethod
    def backward(ctx, gg):
        from fastnn.ops.pool import AdaptiveAvgPool2d
        out_size = (len(ctx.meta[1]), len(ctx.meta[3]))
        return AdaptiveAvgPool2d.forward(Context((False,)), gg, out_size), None


@formula("AdaptiveAvgPool2d")
def _adaptive_avg_pool2d(ctx, g, ins):
    return (AdaptiveAvgPoolAdjoint.apply(g, ctx.meta), None)


@formula("AdaptiveAvgPoolAdjoint")
def _adaptive_avg_pool_adjoint(ctx, g, ins):
    from fastnn.ops.pool import AdaptiveAvgPool2d
    return (AdaptiveAvgPool2d.apply(g, (len(ctx.meta[1]), len(ctx.meta[3]))), None)


def _batch_norm_composite(x, weight, bias, eps, training, mean, var):
    """BatchNorm from recorded ops: batch statistics in training, the fixed ones otherwise."""
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    if training:
        centred = x - x.mean(axes, keepdim=True)
        out = centred * ((centred * centred).mean(axes, keepdim=True) + eps).rsqrt()
    else:
        out = (x - _constant(mean.astype(x._data.dtype).reshape(shape))) * \
            _constant((1.0 / np.sqrt(var + eps)).astype(x._data.dtype).reshape(shape))
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


@formula("BatchNorm")
def _batch_norm(ctx, g, ins):
    mean, var, eps, training = ctx.meta
    grads = vjp_of(lambda x, w, b: _batch_norm_composite(x, w, b, eps, training, mean, var),
                    list(ins[:3]), g)
    return grads + (None, None, None)


@formula("Dropout")
def _dropout(ctx, g, ins):
    return (g * _constant(ctx.mask), None)


@formula("SoftmaxCrossEntropy")
def _cross_entropy(ctx, g, ins):
    """d loss / d logits = (softmax(logits) - onehot(labels)) / N (for the mean), in ops."""
    logits = ins[0]
    labels = ctx.labels
    probabilities = logits.softmax(-1)
    onehot = np.zeros(tuple(logits.shape), dtype=logits._data.dtype)
    np.put_along_axis(onehot.reshape(-1, onehot.shape[-1]),
                      np.asarray(labels).reshape(-1, 1), 1, axis=1)
    grad = probabilities - _constant(onehot)
    if ctx.reduction == "none":
        return (grad * (g.unsqueeze(-1) if logits.ndim == 2 else g), None, None)
    if ctx.reduction == "mean" and logits.ndim == 2:
        grad = grad / logits.shape[0]
    return (grad * g, None, None)


@formula("ConstantPad")
def _constant_pad(ctx, g, ins):
    """The padded gradient cut back (and a cropped side padded with zeros again)."""
    from fastnn.ops.pad import ConstantPad
    shape, crop, widths = ctx.meta
    inner = g[tuple(slice(b, g.shape[a] - e) for a, (b, e) in enumerate(widths))]
    back = []  # (before, after) from the last dimension: the crops undone with zeros
    for axis in reversed(range(len(shape))):
        cut = crop[axis]
        back.append((cut.start or 0, shape[axis] - (cut.stop if cut.stop is not None
                                                     else shape[axis])))
    return (ConstantPad.apply(inner, tuple(back), 0.0), None, None)


@formula("MaskedFill")
def _masked_fill(ctx, g, ins):
    x, _, value = ins
    keep = _constant(np.where(ctx.mask, 0, 1).astype(g._data.dtype))
    gx = _sum_to(g * keep, tuple(x.shape)) if x is not None else None
    gv = (g * (1 - keep)).sum().reshape(ctx.shape) if value is not None else None
    return gx, None, gv


@formula("Cast")
def _cast(ctx, g, ins):
    from fastnn import dtypes
    return (g.to(dtypes.of_array(np.empty(0, ctx.source))), None)


@formula("Hardtanh")
def _hardtanh(ctx, g, ins):
    x = ins[0]._data
    lo, hi = ctx.bounds
    return (g * _constant(((x > lo) & (x < hi)).astype(x.dtype)), None, None)


@formula("Erf")
def _erf(ctx, g, ins):
    x = ins[0]
    return (g * (2.0 / math.sqrt(math.pi)) * (-(x * x)).exp(),)


@formula("CumSum")
def _cumsum(ctx, g, ins):
    d = ctx.dim
    return (g.flip(d).cumsum(d).flip(d), None)


@formula("Maximum", "Minimum")
def _maximum(ctx, g, ins):
    a, b = ins
    av, bv = ctx.saved_tensors
    share = (ctx.wins(av, bv) + 0.5 * (av == bv)).astype(g._data.dtype)
    return (_sum_to(g * _constant(share), np.shape(av)) if a is not None else None,
            _sum_to(g * _constant(1 - share), np.shape(bv)) if b is not None else None)


@formula("Gather")
def _gather(ctx, g, ins):
    from fastnn.ops.indexing_ops import IndexPutAccumulate
    shape, grids = ctx.meta
    zeros = Tensor._wrap(np.zeros(shape, dtype=g._data.dtype))
    return (IndexPutAccumulate.apply(zeros, grids, g), None, None)


@formula("IndexPutAccumulate")
def _index_put_accumulate(ctx, g, ins):
    indices, shape = ctx.meta
    picked = g[indices]
    return (g, None, _sum_to(picked, shape) if ins[2] is not None else None)


@formula("IndexPut")
def _index_put(ctx, g, ins):
    from fastnn.ops.inplace import IndexPut
    index, value_shape = ctx.meta
    x, _, value = ins
    gx = IndexPut.apply(g, index, 0.0) if x is not None else None
    gv = _sum_to(g[index], value_shape) if value is not None else None
    return gx, None, gv


@formula("ViewOf")
def _view_of(ctx, g, ins):
    from fastnn.ops.inplace import CopySlices
    shape, dtype, fn = ctx.meta
    return (CopySlices.apply(Tensor._wrap(np.zeros(shape, dtype=g._data.dtype)), g, fn), None)


@formula("CopySlices")
def _copy_slices(ctx, g, ins):
    from fastnn.ops.inplace import CopySlices, ViewOf
    base, value, _ = ins
    region = ViewOf.apply(g, ctx.fn)
    g_base = CopySlices.apply(g, Tensor._wrap(np.zeros(tuple(region.shape),
                                                       dtype=g._data.dtype)), ctx.fn)
    g_value = _sum_to(region, tuple(value.shape)) if value is not None else None
    return (g_base if base is not None else None, g_value, None)


@formula("_Bridge")
def _user_function(ctx, g, ins):
    """A user's autograd.Function: its backward is written in tensor ops, so running it with
    grad mode on (and tensor gradients that carry their graph) records it."""
    from fastnn.autograd.custom_function import output_gradients
    grads = output_gradients(ctx, g, lambda piece, dtype: piece)
    user_ctx = ctx.user_ctx
    user_ctx.needs_input_grad = ctx.needs_input_grad
    result = ctx.user.backward(user_ctx, *grads)
    result = result if isinstance(result, tuple) else (result,)
    out = []
    for i, r in enumerate(result[:ctx.arg_count]):
        if r is None or ctx.input_shapes[i] is None:
            out.append(None)
        else:
            out.append(_sum_to(r, ctx.input_shapes[i]))
    return tuple(out) + (None,) * (ctx.arg_count - len(out))


@formula("_Take")
def _take(ctx, g, ins):
    from fastnn.ops.inplace import IndexPut
    zeros = Tensor._wrap(np.zeros(ctx.total, ctx.packed_dtype))
    return (IndexPut.apply(zeros, slice(ctx.at, ctx.at + ctx.size), g.reshape(-1)),
            None, None, None, None)


@formula("LayerNorm")
def _layer_norm(ctx, g, ins):
    from fastnn.ops.normalization import layer_norm_composite
    axes, eps = ctx.meta
    x, weight, bias = ins[:3]
    grads = vjp_of(lambda a, w, b: layer_norm_composite(a, w, b, axes, eps),
                    [x, weight, bias], g)
    return grads + (None, None)


@formula("MseLoss")
def _mse_loss(ctx, g, ins):
    """2 (input - target) g, over n for the mean, summed back to each operand's shape."""
    from fastnn.autograd.formulas_math import _sum_to
    a, b = ins[:2]
    in_shape, target_shape, reduction = ctx.meta
    diff = a - b
    count = int(np.prod(np.broadcast_shapes(in_shape, target_shape), dtype=np.int64))
    scale = 2.0 / count if reduction == "mean" and count else 2.0
    grad = g * scale * diff
    return (_sum_to(grad, in_shape) if a is not None else None,
            _sum_to(-grad, target_shape) if b is not None else None, None)
