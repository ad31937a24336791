"""torch.autograd.graph: hooks on the tensors ops save for backward (saved_tensors_hooks,
save_on_cpu, disable_saved_tensors_hooks), the graph's Node type, increment_version.

fastnn's ops save NumPy arrays with ctx.save_for_backward (autograd/function.py). While a
saved_tensors_hooks context is open, each saved array is handed to pack_hook as a tensor (the
op's own input tensor where the array is one, as torch passes the input) and only what
pack_hook returns is kept; backward, and reading grad_fn._saved_*, call unpack_hook on it
every time, and use the tensor it returns. The inner-most open context's hooks apply, as in
torch.
"""
import threading

from fastnn.autograd.function import Node, _extras

__all__ = ["Node", "disable_saved_tensors_hooks", "increment_version",
           "register_multi_grad_hook", "save_on_cpu", "saved_tensors_hooks"]

_local = threading.local()


def _stack():
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


def _push(entry):
    """Open hooks (a (pack, unpack) pair) or a disable_saved_tensors_hooks message."""
    _stack().append(entry)
    _extras.saved_hooks += 1
    _extras.update()


def _pop():
    _stack().pop()
    _extras.saved_hooks -= 1
    _extras.update()


def current_hooks():
    """The innermost (pack_hook, unpack_hook), or None (also inside
    disable_saved_tensors_hooks)."""
    stack = getattr(_local, "stack", None)
    if not stack or isinstance(stack[-1], str):
        return None
    return stack[-1]


def pack_saved(args, arrays):
    """What save_for_backward keeps under hooks: per array, (pack_hook's result, unpack_hook,
    id of the array); the tensor packed is the op's input tensor when the array is one."""
    hooks = current_hooks()
    if hooks is None:
        return None
    from fastnn.tensor import Tensor
    pack, unpack = hooks
    by_array = {id(a._data): a for a in args if isinstance(a, Tensor)}
    entries = []
    for array in arrays:
        if array is None:
            entries.append(None)
            continue
        tensor = by_array.get(id(array))
        entries.append((pack(Tensor._wrap(array) if tensor is None else tensor), unpack,
                        id(array)))
    return entries


def unpack_entry(entry):
    """The tensor unpack_hook gives back for one packed entry."""
    from fastnn.tensor import Tensor
    packed, unpack, _ = entry
    tensor = unpack(packed)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor but got "
                        f"result of type {type(tensor).__name__}")
    return tensor


def unpack_saved(entries):
    """ctx.saved_tensors under hooks: the arrays of what unpack_hook returns."""
    return tuple(None if e is None else unpack_entry(e)._data for e in entries)


# grad_fn._saved_<name>: torch's names for an op's saved inputs and output
_POSITIONS = {"self": 0, "input": 0, "other": 1, "mat2": 1, "weight": 1}


def saved_attribute(node, name):
    """grad_fn._saved_<name>: the saved input (self, other, mat2 ...) or output (result) as a
    tensor (an input leaf is itself, as in torch), or another value the op saved."""
    from fastnn.autograd.engine import _SECOND_BACKWARD
    from fastnn.tensor import Tensor
    if node.released:
        raise RuntimeError(_SECOND_BACKWARD)
    ctx = node.ctx
    arrays = {position: array for _, _, array, position in node.versions}
    wanted = arrays.get(-1) if name == "result" else arrays.get(_POSITIONS.get(name, -99))
    if wanted is not None:
        packed = ctx.__dict__.get("_packed")
        if packed is not None:
            for entry in packed:
                if entry is not None and entry[2] == id(wanted):
                    return unpack_entry(entry)
        saved = ctx.__dict__.get("saved_tensors", ())
        if any(a is wanted for a in saved if a is not None):
            if name == "result":
                return Tensor._wrap(wanted)
            edge = node.edges[_POSITIONS[name]]
            if isinstance(edge, Tensor):
                return edge
            return Tensor._wrap(wanted, requires_grad=edge is not None, node=edge)
    if name in ctx.__dict__ and not name.startswith("_"):
        return ctx.__dict__[name]
    raise AttributeError(f"'{node.name()}' object has no attribute '_saved_{name}'")


class saved_tensors_hooks:
    """Context manager: ops inside save pack_hook(tensor) instead of the tensor, and backward
    uses unpack_hook(packed)."""

    def __init__(self, pack_hook, unpack_hook):
        self.pack_hook, self.unpack_hook = pack_hook, unpack_hook

    def __enter__(self):
        stack = _stack()
        for entry in stack:
            if isinstance(entry, str):  # inside disable_saved_tensors_hooks
                raise RuntimeError(entry)
        _push((self.pack_hook, self.unpack_hook))
        return self

    def __exit__(self, *exc):
        _pop()
        return False


class save_on_cpu(saved_tensors_hooks):
    """torch's hooks that move saved tensors to the CPU (optionally pinned) and back: fastnn's
    tensors are on the CPU already, so the saved tensor is kept as it is (a copy in pinned
    memory would be the same bytes)."""

    def __init__(self, pin_memory=False, device_type="cuda"):
        def pack(tensor):
            return tensor.device, tensor.cpu()

        def unpack(packed):
            device, tensor = packed
            return tensor.to(device)
        super().__init__(pack, unpack)


class disable_saved_tensors_hooks:
    """Inside, opening saved_tensors_hooks raises error_message, and hooks opened outside are
    not applied."""

    def __init__(self, error_message):
        self.error_message = error_message

    def __enter__(self):
        _push(self.error_message)
        return self

    def __exit__(self, *exc):
        _pop()
        return False


class _MultiGradHandle:
    def __init__(self, handles):
        self._handles = handles

    def remove(self):
        for handle in self._handles:
            handle.remove()


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """fn once per backward pass over these tensors' gradients: with mode "all", after the
    pass, fn(grads) with None for a tensor the pass did not reach; with mode "any", fn(grad)
    with the first of them to be computed. Returns a handle whose remove() takes it away."""
    from fastnn.autograd import engine
    if mode not in ("all", "any"):
        raise ValueError(f"Expects mode to be one of ('all', 'any') but got {mode}")
    tensors = list(tensors)
    state = {"pass": None, "grads": None}

    def seen(index, grad):
        running = engine.running_pass()
        if state["pass"] is not running:  # the first of them in this pass
            state["pass"], state["grads"] = running, [None] * len(tensors)
            if mode == "any":
                fn(grad)
            else:
                engine.queue_callback(lambda: fn(tuple(state["grads"])))
        state["grads"][index] = grad
    handles = [t.register_hook(lambda grad, i=i: seen(i, grad)) for i, t in enumerate(tensors)
               if t.requires_grad]
    return _MultiGradHandle(handles)


def increment_version(tensor):
    """Mark `tensor` as modified in place (saved copies of it then refuse backward)."""
    tensors = tensor if isinstance(tensor, (tuple, list)) else (tensor,)
    for t in tensors:
        t._version[0] += 1
