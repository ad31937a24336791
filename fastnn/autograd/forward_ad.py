"""torch.autograd.forward_ad: forward-mode automatic differentiation with dual tensors.

Inside `dual_level()`, make_dual(primal, tangent) gives a tensor that carries a tangent (the
direction v). Every op run on it computes its output's tangent at once, alongside the value
(J v, the Jacobian-vector product), with or without grad mode, as torch's do; unpack_dual reads
it back. Leaving the level forgets every tangent made in it.

How an op's tangent is formed (`propagate`, called by Function.apply for ops whose inputs
carry tangents):
- ops that name a `tangent_rule`, on the NumPy arrays: elementwise ops of one tensor
  ("diagonal": J is diagonal, so J v is the op's backward applied to v), ops linear in their
  tensor ("linear": flip, roll, repeat give op(v)), multilinear ones ("multilinear": einsum,
  by the product rule), elementwise ops of several tensors ("elementwise": atan2, pow) and
  reductions along axes ("reduction": prod, max along a dimension);
- an op with a one-element output (full reductions, losses): its Jacobian is one row, which
  its backward of 1 gives, so J v is that row's dot product with v;
- every other op with a create_graph formula (higher_order.py): the formula's J^T u is
  recorded as a function of a fresh u, and J v is the gradient of <J^T u, v> with respect to
  u (the "double-vjp" identity; Townsend 2017, "A new trick for calculating Jacobian vector
  products"). It costs one recorded backward and one plain backward of the op;
- user Functions (autograd.Function) use their own jvp staticmethod (custom_function.py).
An op with neither raises NotImplementedError naming it, as torch does for ops without a
forward derivative. Tangents are kept on the tensors themselves (the `_fw` slot: the level's
generation and the tangent), so nothing is looked up for tensors outside a level and ops pay
one global read when no level is open.
"""
from collections import namedtuple

import numpy as np

import functools


class _State:
    level = None  # the open level (0), or None
    generation = 0  # bumped at every enter: tangents of a closed level are stale
    # id(array) -> (array, tangent) for every tensor given a tangent in the open level: the
    # recorded backward pass (higher_order.py) rebuilds an op's inputs from their arrays and
    # finds their tangents here, so a gradient taken inside a level carries its own tangent
    # (forward-over-reverse: jvp(grad(f)) is a Hessian-vector product)
    arrays = {}


_state = _State()

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level",
           "make_dual", "unpack_dual"]


class UnpackedDualTensor(namedtuple("UnpackedDualTensor", ["primal", "tangent"])):
    """What unpack_dual returns: the primal (a view without the tangent) and the tangent."""


def enter_dual_level():
    if _state.level is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _state.generation += 1
    _state.level = 0
    _state.arrays = {}
    _function_extras().update()
    return 0


def exit_dual_level(*, level=None):
    if level is None:
        level = _state.level
    if level is None or level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    if level != _state.level:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that "
                           "was created. This is not supported.")
    _state.level = None
    _state.generation += 1
    _state.arrays = {}
    _function_extras().update()


def _function_extras():
    from fastnn.autograd.function import _extras
    return _extras


class dual_level:
    """Context manager (and decorator) for one forward AD level: every dual tensor made
    inside loses its tangent when it ends."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, exc_type, exc_value, traceback):
        exit_dual_level()

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with dual_level():
                return fn(*args, **kwargs)
        return wrapper


def tangent_of(t):
    """t's tangent at the open level, or None."""
    fw = getattr(t, "_fw", None)
    if fw is None or fw[0] != _state.generation or _state.level is None:
        return None
    return fw[1]


def set_tangent(t, tangent):
    t._fw = (_state.generation, tangent)
    _state.arrays[id(t._data)] = (t._data, tangent)


def tangent_of_array(array):
    """The tangent of the tensor whose array this is, in the open level, or None."""
    if _state.level is None:
        return None
    found = _state.arrays.get(id(array))
    return found[1] if found is not None and found[0] is array else None


def with_tangent_of(source, t):
    """t, given source's tangent (if it has one): for a transform's fresh leaves and results,
    which must stay dual for a forward-mode transform around them."""
    tangent = tangent_of(source)
    if tangent is not None:
        set_tangent(t, tangent)
    return t


def any_tangent(tensors):
    return _state.level is not None and any(tangent_of(t) is not None for t in tensors)


