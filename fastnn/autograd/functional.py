"""torch.autograd.functional: jacobian, vjp and jvp of a function of tensors, built on
autograd.grad (one backward pass per output element for the Jacobian, as torch's default
reverse mode without vectorize). hessian and hvp need gradients of gradients, which fastnn's
engine does not record (create_graph is not supported), so they say so."""
from fastnn.autograd.grad_mode import enable_grad


def _as_tuple(value):
    return (value, True) if isinstance(value, tuple) else ((value,), False)


def _prepare(inputs):
    ins, is_tuple = _as_tuple(inputs)
    return tuple(x.detach().requires_grad_(True) for x in ins), is_tuple


def _no_create_graph(create_graph, name):
    if create_graph:
        raise NotImplementedError(f"autograd.functional.{name}(create_graph=True) needs "
                                  "higher-order gradients, which fastnn does not record")


def _grads(out, ins, direction):
    """The vector-Jacobian product direction^T d out / d ins, zeros where out does not
    depend on an input."""
    import fastnn
    from fastnn.autograd.engine import grad
    if not out.requires_grad:
        return tuple(fastnn.zeros_like(x) for x in ins)
    found = grad([out], list(ins), grad_outputs=[direction], retain_graph=True,
                 allow_unused=True)
    return tuple(fastnn.zeros_like(x) if g is None else g for x, g in zip(ins, found))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    import fastnn
    _no_create_graph(create_graph, "jacobian")
    ins, in_tuple = _prepare(inputs)
    with enable_grad():
        outputs = func(*ins)
    outs, out_tuple = _as_tuple(outputs)
    result = []
    for out in outs:
        rows = [[] for _ in ins]
        for k in range(out.numel()):
            direction = fastnn.zeros(out.numel(), dtype=out.dtype)
            direction[k] = 1
            for j, g in enumerate(_grads(out, ins, direction.reshape(out.shape))):
                rows[j].append(g)
        per_input = tuple(
            fastnn.stack(rows[j]).reshape(tuple(out.shape) + tuple(x.shape)) if rows[j]
            else fastnn.zeros(tuple(out.shape) + tuple(x.shape), dtype=x.dtype)
            for j, x in enumerate(ins))
        result.append(per_input if in_tuple else per_input[0])
    return tuple(result) if out_tuple else result[0]


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    import fastnn
    _no_create_graph(create_graph, "vjp")
    ins, in_tuple = _prepare(inputs)
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
        for j, g in enumerate(_grads(out, ins, direction)):
            total[j] = total[j] + g
    detached = tuple(o.detach() for o in outs)
    return (detached if out_tuple else detached[0],
            tuple(total) if in_tuple else total[0])


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """J v from the full Jacobian (reverse mode, one pass per output element)."""
    import fastnn
    _no_create_graph(create_graph, "jvp")
    ins, in_tuple = _prepare(inputs)
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
    jac = jacobian(func, tuple(ins), create_graph=False)
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


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    raise NotImplementedError("autograd.functional.hessian needs gradients of gradients "
                              "(create_graph=True), which fastnn's engine does not record")


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    raise NotImplementedError("autograd.functional.hvp needs gradients of gradients "
                              "(create_graph=True), which fastnn's engine does not record")


vhp = hvp
