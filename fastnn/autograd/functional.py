"""torch.autograd.functional: jacobian, vjp, jvp, hessian, hvp and vhp of a function of
tensors, built on autograd.grad (one backward pass per output element for the Jacobian, as
torch's default reverse mode without vectorize). The Hessian is the Jacobian of the gradient,
taken through create_graph=True's recorded backward pass (fastnn/autograd/higher_order.py)."""
from fastnn.autograd.grad_mode import enable_grad


def _as_tuple(value):
    return (value, True) if isinstance(value, tuple) else ((value,), False)


def _prepare(inputs, create_graph=False):
    """Inputs the function is differentiated at: fresh leaves, or (create_graph, an input
    that is already part of a graph) a view that keeps the outer graph connected, so the
    result can be differentiated again with respect to the caller's tensors."""
    ins, is_tuple = _as_tuple(inputs)
    return tuple(x.view_as(x) if create_graph and x.requires_grad
                 else x.detach().requires_grad_(True) for x in ins), is_tuple


def _grads(out, ins, direction, create_graph=False):
    """The vector-Jacobian product direction^T d out / d ins, zeros where out does not
    depend on an input."""
    import fastnn
    from fastnn.autograd.engine import grad
    if not out.requires_grad:
        return tuple(fastnn.zeros_like(x) for x in ins)
    found = grad([out], list(ins), grad_outputs=[direction], retain_graph=True,
                 create_graph=create_graph, allow_unused=True)
    return tuple(fastnn.zeros_like(x) if g is None else g for x, g in zip(ins, found))


def _finish(value, create_graph):
    return value if create_graph else value.detach()


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    import fastnn
    ins, in_tuple = _prepare(inputs, create_graph)
    with enable_grad():
        outputs = func(*ins)
    outs, out_tuple = _as_tuple(outputs)
    result = []
    for out in outs:
        rows = [[] for _ in ins]
        for k in range(out.numel()):
            direction = fastnn.zeros(out.numel(), dtype=out.dtype)
            direction[k] = 1
            for j, g in enumerate(_grads(out, ins, direction.reshape(out.shape),
                                         create_graph)):
                rows[j].append(g)
        per_input = tuple(
            _finish(fastnn.stack(rows[j]).reshape(tuple(out.shape) + tuple(x.shape)),
                    create_graph) if rows[j]
            else fastnn.zeros(tuple(out.shape) + tuple(x.shape), dtype=x.dtype)
            for j, x in enumerate(ins))
        result.append(per_input if in_tuple else per_input[0])
    return tuple(result) if out_tuple else result[0]


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    import fastnn
    ins, in_tuple = _prepare(inputs, create_graph)
    with enable_grad():
        outputs = func(*ins)
    outs, out_tuple = _as_tuple(outputs)
    if v is None:
        if len(outs) != 1 or outs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function "
                               "returns a single Tensor with a single element.")
        vs = (fastnn.ones_like(outs[0]),)
    else:
        vs, _ = _as_tuple(v)
    total = [fastnn.zeros_like(x) for x in ins]
    for out, direction in zip(outs, vs):
        for j, g in enumerate(_grads(out, ins, direction, create_graph)):
            total[j] = total[j] + g
    detached = tuple(_finish(o, create_graph) for o in outs)
    total = [_finish(t, create_graph) for t in total]
    return (detached if out_tuple else detached[0],
            tuple(total) if in_tuple else total[0])


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """J v from the full Jacobian (reverse mode, one pass per output element)."""
    import fastnn
    ins, in_tuple = _prepare(inputs, create_graph)
    if v is None:
        if len(ins) != 1 or ins[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the "
                               "user-provided function is a single Tensor with a single "
                               "element.")
        vs = (fastnn.ones_like(ins[0]),)
    else:
        vs, _ = _as_tuple(v)
    with enable_grad():
        outputs = func(*ins)
    outs, out_tuple = _as_tuple(outputs)
    jac = jacobian(func, tuple(ins), create_graph=create_graph)
    jac = jac if out_tuple else (jac,)
    products = []
    for out, rows in zip(outs, jac):
        total = fastnn.zeros(tuple(out.shape), dtype=out.dtype)
        for j_in, direction in zip(rows, vs):
            flat = j_in.reshape(out.numel(), -1) @ direction.reshape(-1, 1).to(j_in.dtype)
            total = total + flat.reshape(tuple(out.shape))
        products.append(total)
    detached = tuple(o.detach() for o in outs)
    return (detached if out_tuple else detached[0],
            tuple(products) if out_tuple else products[0])


def _scalar_output(func, ins, name):
    with enable_grad():
        out = func(*ins)
    from fastnn.tensor import Tensor
    if isinstance(out, tuple) or not isinstance(out, Tensor):
        raise RuntimeError(f"The function given to {name} should return a single Tensor")
    if out.numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {name} should "
                           "contain a single element")
    return out.reshape(())


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The matrix of second derivatives of a scalar function: the Jacobian of its gradient
    (shaped input.shape + input.shape, per pair of inputs for a tuple)."""
    _, in_tuple = _as_tuple(inputs)

    def gradient(*xs):  # (the inner jacobian's function checks the output is a scalar)
        return jacobian(lambda *ys: _scalar_output(func, ys, "hessian"),
                        xs if in_tuple else xs[0], create_graph=True)
    return jacobian(gradient, inputs, create_graph=create_graph)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v): the Hessian times v by differentiating (gradient . v) once more,
    without forming H."""
    import fastnn
    from fastnn.autograd.engine import grad
    ins, in_tuple = _prepare(inputs, create_graph)
    out = _scalar_output(func, ins, "hvp")
    if v is None:
        if len(ins) != 1 or ins[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the "
                               "user-provided function is a single Tensor with a single "
                               "element.")
        v = fastnn.ones_like(ins[0])
    vs, _ = _as_tuple(v)
    with enable_grad():
        first = grad([out], list(ins), create_graph=True, allow_unused=True)
        dot = sum(((g if g is not None else fastnn.zeros_like(x)) * d).sum()
                  for g, x, d in zip(first, ins, vs))
        second = (grad([dot], list(ins), create_graph=create_graph, allow_unused=True)
                  if dot.requires_grad else [None] * len(ins))
    products = tuple(_finish(fastnn.zeros_like(x) if g is None else g, create_graph)
                     for g, x in zip(second, ins))
    return _finish(out, create_graph), (products if in_tuple else products[0])


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """v^T H: the same numbers as hvp for the symmetric Hessian of a twice-differentiable
    function."""
    return hvp(func, inputs, v, create_graph, strict)
