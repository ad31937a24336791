"""create_graph=True: a backward pass that is itself recorded, so its gradients can be
differentiated again (gradient penalties, physics-informed losses on du/dx, Hessian-vector
products, hessian / gradgradcheck).

The ordinary engine runs each node's backward on NumPy arrays, fast and unrecorded. This pass
walks the same graph but computes each node's input gradients with fastnn's differentiable
ops, from the node's inputs rebuilt as tensors that stay connected to the graph that made
them (the arrays the node saw, with the node's edges as their grad_fn), so every product and
sum it does is recorded in turn. The formulas below are the derivatives the ops' NumPy
backward passes compute, written once more in tensor ops. An op without one raises
NotImplementedError naming it, rather than returning a gradient that silently lacks its
second-order part.
"""
import math
import warnings

import numpy as np

from fastnn.autograd.function import Function, Node, edge_of
from fastnn.autograd.grad_mode import enable_grad
from fastnn.tensor import Tensor

_FORMULAS = {}


def formula(*names):
    """Register the differentiable backward of the ops (Function classes) with these names."""
    def register(fn):
        for name in names:
            _FORMULAS[name] = fn
        return fn
    return register


# --- helpers on tensors --------------------------------------------------------------------
def _sum_to(g, shape):
    """g summed down to `shape` (the reverse of broadcasting), recorded: the engine's
    unbroadcast, run on a tensor (whose sum takes NumPy's axis/keepdims spelling too)."""
    from fastnn.ops.broadcast import unbroadcast
    return unbroadcast(g, tuple(shape))


def _constant(array):
    return Tensor._wrap(np.asarray(array))


def _expand_back(g, shape, axes, keepdim):
    """A reduction's gradient spread back over the reduced axes (Sum, Mean, Norm)."""
    if axes is None:
        return g.reshape((1,) * len(shape)).expand(tuple(shape))
    if not keepdim:
        for axis in sorted(a % len(shape) for a in axes):
            g = g.unsqueeze(axis)
    return g.expand(tuple(shape))


# --- formulas: (ctx, g, inputs) -> one gradient (or None) per forward argument ---------------
@formula("Add")
def _add(ctx, g, ins):
    a, b = ins
    return (_sum_to(g, ctx.shapes[0]) if a is not None else None,
            _sum_to(g, ctx.shapes[1]) if b is not None else None)


@formula("Sub")
def _sub(ctx, g, ins):
    a, b = ins
    return (_sum_to(g, ctx.shapes[0]) if a is not None else None,
            _sum_to(-g, ctx.shapes[1]) if b is not None else None)


@formula("Mul")
def _mul(ctx, g, ins):
    a, b = ins
    a_val = a if a is not None else _constant(ctx.saved_tensors[0])
    b_val = b if b is not None else _constant(ctx.saved_tensors[1])
    return (_sum_to(g * b_val, ctx.shapes[0]) if a is not None else None,
            _sum_to(g * a_val, ctx.shapes[1]) if b is not None else None)


@formula("Div")
def _div(ctx, g, ins):
    a, b = ins
    a_val = a if a is not None else _constant(ctx.saved_tensors[0])
    b_val = b if b is not None else _constant(ctx.saved_tensors[1])
    return (_sum_to(g / b_val, ctx.shapes[0]) if a is not None else None,
            _sum_to(-g * a_val / (b_val * b_val), ctx.shapes[1]) if b is not None else None)


@formula("Rsub")
def _rsub(ctx, g, ins):
    return (-g,)


@formula("RpowNumber")
def _rpow_number(ctx, g, ins):
    if ctx.number == 0:
        return (g * 0,)
    return (g * ctx.number ** ins[0] * math.log(ctx.number),)


@formula("Neg")
def _neg(ctx, g, ins):
    return (-g,)


@formula("Pow")
def _pow(ctx, g, ins):
    (a, _) = ins
    p = ctx.exponent
    if p == 0:
        return (g * 0, None)
    return (g * p * a ** (p - 1), None)


@formula("Exp")
def _exp(ctx, g, ins):
    return (g * ins[0].exp(),)


@formula("Log")
def _log(ctx, g, ins):
    return (g / ins[0],)


@formula("Sqrt")
def _sqrt(ctx, g, ins):
    return (g / (2 * ins[0].sqrt()),)


@formula("Sigmoid")
def _sigmoid(ctx, g, ins):
    s = ins[0].sigmoid()
    return (g * s * (1 - s),)


@formula("Tanh")
def _tanh(ctx, g, ins):
    t = ins[0].tanh()
    return (g * (1 - t * t),)


