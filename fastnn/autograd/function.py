"""Differentiable operations: a Function declares forward(ctx, *inputs) and
backward(ctx, grad_output) -> one gradient per input (None where there is none), as
torch.autograd.Function. Inputs arrive as NumPy arrays (Tensors are unwrapped); forward
returns an array, apply() wraps it and, when a gradient is needed, records a Node.

A Node's edges point at what produced each input when the op ran (the input's Node, or the
leaf tensor itself), as torch's next_functions do. An in-place op later moves a tensor to a
new Node, so nodes recorded before it still reach the value they actually used.
"""
import itertools

import numpy as np

from fastnn import dtypes, meta
from fastnn.autograd import anomaly_mode, forward_ad, grad_mode
from fastnn.numpy_errors import restore, silence
from fastnn.tensor import Tensor

_FLOATING = dtypes.FLOATING_NUMPY
_state = grad_mode._state
_anomaly = anomaly_mode.mode
_forward_ad = forward_ad._state


class _Extras:
    """The features that make Function.apply do more than usual: saved_hooks, the open
    autograd.graph.saved_tensors_hooks contexts, a forward-AD level (forward_ad.py), meta
    tensors, and an open profiler (which wraps apply, so no op may go around it).
    `active` is whether any is on, so an op pays one attribute read when none is."""
    saved_hooks = 0
    profiling = False
    active = False
    # Not one of them (recorded ops read it on their own): a complex result has been recorded
    # in this process, so a recorded op checks that its complex inputs suit its backward
    complex_grad = False

    def update(self):
        self.active = self.saved_hooks > 0 or forward_ad._state.level is not None or \
            meta.created.any or self.profiling


_extras = _Extras()


def records_nothing(*tensors):
    """Whether an op on these plain Tensors (no subclasses) would record nothing and run
    nothing but its forward: no gradient wanted and none of _Extras on. Such an op may compute
    its result directly instead of through Function.apply, whose bookkeeping is most of a
    small op's time (x + y on 100 elements: 2.6 us against torch's 1.5, issue 12)."""
    if _extras.active:
        return False
    grad = _state.enabled
    for t in tensors:
        if t.__class__ is not Tensor or (grad and t.requires_grad):
            return False
    return True


class _UnpackedOnAccess:
    """ctx.saved_tensors under autograd.graph's saved_tensors_hooks: unpack_hook runs at every
    access, as torch's. A non-data descriptor, so the instance attribute that
    save_for_backward sets otherwise is found first, at no cost."""

    def __get__(self, ctx, owner=None):
        if ctx is None:
            return self
        packed = ctx.__dict__.get("_packed")
        if packed is None:
            raise AttributeError("'Context' object has no attribute 'saved_tensors'")
        from fastnn.autograd.graph import unpack_saved
        return unpack_saved(packed)


class Context:
    """What backward needs: whatever forward stored, and which inputs want a gradient."""

    saved_tensors = _UnpackedOnAccess()

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad

    def save_for_backward(self, *arrays):
        if "_args" in self.__dict__:  # set by apply only under autograd.graph's hooks
            from fastnn.autograd.graph import pack_saved
            packed = pack_saved(self._args, arrays)
            if packed is not None:
                self._packed = packed
                return
        self.saved_tensors = arrays

    def mark_non_differentiable(self, *args):
        pass


class RemovableHandle:
    """What register_*hook returns: .remove() takes the hook away (torch's handle)."""

    _next_id = 0

    def __init__(self, hooks, hook):
        RemovableHandle._next_id += 1
        self.id = RemovableHandle._next_id
        self._hooks = hooks
        hooks[self.id] = hook

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class PresentedNode:
    """A node torch's graph has where fastnn's op has none (the TBackward0 of addmm's
    weight.t(), the AddmmBackward0 under a 3-D linear's view): shown in next_functions, with
    `edges` (nodes, leaf tensors or None) as its own next functions."""

    def __init__(self, name, *edges):
        self._name, self._edges = name, edges

    def name(self):
        return self._name

    @property
    def next_functions(self):
        return tuple((AccumulateGrad(e) if isinstance(e, Tensor) else e, 0) for e in self._edges)

    def __repr__(self):
        return f"<{self._name} object at {hex(id(self))}>"


class AccumulateGrad:
    """The node torch shows for a leaf in next_functions."""

    def __init__(self, variable):
        self.variable = variable

    next_functions = ()

    def name(self):
        return "torch::autograd::AccumulateGrad"  # torch's C++ name (its type is AccumulateGrad)

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


_sequence = itertools.count()


