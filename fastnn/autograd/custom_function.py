"""torch.autograd.Function for users: forward and backward written with tensors, as the
tutorials' LegendrePolynomial3 and pytorch/examples' custom ops are.

fastnn's own ops (fastnn/autograd/function.py) take and return NumPy arrays. A user's Function
takes and returns Tensors, so apply() runs the user's forward under no_grad, then records one
internal node (_Bridge) whose backward wraps the incoming gradient as Tensors, calls the user's
backward and hands the arrays back to the engine. Several outputs are recorded as one node
whose output is their concatenation; each returned tensor is a differentiable slice of it, so
their gradients meet in that node as torch's multi-output nodes do.

Both styles of torch 2 are accepted: forward(ctx, *args), and forward(*args) with a separate
setup_context(ctx, inputs, output).
"""
import functools

import numpy as np

from fastnn import dtypes
from fastnn.autograd import forward_ad, grad_mode
from fastnn.autograd.function import Function as _Op
from fastnn.autograd.function import _extras as _op_extras
from fastnn.ops.broadcast import unbroadcast
from fastnn.tensor import Tensor


class FunctionCtx:
    """The ctx a user's forward and backward share: save_for_backward, saved_tensors,
    needs_input_grad, mark_non_differentiable, mark_dirty, set_materialize_grads, and any
    attribute the user sets."""

    def __init__(self):
        self._saved = ()
        self._non_differentiable = set()
        self._dirty = set()
        self.materialize_grads = True
        self.needs_input_grad = ()

    def save_for_backward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{tensors.index(t)} is of type {type(t).__name__}")
        # each tensor with the version it had, so a later in-place change is caught
        self._saved = tuple((t, None if t is None else t._version[0]) for t in tensors)
        self._packed = None
        if _op_extras.saved_hooks:  # autograd.graph.saved_tensors_hooks: keep only the packed
            from fastnn.autograd.graph import pack_saved
            self._packed = pack_saved(tensors, [None if t is None else t._data for t in tensors])
            if self._packed is not None:
                self._saved = ()

    @property
    def saved_tensors(self):
        if getattr(self, "_packed", None) is not None:
            from fastnn.autograd.graph import unpack_entry
            return tuple(None if e is None else unpack_entry(e) for e in self._packed)
        for t, version in self._saved:
            if t is not None and t._version[0] != version:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: [fastnn.{dtypes.of_array(t._data).tensor_type} "
                    f"[{', '.join(map(str, t.shape))}]] is at version {t._version[0]}; "
                    f"expected version {version} instead. Hint: the tensor was changed in "
                    "place after save_for_backward; clone() it before the in-place op.")
        return tuple(t for t, _ in self._saved)

    saved_variables = saved_tensors

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable.update(id(t) for t in tensors)

    def mark_dirty(self, *tensors):
        self._dirty.update(id(t) for t in tensors)

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)