@formula("ReLU")
def _relu(ctx, g, ins):
    return (g * _constant((ins[0]._data > 0).astype(ins[0]._data.dtype)),)


@formula("LeakyReLU")
def _leaky_relu(ctx, g, ins):
    x = ins[0]._data
    slope = np.where(x > 0, 1, ctx.slope).astype(x.dtype)
    return (g * _constant(slope),) + (None,) * (len(ins) - 1)


@formula("Abs")
def _abs(ctx, g, ins):
    return (g * _constant(np.sign(ins[0]._data)),)


@formula("Clamp")
def _clamp(ctx, g, ins):
    from fastnn.ops.elementwise import clamp_mask
    x = ins[0]._data
    return (g * _constant(clamp_mask(x, *ctx.bounds).astype(x.dtype)), None, None)


@formula("Where")
def _where(ctx, g, ins):
    (condition,) = ctx.saved_tensors
    keep = _constant(np.asarray(condition).astype(g._data.dtype))
    _, a, b = ins
    return (None,
            _sum_to(g * keep, ctx.shapes[0]) if a is not None else None,
            _sum_to(g * (1 - keep), ctx.shapes[1]) if b is not None else None)


_UNARY = {
    "Sin": lambda x: x.cos(), "Cos": lambda x: -x.sin(), "Tan": lambda x: 1 + x.tan() ** 2,
    "Sinh": lambda x: x.cosh(), "Cosh": lambda x: x.sinh(),
    "Asin": lambda x: (1 - x * x).rsqrt(), "Acos": lambda x: -(1 - x * x).rsqrt(),
    "Atan": lambda x: 1 / (1 + x * x), "Log2": lambda x: 1 / (x * math.log(2)),
    "Log10": lambda x: 1 / (x * math.log(10)), "Log1p": lambda x: 1 / (1 + x),
    "Expm1": lambda x: x.exp(), "Exp2": lambda x: x.exp2() * math.log(2),
    "Rsqrt": lambda x: -0.5 * x.rsqrt() ** 3, "Reciprocal": lambda x: -1 / (x * x),
}
for _name, _derivative in _UNARY.items():
    formula(_name)(lambda ctx, g, ins, d=_derivative: (g * d(ins[0]),))


@formula("Sum")
def _sum(ctx, g, ins):
    shape, axes, keepdim = ctx.meta
    return (_expand_back(g, shape, axes, keepdim), None, None)


@formula("Mean")
def _mean(ctx, g, ins):
    shape, axes, keepdim, count = ctx.meta
    return (_expand_back(g / max(count, 1), shape, axes, keepdim), None, None)


@formula("Norm")
def _norm(ctx, g, ins):
    x = ins[0]
    p, axes, keepdim = ctx.meta
    if p in (math.inf, -math.inf) or p == 0:
        raise NotImplementedError(f"create_graph=True: the gradient of the {p}-norm is not "
                                  "differentiable again in fastnn")
    dims = None if axes is None else tuple(axes)
    n = ((x.abs() ** p).sum(dim=dims, keepdim=True) if dims is not None
         else (x.abs() ** p).sum().reshape((1,) * x.ndim)) ** (1.0 / p)
    spread = _expand_back(g, tuple(x.shape), axes, keepdim)
    if p == 2:
        return (spread * x / n, None, None, None)
    return (spread * x.sign() * x.abs() ** (p - 1) / n ** (p - 1), None, None, None)


@formula("Softmax")
def _softmax(ctx, g, ins):
    s = ins[0].softmax(ctx.dim)
    return (s * (g - (g * s).sum(dim=ctx.dim, keepdim=True)), None)


@formula("LogSoftmax")
def _log_softmax(ctx, g, ins):
    s = ins[0].softmax(ctx.dim)
    return (g - s * g.sum(dim=ctx.dim, keepdim=True), None)


@formula("Reshape", "Unsqueeze", "Squeeze")
def _reshape(ctx, g, ins):
    return (g.reshape(tuple(ctx.in_shape)), None)


@formula("Permute", "Transpose", "T")
def _permute(ctx, g, ins):
    return (g.permute(*[int(i) for i in np.argsort(ctx.dims)]), None)


@formula("Expand")
def _expand(ctx, g, ins):
    return (_sum_to(g, ctx.in_shape), None)


@formula("Clone")
def _clone(ctx, g, ins):
    return (g,)


@formula("GetItem", "Select", "Slice")
def _getitem(ctx, g, ins):
    from fastnn.ops.torch_spellings import IndexPutAccumulate
    shape, index = ctx.meta
    zeros = Tensor._wrap(np.zeros(shape, dtype=g._data.dtype))
    return (IndexPutAccumulate.apply(zeros, index, g), None)