def _level_for(level, action):
    if level is None:
        level = _state.level
    if level is None:
        raise RuntimeError(f"Trying to {action} for forward AD but no level exists, make sure "
                           "to enter_dual_level() first.")
    return level


def _floating_name(t):
    from fastnn import dtypes
    return t.dtype.is_floating_point or t.dtype is dtypes.bfloat16


def make_dual(tensor, tangent, *, level=None):
    """A view of `tensor` whose tangent is `tangent` (used as it is when its strides are the
    tensor's, else copied into the tensor's layout), as torch's."""
    from fastnn.tensor import Tensor
    level = _level_for(level, "create a dual Tensor")
    for name, t in (("primal", tensor), ("tangent", tangent)):
        if not isinstance(t, Tensor):
            raise TypeError(f"make_dual(): argument '{name}' must be Tensor, not "
                            f"{type(t).__name__}")
        if not _floating_name(t):
            raise ValueError(f"Expected {name} to be floating point or complex, but got: "
                             f"{t.dtype}")
    if tangent_of(tensor) is not None:
        raise RuntimeError(f"Making a dual Tensor based on a Tensor that already has a forward "
                           f"gradient at the same level {level} is not supported.")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError("Trying to set a forward gradient that has a different size than "
                           "that of the original Tensor, this is not supported. Tensor is of "
                           f"size {list(tensor.shape)} while the given forward gradient is of "
                           f"size {list(tangent.shape)}.")
    if tangent._data.strides != tensor._data.strides:
        layout = np.empty_like(tensor._data, dtype=tangent._data.dtype)
        layout[...] = tangent._data
        tangent = Tensor._wrap(layout)
    dual = tensor.view_as(tensor)
    set_tangent(dual, tangent)
    return dual


def unpack_dual(tensor, *, level=None):
    """(primal, tangent): a view of `tensor` without its tangent, and the tangent (None when
    it has none at this level)."""
    tangent = tangent_of(tensor) if _state.level is not None else None
    return UnpackedDualTensor(tensor.view_as(tensor), tangent)


# --- propagation through fastnn's ops (Function.apply) ---------------------------------------
def tangents_of(args):
    """Per argument its tangent (None for non-tensors and tensors without one), or None when
    no argument has one."""
    from fastnn.tensor import Tensor
    found, any_tangent = [], False
    for a in args:
        v = tangent_of(a) if isinstance(a, Tensor) else None
        any_tangent = any_tangent or v is not None
        found.append(v)
    return found if any_tangent else None


def _not_supported(name):
    return NotImplementedError(
        f"Trying to use forward AD with {name} that does not support it because it has not "
        "been implemented yet. (fastnn: no forward derivative for this op yet)")


def propagate(function, ctx, args, tangents, out):
    """Give `out` (the output of function.forward(ctx, *args)) its tangent J v."""
    from fastnn.tensor import Tensor
    data = out._data
    if data.dtype.kind != "f" and data.dtype.kind != "V":
        return  # integer and boolean outputs (argmax, comparisons) carry no tangent
    rule = function.tangent_rule
    if rule is not None:
        tangent = _RULES[rule](function, ctx, args, tangents, data)
    else:
        from fastnn.autograd.higher_order import _FORMULAS
        formula = _FORMULAS.get(function.__name__)
        if formula is None and data.size == 1:
            tangent = _scalar_output(function, ctx, args, tangents, data)
        elif formula is None:
            raise _not_supported(_op_name(function, ctx))
        else:
            tangent = _by_formula(formula, ctx, args, tangents, data)
    set_tangent(out, Tensor._wrap(np.asarray(tangent, dtype=data.dtype).reshape(data.shape)))


def _array(v, dtype):
    """A tangent as a fresh C-contiguous array (backward kernels may write into their
    gradient argument)."""
    return np.array(v._data, dtype=dtype, order="C")


def _first(result):
    return result[0] if isinstance(result, tuple) else result


def _diagonal(function, ctx, args, tangents, data):
    """Elementwise op of its first argument: J is diagonal, so J v = J^T v = backward(v)."""
    v = tangents[0]
    if v is None:
        return np.zeros(data.shape, data.dtype)
    return _first(function.backward(ctx, _array(v, data.dtype)))


def _fresh_forward(function, args):
    from fastnn.autograd.function import Context
    return function.forward(Context((False,) * len(args)), *args)


def _raw(a):
    from fastnn.tensor import Tensor
    return a._data if isinstance(a, Tensor) else a


