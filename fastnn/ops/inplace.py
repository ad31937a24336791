"""In-place ops as torch records them.

`y.op_(args)` on a tensor that is part of a graph (or whose arguments require grad) computes
op(y, args) out of place, writes the result into y's storage (so views of y see it) and
rebases y: y's grad_fn becomes the new node, whose input edge is y's old grad_fn. Where the
op's backward needs y's old values (mul_, div_, clamp_ ...) they are copied first, since the
storage is about to be overwritten.

On a view (y = base[0], base.view(-1), base.T ...) the base is rebased too, as torch's
CopySlices: the base's new node passes the gradient through outside the view's region and
routes the region's gradient into the op. Every in-place op bumps the version counter that
the base and its views share; nodes that saved a since-modified tensor refuse to run
backward (fastnn/autograd/function.py).
"""
import numpy as np

from fastnn import dtypes, random, scalar_range, torch_stream
from fastnn.autograd import forward_ad, grad_mode
from fastnn.meta import is_meta
from fastnn.autograd.function import Function
from fastnn.tensor import Tensor

_LEAF = "a leaf Variable that requires grad is being used in an in-place operation."
_VIEW_OF_LEAF = "a view of a leaf Variable that requires grad is being used in an in-place " \
                "operation."
_OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to "
            "a single memory location. Please clone() the tensor before performing the "
            "operation.")


class ViewOf(Function):
    """The view `fn(base)` as a graph op (torch's AsStridedBackward0 after a rebase)."""

    backward_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, base, fn):
        ctx.meta = (base.shape, base.dtype, fn)
        return fn(base)

    @staticmethod
    def backward(ctx, g):
        shape, dtype, fn = ctx.meta
        grad = np.zeros(shape, dtype=g.dtype)
        fn(grad)[...] = g
        return grad, None


class CopySlices(Function):
    """base with its view region replaced by `value` (the rebased base of a view op_)."""

    backward_name = "CopySlices"

    @staticmethod
    def forward(ctx, base, value, fn):
        ctx.fn = fn
        out = np.array(base, copy=True)
        fn(out)[...] = value
        return out

    @staticmethod
    def backward(ctx, g):
        fn = ctx.fn
        need_base, need_value = ctx.needs_input_grad[:2]
        grad_value = np.array(fn(g), copy=True) if need_value else None
        grad_base = None
        if need_base:
            grad_base = np.array(g, copy=True)
            fn(grad_base)[...] = 0
        return grad_base, grad_value, None


class IndexPut(Function):
    """x with x[index] = value (torch's IndexPutBackward0 / CopySlices for y[i] = v)."""

    backward_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, x, index, value):
        ctx.meta = (index, np.shape(value))
        out = np.array(x, copy=True)
        out[index] = value
        return out

    @staticmethod
    def backward(ctx, g):
        index, value_shape = ctx.meta
        need_x, _, need_v = ctx.needs_input_grad
        gx = gv = None
        if need_x:
            gx = np.array(g, copy=True)
            gx[index] = 0
        if need_v:
            from fastnn.ops.broadcast import unbroadcast
            gv = unbroadcast(np.asarray(g[index]), value_shape)
        return gx, None, gv


def view_of(base, fn):
    return ViewOf.apply(base, fn)


def _check(t):
    """Raise torch's errors for in-place ops that cannot be allowed."""
    if grad_mode._state.enabled:
        if t.requires_grad and t._node is None and t._base is None:
            raise RuntimeError(_LEAF)
        base = t._base
        if base is not None and base.requires_grad and base._node is None:
            raise RuntimeError(_VIEW_OF_LEAF)
    if not t._data.flags.writeable and not is_meta(t._data):  # (a write to meta: nothing)
        if 0 in t._data.strides and t._data.size > 1:
            raise RuntimeError(_OVERLAP)
        raise RuntimeError("the tensor's memory is read-only (e.g. from_numpy of a read-only "
                           "array); clone() it before modifying it in place")


def _recording(t, others):
    if not grad_mode._state.enabled:
        return False
    if t.requires_grad or (t._base is not None and t._base.requires_grad):
        return True
    return any(isinstance(o, Tensor) and o.requires_grad for o in others)