@formula("Concatenate")
def _concatenate(ctx, g, ins):
    parts, start = [None], 0
    for size in ctx.sizes:
        parts.append(g.narrow(ctx.dim, start, size))
        start += size
    return tuple(parts)


@formula("MatMul")
def _matmul(ctx, g, ins):
    a, b = ins
    a_val = a if a is not None else _constant(ctx.saved_tensors[0])
    b_val = b if b is not None else _constant(ctx.saved_tensors[1])
    a2 = a_val.unsqueeze(0) if a_val.ndim == 1 else a_val
    b2 = b_val.unsqueeze(-1) if b_val.ndim == 1 else b_val
    g2 = g.unsqueeze(-2) if a_val.ndim == 1 else g
    g2 = g2.unsqueeze(-1) if b_val.ndim == 1 else g2
    ga = gb = None
    if a is not None:
        ga = _sum_to(g2 @ b2.transpose(-1, -2), tuple(a2.shape)).reshape(tuple(a_val.shape))
    if b is not None:
        gb = _sum_to(a2.transpose(-1, -2) @ g2, tuple(b2.shape)).reshape(tuple(b_val.shape))
    return ga, gb


def _linear_grads(ctx, g, ins):
    x, weight, bias = ins
    w_val = weight if weight is not None else _constant(ctx.saved_tensors[1])
    x_val = x if x is not None else _constant(ctx.saved_tensors[0].reshape(ctx.in_shape))
    rows_g = g.reshape(-1, int(w_val.shape[0]))
    ga = (g @ w_val) if x is not None else None
    gw = (rows_g.t() @ x_val.reshape(-1, int(w_val.shape[1]))) if weight is not None else None
    gb = rows_g.sum(0) if bias is not None else None
    return ga, gw, gb


@formula("Linear")
def _linear(ctx, g, ins):
    return _linear_grads(ctx, g, ins)