class Node:
    """One recorded op in the graph (a Tensor's grad_fn)."""

    __slots__ = ("function", "ctx", "edges", "released", "versions", "shape", "retained",
                 "prehooks", "extra", "seq", "__weakref__")

    def __init__(self, function, ctx, edges, versions, shape):
        self.seq = next(_sequence)  # torch's sequence_nr: the engine runs later nodes first
        self.function = function
        self.ctx = ctx
        self.edges = edges  # per argument: the input's Node, a leaf Tensor, or None
        self.released = False
        self.versions = versions  # (version cell, value seen, array, argument position)
        self.shape = shape
        self.retained = None
        self.prehooks = None
        self.extra = None  # {"posthooks": {...}, "metadata": {...}} once either is used

    def __getattr__(self, name):
        if name.startswith("_saved_"):  # torch's grad_fn._saved_self, _saved_result ...
            from fastnn.autograd.graph import saved_attribute
            return saved_attribute(self, name[len("_saved_"):])
        raise AttributeError(f"'{self.name()}' object has no attribute '{name}'")

    def name(self):
        ctx = self.ctx
        if ctx is not None and "backward_name" in ctx.__dict__:  # set by forward, per shape
            return ctx.backward_name
        return self.function.backward_name or f"{self.function.__name__}Backward0"

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    @property
    def next_functions(self):
        present = self.function.present_edges  # an op shown as torch's graph has it
        edges = self.edges if present is None else present(self)
        return tuple((AccumulateGrad(e) if isinstance(e, Tensor) else e, 0) for e in edges)

    def retain(self, tensor):
        if self.retained is None:
            self.retained = []
        self.retained.append(tensor)

    def register_prehook(self, hook):
        if self.prehooks is None:
            self.prehooks = {}
        return RemovableHandle(self.prehooks, hook)

    def _extra(self, key):
        if self.extra is None:
            self.extra = {}
        return self.extra.setdefault(key, {})

    def register_hook(self, hook):
        """hook(grad_inputs, grad_outputs) after this node's backward (torch's Node post
        hook): tuples of tensors (None where there is none), one per input and output; a
        returned tuple replaces grad_inputs."""
        return RemovableHandle(self._extra("posthooks"), hook)

    @property
    def metadata(self):
        """A dict the user may keep anything in, as torch's Node.metadata."""
        return self._extra("metadata")

    def check_versions(self):
        """Raise torch's error when a tensor this node saved was modified in place since."""
        for cell, seen, array, position in self.versions:
            if cell[0] != seen and _saved(self.ctx, array):
                # torch names the op that made the tensor: "output 0 of Exp" (ExpBackward0)
                if position < 0:
                    source = f", which is output 0 of {_op_name(self)},"
                else:
                    edge = self.edges[position] if position < len(self.edges) else None
                    source = (f", which is output 0 of {_op_name(edge)}," if isinstance(edge, Node)
                              else "")
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: [fastnn.{dtypes.of_array(array).tensor_type} "
                    f"[{', '.join(map(str, array.shape))}]]{source} is at version {cell[0]}; "
                    f"expected version {seen} instead. Hint: " + (
                        "the backtrace further above shows the operation that failed to "
                        "compute its gradient. The variable in question was changed in there "
                        "or anywhere later. Good luck!" if _anomaly.enabled else
                        "enable anomaly detection to find the operation that failed to compute "
                        "its gradient, with torch.autograd.set_detect_anomaly(True, "
                        "check_nan=False)."))


def _op_name(node):
    name = node.name()
    return name[:-len("Backward0")] if name.endswith("Backward0") else name


def _saved(ctx, array):
    """Whether ctx keeps an array that shares memory with `array`."""
    if ctx is None:
        return False
    stack = list(vars(ctx).values())
    while stack:
        value = stack.pop()
        if isinstance(value, np.ndarray):
            if value.size and np.may_share_memory(value, array):
                return True
        elif isinstance(value, (tuple, list)):
            stack.extend(value)
    return False


def edge_of(t):
    """What a new node's edge for input tensor t points at."""
    if t._base is not None and t._view_version != t._version[0]:
        refresh_view(t)
    node = t._node
    if node is not None:
        return node
    return t if t.requires_grad else None


def refresh_view(view):
    """A view whose base was changed in place since its grad_fn was made gets a fresh one
    (torch regenerates a view's grad_fn the same way)."""
    base = view._base
    view._view_version = view._version[0]
    if base.requires_grad and base._node is not None:
        from fastnn.ops.inplace import view_of
        fresh = view_of(base, view._view_fn)
        view._node, view.requires_grad = fresh._node, True