def _write(t, array):
    """Copy a result into t's storage with torch's casting rule (canCast: a float result
    refuses an integer or bool output, an integer one a bool output, a complex one a real
    output; int64 into uint8 is allowed, where NumPy's same_kind would refuse it)."""
    source = np.asarray(array).dtype.kind
    target = t._data.dtype.kind
    if (source in "fVc" and target in "iub") or (source in "iu" and target == "b") or (
            source == "c" and target in "fV"):
        got = dtypes.of_array(np.asarray(array))
        raise RuntimeError(f"result type {got.title} can't be cast to the desired output type "
                           f"{t.dtype.title}")
    try:
        np.copyto(t._data, array, casting="unsafe")
    except ValueError as exc:
        raise RuntimeError(f"output with shape {list(t.shape)} doesn't match the broadcast "
                           f"shape {list(np.shape(array))}") from exc


def _rebase(t, fn, args, kwargs, needs_old):
    """Run fn(old t, *args) in the graph and make t (and, for a view, its base) its output."""
    base = t._base
    if base is None:
        old = Tensor._wrap(t._data.copy() if needs_old else t._data,
                           requires_grad=t.requires_grad, node=t._node)
        _carry_tangent(t, old)
        result = fn(old, *args, **kwargs)
        _write(t, result._data)
        _carry_tangent(result, t)
        _own_output(result, t)
        if result._node is not None:
            _move_retained(t, result._node)
            t._node, t.requires_grad = result._node, True
        return
    # a view: the op runs on a snapshot of the base, then the base is rebased (CopySlices)
    snapshot = Tensor._wrap(base._data.copy(), requires_grad=base.requires_grad,
                            node=base._node)
    view_fn = t._view_fn
    old_view = view_of(snapshot, view_fn) if snapshot.requires_grad else \
        Tensor._wrap(view_fn(snapshot._data))
    result = fn(old_view, *args, **kwargs)
    _carry_tangent(result, t)
    _own_output(result, t)
    new_base = CopySlices.apply(snapshot, result, view_fn)
    _write(t, result._data)
    if new_base._node is not None:
        _move_retained(base, new_base._node)
        base._node, base.requires_grad = new_base._node, True
        fresh = view_of(base, view_fn)
        t._node, t.requires_grad = fresh._node, True


def _own_output(result, t):
    """The op's output now lives in t's storage: a later in-place op on t must count as
    modifying what the op saved (relu_ then += raises in torch too)."""
    node = result._node
    if node is not None and node.versions and node.versions[-1][3] == -1:
        node.versions[-1] = (t._version, t._version[0] + 1, node.versions[-1][2], -1)


def _move_retained(t, node):
    if t._retains_grad:
        node.retain(t)


def _bump(t):
    t._version[0] += 1
    t._view_version = t._version[0]


def apply(t, fn, *args, needs_old=False, **kwargs):
    """t.op_(*args): fn is the out-of-place op, fn(t, *args) -> Tensor of t's shape."""
    _check(t)
    if _recording(t, args):
        _rebase(t, fn, args, kwargs, needs_old)
    else:
        with grad_mode.no_grad():
            result = fn(t, *args, **kwargs)
        _write(t, result._data)
        _carry_tangent(result, t)
    _bump(t)
    return t


def _carry_tangent(source, t):
    """Forward AD: t now holds source's values, so it takes source's tangent."""
    if forward_ad._state.level is not None:
        tangent = forward_ad.tangent_of(source)
        if tangent is not None:
            forward_ad.set_tangent(t, tangent)


class CopyFrom(Function):
    """old.copy_(value): value broadcast to old's shape in old's dtype; old's values are
    gone, so only value receives a gradient (torch's CopyBackwards)."""

    backward_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, old, value):
        ctx.shape = np.shape(value)
        ctx.dtype = np.asarray(value).dtype
        out = np.empty_like(old)
        try:
            np.copyto(out, np.broadcast_to(np.asarray(value), old.shape), casting="unsafe")
        except ValueError:
            raise _copy_size_error(old, value) from None
        return out

    @staticmethod
    def backward(ctx, g):
        from fastnn.ops.broadcast import unbroadcast
        # the old values were overwritten: their gradient is zero, not absent (torch's
        # CopyBackwards), so x.grad is zeros after y = x * 1; y.fill_(2)
        old = np.zeros_like(g) if ctx.needs_input_grad[0] else None
        if not ctx.needs_input_grad[1]:
            return old, None
        return old, unbroadcast(g, ctx.shape).astype(ctx.dtype, copy=False)