@formula("LinearReLU")
def _linear_relu(ctx, g, ins):
    out = ctx.saved_tensors[2]
    mask = _constant((out > 0).astype(out.dtype).reshape(tuple(g.shape)))
    return _linear_grads(ctx, g * mask, ins)


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
    from fastnn.ops.torch_spellings import IndexPutAccumulate
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
        from fastnn import backend
        shape, count_include_pad, in_shape = meta
        gx = np.zeros(in_shape, dtype=np.float32)
        if g.size:
            backend.avgpool2d_backward(np.ascontiguousarray(g, dtype=np.float32), gx, shape,
                                       count_include_pad)
        ctx.meta = meta
        return gx

    @staticmethod
    def backward(ctx, gg):
        from fastnn import backend
        shape, count_include_pad, in_shape = ctx.meta
        n, c, _, _, _, oh, ow = shape[:7]
        y = np.zeros((n, c, oh, ow), dtype=np.float32)
        if y.size:
            backend.avgpool2d_forward(np.ascontiguousarray(gg, dtype=np.float32), y, shape,
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
    grads = _vjp_of(lambda x, w, b: _batch_norm_composite(x, w, b, eps, training, mean, var),
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
    top, h, left, w = ctx.crop
    return (g[..., top:top + h, left:left + w], None, None)


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


@formula("Maximum")
def _maximum(ctx, g, ins):
    a, b = ins
    av, bv = ctx.saved_tensors
    share = ((av > bv) + 0.5 * (av == bv)).astype(g._data.dtype)
    return (_sum_to(g * _constant(share), np.shape(av)) if a is not None else None,
            _sum_to(g * _constant(1 - share), np.shape(bv)) if b is not None else None)


@formula("Gather")
def _gather(ctx, g, ins):
    from fastnn.ops.torch_spellings import IndexPutAccumulate
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
    grads, at, single = [], 0, len(ctx.slots) == 1
    for slot in ctx.slots:
        if slot is None:
            grads.append(None)
            continue
        shape, dtype, live = slot
        if not live:
            grads.append(Tensor._wrap(np.zeros(shape, dtype)) if ctx.user_ctx.materialize_grads
                         else None)
            continue
        size = int(np.prod(shape, dtype=np.int64))
        grads.append(g if single else g[at:at + size].reshape(shape))
        at += size
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


def _vjp_of(composite, ins, g):
    """The gradients of composite(*ins) (recorded ops re-deriving an op that has a fused
    kernel) with respect to the inputs that require grad, themselves recorded."""
    out = composite(*ins)
    wanted = [x for x in ins if isinstance(x, Tensor) and x.requires_grad]
    found = backward(out, g, capture=wanted) if out.requires_grad else {}
    return tuple(found.get(id(x)) if isinstance(x, Tensor) and x.requires_grad else None
                 for x in ins)


@formula("LayerNorm")
def _layer_norm(ctx, g, ins):
    from fastnn.ops.normalization import layer_norm_composite
    axes, eps = ctx.meta
    x, weight, bias = ins[:3]
    grads = _vjp_of(lambda a, w, b: layer_norm_composite(a, w, b, axes, eps),
                    [x, weight, bias], g)
    return grads + (None, None)


# --- the recorded pass ---------------------------------------------------------------------
def _inputs(node):
    """The node's forward arguments as tensors: a leaf as itself, an intermediate as the array
    the node saw with its producing node as grad_fn, None for non-tensor arguments."""
    arrays = {position: array for _, _, array, position in node.versions if position >= 0}
    inputs = []
    for position, edge in enumerate(node.edges):
        if position not in arrays:
            inputs.append(None)
        elif isinstance(edge, Tensor):
            inputs.append(edge)
        elif type(edge) is Node:
            inputs.append(Tensor._wrap(arrays[position], requires_grad=True, node=edge))
        else:
            inputs.append(Tensor._wrap(arrays[position]))
    return inputs


def _node_gradients(node, g):
    rule = _FORMULAS.get(node.function.__name__)
    if rule is None:
        raise NotImplementedError(f"create_graph=True: fastnn has no differentiable backward "
                                  f"for {node.name()} yet (its gradient cannot be "
                                  f"differentiated again)")
    node.check_versions()
    ins = _inputs(node)
    grads = rule(node.ctx, g, [x if (x is not None and x.requires_grad) else
                               (None if x is None else x.detach())
                               for x in ins])
    # an input that does not require grad gets no gradient, as in the ordinary pass
    return [None if (x is None or not x.requires_grad) else pg for x, pg in zip(ins, grads)]


def backward(root, grad, capture=None):
    """Gradients of root with respect to the leaves (or, with capture, to those tensors) as
    tensors whose own graph is recorded. Returns {id(tensor): gradient} when capturing."""
    if not root.requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                           "grad_fn")
    from fastnn.autograd.engine import _root_gradient, _topological_order
    if not isinstance(grad, Tensor):
        grad = Tensor._wrap(_root_gradient(root, grad))
    start = edge_of(root)
    captured = {}
    wanted, targets = None, {}
    if capture is not None:
        wanted = set()
        for t in capture:
            edge = edge_of(t)
            if type(edge) is Node:
                targets.setdefault(id(edge), []).append(t)
            else:
                wanted.add(id(t))
    if type(start) is not Node:
        _deliver(root, grad, wanted, captured, capture is not None)
        return captured
    pending = {id(start): grad}
    with enable_grad():
        for entry in reversed(_topological_order(start)):
            g = pending.pop(id(entry), None)
            if g is None:
                continue
            if type(entry) is not Node:
                _deliver(entry, g, wanted, captured, capture is not None)
                continue
            if entry.prehooks:
                for hook in list(entry.prehooks.values()):
                    new = hook(g)
                    g = g if new is None else new
            for t in entry.retained or ():
                t._grad = g if t._grad is None else t._grad + g
            for t in targets.get(id(entry), ()):
                captured[id(t)] = g if id(t) not in captured else captured[id(t)] + g
            for edge, pg in zip(entry.edges, _node_gradients(entry, g)):
                if edge is None or pg is None:
                    continue
                key = id(edge)
                pending[key] = pg if key not in pending else pending[key] + pg
    return captured


def _deliver(leaf, g, wanted, captured, capturing):
    if capturing:
        if id(leaf) in wanted:
            captured[id(leaf)] = g if id(leaf) not in captured else captured[id(leaf)] + g
        return
    for hook in (leaf._hooks or {}).values():
        new = hook(g)
        g = g if new is None else new
    leaf._grad = g if leaf._grad is None else leaf._grad + g
    for hook in list((leaf._post_accumulate_hooks or {}).values()):
        hook(leaf)


def warn_backward_cycle():
    warnings.warn("Using backward() with create_graph=True will create a reference cycle "
                  "between the parameter and its gradient which can cause a memory leak. We "
                  "recommend using autograd.grad when creating the graph to avoid this. If you "
                  "have to use this function, make sure to reset the .grad fields of your "
                  "parameters to None after use to break the cycle and avoid the leak.",
                  UserWarning, stacklevel=3)
