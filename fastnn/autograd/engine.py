"""Reverse-mode differentiation: Tensor.backward() walks the recorded graph.

The graph is made of Nodes whose edges point at the Nodes (or leaf tensors) that produced
their inputs. The topological order comes from an iterative depth-first search (a recursive
one hits Python's recursion limit on long chains, e.g. 20,000 ops). Gradients flow in reverse
order; an entry reached twice receives the sum of both contributions. After the pass the
graph's saved arrays are released (unless retain_graph), so a training loop does not keep
every step alive.
"""
import sys
import threading

import numpy as np

from fastnn.autograd import anomaly_mode
from fastnn.autograd.function import Node, edge_of
from fastnn.numpy_errors import restore, silence
from fastnn.tensor import Tensor


class _PassState(threading.local):
    queue = None  # functions to run when this thread's running backward pass ends


_callbacks = _PassState()
_anomaly = anomaly_mode.mode


def queue_callback(fn):
    """Run fn() once the backward pass running on this thread has finished (torch's
    Variable._execution_engine.queue_callback; DistributedDataParallel waits for its
    gradient all-reduces this way). Outside a backward pass it raises, as torch's does."""
    queue = _callbacks.queue
    if queue is None:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    queue.append(fn)


def running_pass():
    """An object that identifies the backward pass running on this thread (None outside one)."""
    return _callbacks.queue

_SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.")


def _topological_order(root):
    """Every entry reachable from root, listed after the entries its edges point at; the
    engine runs it reversed. That reversed order is torch's: its ready queue always takes the
    node created last (the highest sequence number), and since a node is created after its
    inputs this is simply descending creation order over the graph. A leaf (torch's
    AccumulateGrad, which runs as soon as it is ready) comes right after the last node that
    feeds it: a weight's gradient is delivered as soon as its layer's backward has run
    (freeing it early, and letting DistributedDataParallel start that bucket's all-reduce
    while the layers below are still differentiated). Hooks, and the first gradient a
    register_multi_grad_hook(mode="any") sees, come in torch's order (found by a probe)."""
    if root.released:
        raise RuntimeError(_SECOND_BACKWARD)
    keys = {id(root): root.seq}
    order, stack = [root], [root]
    pop, push, append = stack.pop, stack.append, order.append
    while stack:
        entry = pop()
        below = entry.seq - 0.5  # a leaf's key: just after its (last) consumer
        for edge in entry.edges:
            if edge is None:
                continue
            k = id(edge)
            if type(edge) is Node:
                if k not in keys:
                    if edge.released:
                        raise RuntimeError(_SECOND_BACKWARD)
                    keys[k] = edge.seq
                    append(edge)
                    push(edge)
            else:
                old = keys.get(k)
                if old is None:
                    keys[k] = below
                    append(edge)
                elif below < old:
                    keys[k] = below
    order.sort(key=lambda e: keys[id(e)])
    return order


def _root_gradient(root, grad):
    if grad is None:
        if root._data.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        if root._data.dtype.kind == "c":
            raise RuntimeError("grad can be implicitly created only for real scalar outputs but "
                               f"got {root.dtype!r}")
        return np.ones(root._data.shape, dtype=root._data.dtype)
    grad = grad._data if isinstance(grad, Tensor) else np.asarray(grad, dtype=root._data.dtype)
    if grad.shape != root.shape:
        if grad.size == root._data.size == 1:
            return grad.reshape(root.shape)
        raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of "
                           f"torch.Size({list(grad.shape)}) and output[0] has a shape of "
                           f"torch.Size({list(root.shape)}).")
    return grad


def backward(root, grad=None, retain_graph=False, inputs=None, capture=None):
    """Accumulate d(root)/d(leaf) into every leaf's .grad (or, with `capture`, a dict from
    id(tensor) to tensor, return the gradients of those tensors instead); then run the
    callbacks queued during the pass."""
    outer = _callbacks.queue
    _callbacks.queue = queue = []
    token = silence()  # log(0)'s -inf and the like pass silently, as in torch
    try:
        captured = _backward(root, grad, retain_graph, inputs, capture)
    finally:
        restore(token)
        _callbacks.queue = outer
    for fn in queue:  # in the order queued, after every gradient has been delivered
        fn()
    return captured