def _linear(function, ctx, args, tangents, data):
    """An op linear in its first argument (flip, roll, repeat): J v = op(v)."""
    v = tangents[0]
    if v is None:
        return np.zeros(data.shape, data.dtype)
    return _fresh_forward(function, [_array(v, args[0]._data.dtype)] +
                          [_raw(a) for a in args[1:]])


def _multilinear(function, ctx, args, tangents, data):
    """An op linear in each tensor argument separately (einsum): the product rule, one term
    per argument with a tangent, that argument replaced by it."""
    raw = [_raw(a) for a in args]
    total = np.zeros(data.shape, data.dtype)
    for i, v in enumerate(tangents):
        if v is not None:
            term = list(raw)
            term[i] = _array(v, raw[i].dtype)
            total = total + _fresh_forward(function, term)
    return total


def _elementwise(function, ctx, args, tangents, data):
    """An elementwise op of several tensors (atan2, pow, remainder): with every argument
    broadcast to the output's shape, backward(ones) gives each partial derivative per
    element, and J v is their sum weighted by the tangents."""
    from fastnn.autograd.function import Context
    from fastnn.tensor import Tensor
    raw = [np.array(np.broadcast_to(a._data, data.shape)) if isinstance(a, Tensor) else a
           for a in args]
    wide = Context(tuple(v is not None for v in tangents))
    function.forward(wide, *raw)
    partials = function.backward(wide, np.ones(data.shape, data.dtype))
    partials = partials if isinstance(partials, tuple) else (partials,)
    total = np.zeros(data.shape, data.dtype)
    for d, v in zip(partials, tangents):
        if d is not None and v is not None:
            total = total + d * np.broadcast_to(v._data, data.shape)
    return total


def _reduction(function, ctx, args, tangents, data):
    """A reduction of its first argument along some axes (prod, max along a dimension): each
    input element feeds one output element, so backward(ones) holds the partial derivatives
    and J v sums their products with v over the reduced axes (function.reduction_axes)."""
    v = tangents[0]
    if v is None:
        return np.zeros(data.shape, data.dtype)
    partials = _first(function.backward(ctx, np.ones(data.shape, data.dtype)))
    axes, keepdim = function.reduction_axes(ctx)
    return np.sum(partials * v._data, axis=axes, keepdims=keepdim)


def _scalar_output(function, ctx, args, tangents, data):
    """A one-element output: J is one row, which backward(1) gives, so J v = sum_i <J_i, v_i>
    (full reductions such as max, prod and norm, and the losses)."""
    grads = function.backward(ctx, np.ones(data.shape, data.dtype))
    grads = grads if isinstance(grads, tuple) else (grads,)
    total = np.zeros((), np.float64)
    for g, v in zip(grads, tangents):
        if g is not None and v is not None:
            total = total + np.sum(np.asarray(g, np.float64) * v._data)
    return total


def _by_formula(rule, ctx, args, tangents, data):
    """J v from the op's create_graph formula: J^T u recorded as a function of a fresh u,
    then the gradient of <J^T u, v> with respect to u."""
    from fastnn.autograd.engine import grad
    from fastnn.autograd.grad_mode import enable_grad
    from fastnn.tensor import Tensor
    u = Tensor._wrap(np.zeros(data.shape, data.dtype), requires_grad=True)
    # inputs with a tangent require grad: composite formulas (formulas_nn.vjp_of) only form
    # the gradients of inputs that do
    ins = [None if not isinstance(a, Tensor) else Tensor._wrap(a._data, requires_grad=v is not None)
           for a, v in zip(args, tangents)]
    total = None
    with enable_grad():
        for g, v in zip(rule(ctx, u, ins), tangents):
            if g is None or v is None:
                continue
            term = (g * Tensor._wrap(np.asarray(v._data, dtype=g._data.dtype))).sum()
            total = term if total is None else total + term
    if total is None or not total.requires_grad:
        return np.zeros(data.shape, data.dtype)
    found, = grad(total, [u], allow_unused=True, materialize_grads=True)
    return found._data


_RULES = {"diagonal": _diagonal, "linear": _linear, "multilinear": _multilinear,
          "elementwise": _elementwise, "reduction": _reduction}


def _op_name(function, ctx):
    name = ctx.__dict__.get("backward_name") or function.backward_name or \
        f"{function.__name__}Backward0"
    return name[:-len("Backward0")] if name.endswith("Backward0") else name
