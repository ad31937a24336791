"""create_graph's formulas for the arithmetic, elementwise, reduction, shape, indexing,
softmax, matmul and linear ops: each op's gradient written in recorded tensor ops (the same
derivative its NumPy backward computes), registered by op name with higher_order.formula.
Each takes (ctx, g, inputs) and gives one gradient (or None) per forward argument."""
import math

import numpy as np

from fastnn.autograd.higher_order import formula
from fastnn.tensor import Tensor

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
    b_saved, a_saved = ctx.saved_tensors  # (Mul saves other first, as torch)
    a_val = a if a is not None else _constant(a_saved)
    b_val = b if b is not None else _constant(b_saved)
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


@formula("Reshape", "Unsqueeze", "Squeeze", "SqueezeDim", "SqueezeDims")
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


@formula("CopyFrom")
def _copy_from(ctx, g, ins):
    """old.copy_(value): the old values are gone (a zero gradient), value gets g summed back
    to its shape, in its dtype."""
    from fastnn import dtypes
    old, value = ins
    if value is not None:
        value = _sum_to(g, ctx.shape).to(dtypes.of_array(np.empty(0, ctx.dtype)))
    return (g * 0 if old is not None else None), value


@formula("GetItem", "Select", "Slice")
def _getitem(ctx, g, ins):
    from fastnn.ops.indexing_ops import IndexPutAccumulate
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