def _backward(root, grad, retain_graph, inputs, capture):
    if not root.requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                           "grad_fn")
    grad = _root_gradient(root, grad)
    start = edge_of(root)
    capturing = capture is not None
    chosen = capture if capturing else inputs
    wanted = None  # ids of the leaves whose gradient is asked for (None: every leaf)
    targets = {}  # id(node) -> non-leaf tensors asked for, whose gradient is that node's
    if chosen is not None:
        wanted = set()
        for t in chosen:
            edge = edge_of(t)
            if isinstance(edge, Node):
                targets.setdefault(id(edge), []).append(t)
            else:
                wanted.add(id(t))
    captured = {}
    if type(start) is not Node:  # backward() on a leaf: its gradient is `grad` itself
        _deliver(root, grad, False, wanted, captured, capturing)
        return captured
    order = _topological_order(start)
    masks = None if wanted is None else _needed_edges(order, wanted, targets)
    pending = {id(start): grad}
    handed = {id(grad)}  # arrays a leaf may not keep as its own .grad: copy those
    for entry in reversed(order):
        g = pending.pop(id(entry), None)
        if type(entry) is not Node:  # a leaf that requires grad: accumulate, as torch does
            if g is not None:
                # A fresh array no one else holds becomes .grad as is (no copy of a weight-
                # sized gradient every step); views, shared or read-only arrays are copied.
                # (With retain_graph a backward may return an array its ctx keeps: copy.)
                flags = g.flags
                owned = (not retain_graph and flags.writeable and flags.c_contiguous
                         and id(g) not in handed and (g.base is None or _sole_view(g)))
                handed.add(id(g))
                if wanted is None:
                    entry._accumulate_grad(g, owned)
                else:
                    _deliver(entry, g, owned, wanted, captured, capturing)
            continue
        if g is None:
            if not retain_graph:
                _release(entry)
            continue
        if entry.prehooks:
            g = _run_prehooks(entry, g)
        if entry.retained:
            for t in entry.retained:
                t._accumulate_grad(g)
        if targets and id(entry) in targets:
            for t in targets[id(entry)]:
                if capturing:
                    captured[id(t)] = g
                else:
                    t._accumulate_grad(g)
        mask = None
        if masks is not None:
            mask = masks.get(id(entry))
            if mask is None:  # nothing asked for lies below this node: torch skips it too
                continue
        if _anomaly.enabled:
            input_grads = _run_checked(entry, g, mask)
        else:
            entry.check_versions()
            input_grads = _run(entry, g, mask)
        if entry.extra is not None and entry.extra.get("posthooks"):
            input_grads = _run_posthooks(entry, input_grads, g)
        for i, (edge, pg) in enumerate(zip(entry.edges, input_grads)):
            if edge is None or pg is None or (mask is not None and not mask[i]):
                continue
            shape = edge.shape if type(edge) is Node else edge._data.shape
            if pg.shape != shape:
                raise RuntimeError(f"Function {entry.name()} returned an invalid gradient "
                                   f"- got {list(pg.shape)} but expected shape compatible "
                                   f"with {list(shape)}")
            key = id(edge)
            pending[key] = pg if key not in pending else pending[key] + pg
        if not retain_graph:
            _release(entry)
    return captured


def _run(entry, g, mask):
    """One node's backward: the gradients of its inputs, as a tuple."""
    ctx = entry.ctx
    if "meta_inputs" in ctx.__dict__:  # an op that ran on meta tensors: gradients are shapes
        from fastnn.meta import meta_gradients
        return meta_gradients(ctx)
    if mask is None:
        input_grads = entry.function.backward(ctx, g)
    else:
        # Only the inputs on a path to what was asked for: a convolution asked for its
        # input's gradient alone skips the weight gradient's pass (as torch's engine does).
        full = ctx.needs_input_grad
        ctx.needs_input_grad = tuple(a and b for a, b in zip(full, mask))
        try:
            input_grads = entry.function.backward(ctx, g)
        finally:
            ctx.needs_input_grad = full
    input_grads = input_grads if isinstance(input_grads, tuple) else (input_grads,)
    real = ctx.__dict__.get("real_inputs")
    if real:  # a real input of a complex result: the real part (torch's handle_r_to_c)
        input_grads = tuple(np.ascontiguousarray(pg.real) if i in real and pg is not None
                            and pg.dtype.kind == "c" else pg for i, pg in enumerate(input_grads))
    return input_grads