class _Bridge(_Op):
    """The engine's node for one call of a user's Function. `slots` has one entry per
    forward output: its shape and dtype when it is a tensor (None otherwise) and whether it
    is differentiable (packed into this node's output)."""

    @staticmethod
    def forward(ctx, *raw, user, user_ctx, slots, packed):
        # only shapes are kept: holding the output arrays would make the engine's version
        # check refuse an output changed in place that backward never reads
        ctx.user, ctx.user_ctx, ctx.slots = user, user_ctx, slots
        ctx.backward_name = f"{user.__name__}Backward"
        ctx.arg_count = len(raw)
        ctx.input_shapes = tuple(getattr(a, "shape", None) for a in raw)
        ctx.input_dtypes = tuple(getattr(a, "dtype", None) for a in raw)
        return packed

    @staticmethod
    def backward(ctx, grad):
        grads = output_gradients(ctx, grad, lambda piece, dtype: Tensor._wrap(
            np.ascontiguousarray(piece.astype(dtype, copy=False))))
        user_ctx = ctx.user_ctx
        user_ctx.needs_input_grad = ctx.needs_input_grad
        with grad_mode.no_grad():
            result = ctx.user.backward(user_ctx, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        name = ctx.backward_name
        if len(result) < ctx.arg_count or any(r is not None for r in result[ctx.arg_count:]):
            raise RuntimeError(f"function {name} returned an incorrect number of gradients "
                               f"(expected {ctx.arg_count}, got {len(result)})")
        out = []
        for i, r in enumerate(result[:ctx.arg_count]):
            if r is None or ctx.input_shapes[i] is None or not ctx.needs_input_grad[i]:
                out.append(None)
                continue
            if not isinstance(r, Tensor):
                raise TypeError(f"function {name} returned a gradient of type "
                                f"{type(r).__name__} at index {i}; expected a Tensor or None")
            out.append(_fit(r._data, ctx.input_shapes[i], ctx.input_dtypes[i], name, i))
        return tuple(out)


def output_gradients(ctx, grad, as_tensor):
    """The user's grad_outputs, one per forward output, cut from the node's packed gradient:
    None for a non-tensor output, zeros (or None) for a non-differentiable one, and
    as_tensor(slice, dtype) for the rest. The plain pass gives arrays, create_graph's
    recorded pass (autograd/formulas_nn.py) tensors."""
    grads, at, single = [], 0, len(ctx.slots) == 1
    for slot in ctx.slots:
        if slot is None:  # not a tensor: torch passes None
            grads.append(None)
            continue
        shape, dtype, live = slot
        if not live:  # a non-differentiable tensor output: zeros, as torch materialises
            grads.append(Tensor._wrap(np.zeros(shape, dtype)) if ctx.user_ctx.materialize_grads
                         else None)
            continue
        size = int(np.prod(shape, dtype=np.int64))
        piece = grad if single else grad[at:at + size].reshape(shape)
        at += size
        grads.append(as_tensor(piece, dtype))
    return grads


class _Take(_Op):
    """Output `index` of a multi-output user Function: its slice of the bridge's packed
    output, shown as the user's node (grad_fn=<MyFnBackward>) as torch shows every output."""

    @staticmethod
    def forward(ctx, packed, at, shape, dtype, name):
        ctx.backward_name = name
        ctx.at, ctx.size = at, int(np.prod(shape, dtype=np.int64))
        ctx.total, ctx.packed_dtype = packed.shape[0], packed.dtype
        return packed[at:at + ctx.size].reshape(shape).astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        full = np.zeros(ctx.total, ctx.packed_dtype)
        full[ctx.at:ctx.at + ctx.size] = grad.reshape(-1)
        return full, None, None, None, None


def _fit(grad, shape, dtype, name, index):
    """The gradient in its input's shape (summed over broadcast dimensions, as torch's
    sum_to) and dtype; a shape that does not broadcast to it is torch's error."""
    if grad.shape != shape:
        try:
            expandable = np.broadcast_shapes(grad.shape, shape) == grad.shape
        except ValueError:
            expandable = False
        if not expandable:
            raise RuntimeError(f"Function {name} returned an invalid gradient at index {index} "
                               f"- got {list(grad.shape)} but expected shape compatible with "
                               f"{list(shape)}")
        grad = unbroadcast(grad, shape)
    return grad.astype(dtype, copy=False)


class Function:
    """Subclass with static forward and backward (and optionally setup_context), then call
    MyFn.apply(*args)."""

    def __init__(self, *args, **kwargs):
        pass  # torch warns that instantiating is deprecated; apply is a classmethod

    @staticmethod
    def forward(*args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward "
                                  "mode AD.")

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        if kwargs:
            raise TypeError(f"{cls.__name__}.apply() takes no keyword arguments (torch's "
                            "Function.apply takes positional arguments only)")
        ctx = FunctionCtx()
        if forward_ad._state.level is not None:
            tangents = forward_ad.tangents_of(args)
            if tangents is not None:
                return _apply_dual(cls, ctx, args, tangents)
        return _apply(cls, ctx, args)


def _apply_dual(cls, ctx, args, tangents):
    """apply() on inputs with forward-AD tangents: forward runs on the primals (forward AD off
    inside it, as in torch), then the user's jvp(ctx, *input tangents) gives the outputs'."""
    state = forward_ad._state
    level, state.level = state.level, None
    try:
        result = _apply(cls, ctx, args)
    finally:
        state.level = level
    grad_inputs = []
    for a, v in zip(args, tangents):
        if v is None and isinstance(a, Tensor) and ctx.materialize_grads:
            v = Tensor._wrap(np.zeros_like(a._data))
        grad_inputs.append(v)
    with grad_mode.no_grad():
        found = cls.jvp(ctx, *grad_inputs)
    outputs = result if isinstance(result, tuple) else (result,)
    found = found if isinstance(found, tuple) else (found,)
    for out, tangent in zip(outputs, found):
        if isinstance(out, Tensor) and isinstance(tangent, Tensor):
            if tuple(tangent.shape) != tuple(out.shape):
                raise RuntimeError(f"Function {cls.__name__}Backward returned an invalid "
                                   f"forward gradient: got {list(tangent.shape)} but expected "
                                   f"{list(out.shape)}")
            forward_ad.set_tangent(out, tangent)
    return result


def _apply(cls, ctx, args):
    """The user's forward, and the graph node that calls their backward when an input needs
    a gradient."""
    ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
    # torch 2's style: forward(*args) without ctx, then setup_context(ctx, inputs, output)
    separate = cls.setup_context is not Function.setup_context
    with grad_mode.no_grad():
        if separate:
            result = cls.forward(*args)
        else:
            result = cls.forward(ctx, *args)
    if separate:
        cls.setup_context(ctx, args, result)
    single = not isinstance(result, tuple)
    results = (result,) if single else result
    wanted = grad_mode.is_grad_enabled() and any(ctx.needs_input_grad)
    slots, live = [], []
    for r in results:
        if not isinstance(r, Tensor):
            slots.append(None)
            continue
        differentiable = (r._data.dtype in dtypes.FLOATING_NUMPY
                          and id(r) not in ctx._non_differentiable)
        slots.append((r.shape, r._data.dtype, differentiable))
        if differentiable:
            live.append(r)
    if not wanted or not live:
        return result
    if single:
        return _Bridge.apply(*args, user=cls, user_ctx=ctx, slots=tuple(slots),
                             packed=live[0]._data)
    common = np.result_type(*[r._data.dtype for r in live])
    packed = np.concatenate([r._data.reshape(-1).astype(common, copy=False) for r in live])
    node = _Bridge.apply(*args, user=cls, user_ctx=ctx, slots=tuple(slots), packed=packed)
    out, at = list(results), 0
    for i, r in enumerate(results):
        if slots[i] is None or not slots[i][2]:
            continue
        out[i] = _Take.apply(node, at, r.shape, r._data.dtype, f"{cls.__name__}Backward")
        at += r.numel()
    return tuple(out)


def once_differentiable(fn):
    """torch.autograd.function.once_differentiable: backward runs without recording (fastnn
    records no graph inside backward in any case)."""
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with grad_mode.no_grad():
            return fn(ctx, *args)
    return wrapper


class InplaceFunction(Function):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace


class NestedIOFunction(Function):
    pass
