"""Reverse-mode differentiation: Tensor.backward() walks the recorded graph.

The topological order comes from an iterative depth-first search (a recursive one hits
Python's recursion limit on long chains, e.g. 20,000 ops). Gradients flow in reverse order;
a tensor used twice receives the sum of both contributions. After the pass the graph's saved
arrays are released (unless retain_graph), so a training loop does not keep every step alive.
"""
import numpy as np


def _topological_order(root):
    order, visited = [], set()
    stack = [(root, False)]
    push, pop, append, seen = stack.append, stack.pop, order.append, visited.add
    while stack:
        tensor, expanded = pop()
        if expanded:
            append(tensor)
            continue
        if id(tensor) in visited:
            continue
        seen(id(tensor))
        push((tensor, True))
        node = tensor._node
        if node is not None:
            if node.released:
                raise RuntimeError(
                    "Trying to backward through the graph a second time (or directly access "
                    "saved tensors after they have already been freed). Specify "
                    "retain_graph=True if you need to backward through the graph a second time."
                )
            for parent in node.inputs:
                if parent is not None and parent.requires_grad and id(parent) not in visited:
                    push((parent, False))
    return order


def backward(root, grad=None, retain_graph=False):
    from fastnn.tensor import Tensor

    if not root.requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        grad = (np.array(1, dtype=root.data.dtype) if root.data.ndim == 0
                else np.ones(root.data.shape, dtype=root.data.dtype))
    else:
        grad = grad.data if isinstance(grad, Tensor) else np.asarray(grad, dtype=root.data.dtype)
        if grad.shape != root.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output has a shape of {grad.shape} "
                               f"and output has a shape of {root.shape}")

    order = _topological_order(root)
    pending = {id(root): grad}
    handed = {id(grad)}  # arrays a leaf may not keep as its own .grad: copy those
    for tensor in reversed(order):
        g = pending.pop(id(tensor), None)
        node = tensor._node
        if node is None:  # a leaf that requires grad: accumulate, as torch does
            if g is not None:
                # A fresh array no one else holds becomes .grad as is (no copy of a weight-
                # sized gradient every step); views, shared or read-only arrays are copied.
                # (With retain_graph a backward may return an array its ctx keeps: copy.)
                owned = (not retain_graph and g.base is None and g.flags.writeable
                         and g.flags.c_contiguous and id(g) not in handed)
                handed.add(id(g))
                tensor._accumulate_grad(g, owned)
            continue
        if g is not None:
            input_grads = node.function.backward(node.ctx, g)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            for parent, pg in zip(node.inputs, input_grads):
                if parent is None or pg is None or not parent.requires_grad:
                    continue
                if pg.shape != parent.shape:
                    raise RuntimeError(f"{node.name()} returned a gradient of shape {pg.shape} "
                                       f"for an input of shape {parent.shape}")
                key = id(parent)
                pending[key] = pg if key not in pending else pending[key] + pg
        if not retain_graph:
            node.ctx = None
            node.released = True
