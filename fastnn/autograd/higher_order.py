"""create_graph=True: a backward pass that is itself recorded, so its gradients can be
differentiated again (gradient penalties, physics-informed losses on du/dx, Hessian-vector
products, hessian / gradgradcheck).

The ordinary engine runs each node's backward on NumPy arrays, fast and unrecorded. This pass
walks the same graph but computes each node's input gradients with fastnn's differentiable
ops, from the node's inputs rebuilt as tensors that stay connected to the graph that made
them (the arrays the node saw, with the node's edges as their grad_fn), so every product and
sum it does is recorded in turn. The formulas (formulas_math.py, formulas_nn.py) are the
derivatives the ops' NumPy backward passes compute, written once more in tensor ops. An op
without one raises NotImplementedError naming it, rather than returning a gradient that
silently lacks its second-order part.
"""
import warnings

from fastnn.autograd import forward_ad
from fastnn.autograd.function import Node, edge_of
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
        else:
            t = (Tensor._wrap(arrays[position], requires_grad=True, node=edge)
                 if type(edge) is Node else Tensor._wrap(arrays[position]))
            if forward_ad._state.level is not None:  # forward-over-reverse: keep its tangent
                tangent = forward_ad.tangent_of_array(arrays[position])
                if tangent is not None:
                    forward_ad.set_tangent(t, tangent)
            inputs.append(t)
    return inputs


def _node_gradients(node, g):
    rule = _FORMULAS.get(node.function.__name__)
    if rule is None:
        raise NotImplementedError(f"create_graph=True: fastnn has no differentiable backward "
                                  f"for {node.name()} yet (its gradient cannot be "
                                  f"differentiated again)")
    node.check_versions()
    ins = _inputs(node)
    grads = rule(node.ctx, g, ins)
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


# the formulas register themselves with `formula` when imported (after it is defined above)
from fastnn.autograd import formulas_math, formulas_nn  # noqa: E402,F401