def fill(t, value):
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError("fill_ only supports 0-dimension value tensor but got tensor with "
                           f"{value.ndim} dimensions.")
    return copy(t, scalar_range.written(value, t._data.dtype))


def copy(t, src):
    """t.copy_(src): src broadcast to t's shape and cast to t's dtype (gradient flows to src)."""
    value = src._data if isinstance(src, Tensor) else np.asarray(src)
    if (forward_ad._state.level is None and type(t._data) is np.ndarray
            and type(value) is np.ndarray and not _recording(t, (src,))):
        # Outside the graph (p.grad.data.zero_(), d2l's scratch optimizers): one copyto into
        # t's storage, 0.8 us where the recorded path took 12. copyto copies an overlapping
        # source first, as CopyFrom's new array did.
        _check(t)
        try:
            np.copyto(t._data, value, casting="unsafe")
        except ValueError:
            raise _copy_size_error(t._data, value) from None
        _bump(t)
        return t
    return apply(t, CopyFrom.apply, src)


def _copy_size_error(old, value):
    return RuntimeError(f"The size of tensor a ({old.shape[-1] if old.ndim else 1}) must match "
                        f"the size of tensor b ({np.shape(value)[-1]}) at non-singleton "
                        "dimension 0")


def fill_random(t, kind, a, b, generator):
    rng = random.rng(generator)
    work = torch_stream.precision(t._data.dtype)
    if kind == "normal":
        values = rng.normal_values(t._data.shape, a, b, work)
    else:
        values = rng.uniform_values(t._data.shape, a, b, work)
    return apply(t, CopyFrom.apply, values)


def setitem(t, index, value):
    """t[index] = value: recorded as IndexPut when t or value is in a graph."""
    from fastnn.ops.shape import _index
    index = _index(index)
    _check(t)
    # (torch writes a number into float16 or bfloat16 by way of a float tensor: no check)
    value = scalar_range.written(value, t._data.dtype,
                                 t._data.dtype.itemsize > 2 or t._data.dtype.kind not in "fV")
    if _recording(t, (value,)):
        if isinstance(value, Tensor) and value.dtype != t.dtype:
            value = value._cast(t.dtype)
        if isinstance(value, Tensor) and value.ndim > t._data[index].ndim:
            value = value.reshape(_without_leading_ones(value.shape))
        _rebase(t, lambda old, v: IndexPut.apply(old, index, v), (value,), {}, False)
    else:
        if forward_ad._state.level is not None:
            _setitem_tangent(t, index, value)
        raw = value._data if isinstance(value, Tensor) else value
        if isinstance(raw, (str, bytes)):
            raise TypeError(f"can't assign a {type(raw).__name__} to a "
                            f"fastnn.{t.dtype.tensor_type}")
        try:
            t._data[index] = raw
        except ValueError:
            shape = np.shape(raw)
            try:  # torch drops the value's leading 1s: x[i] = model(row) with a (1, 1) output
                if shape[:1] != (1,):
                    raise ValueError
                t._data[index] = np.reshape(raw, _without_leading_ones(shape))
            except ValueError:
                from fastnn.ops.shape import broadcast_into_error
                raise broadcast_into_error(t._data[index].shape,
                                           _without_leading_ones(shape)) from None
    _bump(t)


def _setitem_tangent(t, index, value):
    """Forward AD for t[index] = value outside the graph: t's tangent (zeros if it has none)
    with value's tangent (zeros for a plain value) written at index."""
    mine = forward_ad.tangent_of(t)
    theirs = forward_ad.tangent_of(value) if isinstance(value, Tensor) else None
    if mine is None and theirs is None:
        return
    tangent = np.zeros_like(t._data) if mine is None else np.array(mine._data, copy=True)
    patch = 0 if theirs is None else theirs._data
    try:
        tangent[index] = patch
    except ValueError:
        tangent[index] = np.reshape(patch, _without_leading_ones(np.shape(patch)))
    forward_ad.set_tangent(t, Tensor._wrap(tangent))


def _without_leading_ones(shape):
    shape = tuple(shape)
    while shape[:1] == (1,):
        shape = shape[1:]
    return shape