class Function:
    backward_name = None  # torch's grad_fn name when it is not f"{ClassName}Backward0"
    is_view = False  # the output may share memory with the first input (reshape, index...)
    # backward holds for complex numbers too (torch's convention: the gradient of a real loss
    # L with respect to z is dL/dRe z + i dL/dIm z, so a product's is g * conj(other))
    complex_grad = False
    # present_edges(node) -> the edges next_functions shows, where torch's graph for the op
    # has another order or intermediate nodes (Linear: addmm(bias, x, weight.t()))
    present_edges = None
    # how forward-mode AD forms this op's tangent when it has no create_graph formula
    # (autograd/forward_ad.py): "diagonal", "linear", "multilinear", "elementwise",
    # "reduction" or None
    tangent_rule = None

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        # One plain loop over the arguments: a generator for `needs` and a comprehension for
        # `raw` cost about 1 us of a 5 us batch-1 Linear (issue 12, per-call overhead).
        raw, needs, wanted = [], [], False
        for a in args:
            if isinstance(a, Tensor):
                raw.append(a._data)
                need = a.requires_grad
                wanted = wanted or need
                needs.append(need)
            else:
                raw.append(a)
                needs.append(False)
        record = wanted and _state.enabled
        tangents = None
        extra = _extras.active
        if extra and _forward_ad.level is not None:  # inputs with tangents count as needed
            tangents = forward_ad.tangents_of(args)
            if tangents is not None:
                needs = [n or v is not None for n, v in zip(needs, tangents)]
        ctx = Context(tuple(needs))
        if extra and _extras.saved_hooks and record:
            ctx._args = args
        if record and _extras.complex_grad and not cls.complex_grad:
            _refuse_complex_inputs(cls, args)
        if extra and meta.created.any and meta.any_meta(raw):  # shapes only (fastnn/meta.py)
            out = meta.run_forward(cls, ctx, raw, kwargs)
        elif cls.is_view:  # data movement only: no floating-point errors to silence
            out = cls.forward(ctx, *raw, **kwargs)
        else:
            token = silence()
            try:
                out = cls.forward(ctx, *raw, **kwargs)
            finally:
                restore(token)
        t = Tensor._wrap(out)
        if cls.is_view and out.base is not None and np.may_share_memory(out, raw[0]):
            _mark_view(t, args[0], cls.view_fn(*raw[1:]))
        if tangents is not None:
            forward_ad.propagate(cls, ctx, args, tangents, t)
        if not record or out.dtype not in _FLOATING:
            if not record or out.dtype.kind != "c":
                return t
            if not cls.complex_grad:  # never a silently cut graph (complex_ops)
                from fastnn.ops.complex_ops import complex_result_of_grad
                complex_result_of_grad(cls.__name__, *args)
            _record_complex(ctx, args)
        edges, versions = [], []
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                edges.append(edge_of(a))
                versions.append((a._version, a._version[0], a._data, i))
            else:
                edges.append(None)
        versions.append((t._version, t._version[0], out, -1))
        t.requires_grad = True
        t._node = Node(cls, ctx, tuple(edges), versions, out.shape)
        if _anomaly.enabled:
            anomaly_mode.record_forward(ctx)
        return t

    @staticmethod
    def view_fn(*args):
        """For a view op: a function from the base's array to the view's (same args)."""
        raise NotImplementedError


def _record_complex(ctx, args):
    """A complex result of an op whose backward is written for complex numbers (complex_grad):
    from now on every recorded op checks that it may take complex inputs, and the real inputs
    of this one get the real part of their gradients (torch's handle_r_to_c)."""
    _extras.complex_grad = True
    ctx.real_inputs = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor)
                            and a.requires_grad and a._data.dtype.kind != "c")


def _refuse_complex_inputs(cls, args):
    for a in args:
        if isinstance(a, Tensor) and a.requires_grad and a._data.dtype.kind == "c":
            from fastnn.ops.complex_ops import no_complex_backward
            no_complex_backward(cls.__name__)


def presented(t, name):
    """t with its grad_fn named `name`: an op fastnn composes from several (a 3-D pooling from
    2-D ones, a 1-D convolution from a 2-D one) shows torch's one node for it."""
    node = t._node
    if node is not None and node.ctx is not None:
        node.ctx.backward_name = name
    return t


def presents(name):
    """Decorator: the op's result shows grad_fn `name` (presented), unless the op returned its
    input (an in-place variant keeps its own node's name)."""
    import functools

    def decorate(op):
        @functools.wraps(op)
        def wrapper(input, *args, **kwargs):
            out = op(input, *args, **kwargs)
            return out if out is input or not isinstance(out, Tensor) else presented(out, name)
        return wrapper
    return decorate


def _mark_view(out, source, fn):
    base = source._base
    if base is None:
        out._base, out._view_fn = source, fn
    else:
        inner = source._view_fn
        out._base, out._view_fn = base, (lambda a: fn(inner(a)))
    out._version = source._version
    out._view_version = source._version[0]


# torch.autograd.function's public names (the user-facing Function is fastnn.autograd.Function)
from fastnn.autograd.custom_function import (FunctionCtx, InplaceFunction,  # noqa: E402,F401
                                             NestedIOFunction, once_differentiable)