def _run_checked(entry, g, mask):
    """_run under anomaly detection: NaN gradients raise, and an error names the forward
    call that made the node."""
    try:
        entry.check_versions()
        input_grads = _run(entry, g, mask)
        anomaly_mode.check_gradients(entry, input_grads)
    except Exception:
        anomaly_mode.report(entry)
        raise
    return input_grads


def _release(node):
    # a name chosen at forward time (a user Function's "MyFnBackward") outlives the ctx
    name = node.ctx.__dict__.get("backward_name") if node.ctx is not None else None
    node.ctx = None if name is None else _Named(name)
    node.versions = ()
    node.released = True


class _Named:
    """What a released node keeps of its ctx: the backward name torch shows."""

    def __init__(self, backward_name):
        self.backward_name = backward_name


def _needed_edges(order, wanted, targets):
    """For each node from which something asked for is reachable: per edge, whether that edge
    leads to it. `order` lists every entry after the entries its edges point at."""
    masks, useful = {}, set(wanted)
    for entry in order:
        if type(entry) is not Node:
            continue
        mask = tuple(edge is not None and id(edge) in useful for edge in entry.edges)
        if any(mask):
            masks[id(entry)] = mask
            useful.add(id(entry))
        elif id(entry) in targets:
            useful.add(id(entry))
    return masks


def _sole_view(g):
    """Whether g is a reshaped view of all of a fresh array that nothing else references (a
    gradient that reached a leaf through view(), unsqueeze() or flatten()): it can then become
    .grad as is, as torch's AccumulateGrad steals a gradient it holds the only reference to.
    Copying it was a quarter of AdaptiveAvgPool1d's step on d2l's TextCNN maps (issue 12).
    The count: g's reference to its base, the local name and getrefcount's argument."""
    base = g.base
    return (type(base) is np.ndarray and base.base is None and base.flags.owndata
            and base.flags.writeable and base.nbytes == g.nbytes
            and sys.getrefcount(base) == 3)


def _deliver(leaf, g, owned, wanted, captured, capturing):
    if wanted is not None and id(leaf) not in wanted:
        return
    if capturing:
        captured[id(leaf)] = g
    else:
        leaf._accumulate_grad(g, owned)


def _run_posthooks(node, input_grads, g):
    """Node.register_hook's hooks: each sees (grad_inputs, grad_outputs) as tensors and may
    return replacements for grad_inputs."""
    wrap = (lambda a: None if a is None else Tensor._wrap(a))
    grads = tuple(wrap(a) for a in input_grads)
    outputs = (wrap(g),)
    for hook in list(node.extra["posthooks"].values()):
        new = hook(grads, outputs)
        if new is not None:
            grads = tuple(new)
    return tuple(None if t is None else np.asarray(t._data) for t in grads)


def _run_prehooks(node, g):
    for hook in list(node.prehooks.values()):
        new = hook(Tensor._wrap(g))
        if new is not None:
            g = new._data
    return g


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, materialize_grads=False):
    """torch.autograd.grad: the gradients of `outputs` with respect to `inputs`, returned
    rather than accumulated into .grad."""
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    total = {}
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        keep = bool(retain_graph) or i < len(outputs) - 1
        if create_graph:  # a recorded pass: the gradients are tensors with a graph of their own
            from fastnn.autograd import higher_order
            found = higher_order.backward(out, g, capture=inputs)
        else:
            found = backward(out, g, keep, capture=inputs)
        for key, value in found.items():
            total[key] = value if key not in total else total[key] + value
    result = []
    for t in inputs:
        value = total.get(id(t))
        if value is None:
            if materialize_grads:
                value = np.zeros_like(t._data)
            elif not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
        if value is not None and not isinstance(value, Tensor):
            value = Tensor._wrap(np.array(value, copy=True))
        result.append(value)
    return tuple(result)
