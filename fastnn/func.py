"""torch.func: functional_call, grad / grad_and_value, vmap, jacrev / jacfwd, vjp, jvp /
linearize and stack_module_state, the pieces of PyTorch's per-sample-gradient and model-ensembling recipes.

grad differentiates a function of tensors (or of dicts, lists and tuples of them, such as a
module's parameters) with fastnn's reverse-mode engine. vmap maps a function over a batch
dimension by calling it once per example and stacking the results along out_dims: torch runs
the same per-example fallback for ops without a batching rule, and the results (and their
gradients, which flow through the slicing and stacking) are the same as torch's batched ones.
It is a loop, so its cost grows with the batch. Transforms compose (grad of grad, hessian as
jacrev of jacrev): a transform running inside another differentiates with create_graph=True,
so the outer one sees the inner one's gradient as a function of its inputs.
"""
import functools

from fastnn.autograd import forward_ad
from fastnn.autograd.grad_mode import enable_grad
from fastnn.nn.utils.stateless import functional_call  # noqa: F401
from fastnn.tensor import Tensor

_grad_depth = [0]  # how many grad transforms are running (an inner one records its graph)


# --- pytrees: tensors in tuples, lists and dicts -------------------------------------------
def _flatten(tree):
    if isinstance(tree, (tuple, list)):
        leaves, specs = [], []
        for item in tree:
            sub_leaves, spec = _flatten(item)
            leaves += sub_leaves
            specs.append(spec)
        return leaves, (type(tree), specs)
    if isinstance(tree, dict):
        leaves, specs = [], []
        for key, item in tree.items():
            sub_leaves, spec = _flatten(item)
            leaves += sub_leaves
            specs.append((key, spec))
        return leaves, (dict, specs)
    return [tree], None


def _unflatten(leaves, spec):
    it = iter(leaves)

    def build(spec):
        if spec is None:
            return next(it)
        kind, children = spec
        if kind is dict:
            return {key: build(child) for key, child in children}
        items = [build(child) for child in children]
        return kind(items) if kind in (tuple, list) else kind(*items)
    return build(spec)


# --- grad ----------------------------------------------------------------------------------
def _positions(argnums, nargs):
    single = isinstance(argnums, int)
    positions = (argnums,) if single else tuple(argnums)
    if not positions:
        raise RuntimeError("argnums must be non-empty")
    for p in positions:
        if not isinstance(p, int):
            raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
        if not -nargs <= p < nargs:
            raise RuntimeError(f"Got argnums={p}, but only {nargs} positional inputs")
    return single, tuple(p % nargs for p in positions)


def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (gradient of func's scalar output with respect to the arguments
    at argnums, func's output); with has_aux func returns (output, aux) and the result is
    ((gradient, (output, aux))."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        single, positions = _positions(argnums, len(args))
        # inside another transform (or under jvp, whose tangents must flow through the
        # backward pass): record the gradient's graph
        dual = forward_ad.any_tangent(_flatten(args)[0])
        nested = _grad_depth[0] > 0 or dual
        args = list(args)
        trees = []
        for p in positions:
            leaves, spec = _flatten(args[p])
            fresh = [_fresh(x, nested) if isinstance(x, Tensor) and x.dtype.is_floating_point
                     else x for x in leaves]
            args[p] = _unflatten(fresh, spec)
            trees.append((fresh, spec))
        _grad_depth[0] += 1
        try:
            with enable_grad():
                result = func(*args, **kwargs)
        finally:
            _grad_depth[0] -= 1
        if has_aux:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError("grad_and_value(f)(*args): output of function f should be a "
                                   "tuple: (output, aux) if has_aux is True")
            output, aux = result
        else:
            output, aux = result, None
        if not isinstance(output, Tensor):
            raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a "
                               f"Tensor, got {type(output)}")
        if output.ndim != 0:
            raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a scalar "
                               f"Tensor, got tensor with {output.ndim} dims. Maybe you wanted "
                               "to use the vjp or jacrev APIs instead?")
        grads = [_gradients(output, fresh, nested) for fresh, _ in trees]
        if dual and _grad_depth[0] == 0:  # the gradient as a plain dual tensor
            grads = [[_detach_dual(g) for g in group] for group in grads]
            output = _detach_dual(output)
        grads = tuple(_unflatten(g, spec) for g, (_, spec) in zip(grads, trees))
        grads = grads[0] if single else grads
        value = output if nested else output.detach()
        if has_aux:
            return grads, (value, aux if nested else _detach_tree(aux))
        return grads, value
    return wrapper


def _fresh(x, nested):
    """The tensor a transform differentiates with respect to: a new leaf, or (nested in
    another transform, x already in its graph) a view that keeps that graph connected. A
    dual x (under jvp) keeps its tangent."""
    if nested and x.requires_grad:
        return x.view_as(x)
    return forward_ad.with_tangent_of(x, x.detach().requires_grad_(True))


def _detach_dual(t):
    return forward_ad.with_tangent_of(t, t.detach()) if isinstance(t, Tensor) else t


def _gradients(output, leaves, create_graph=False):
    import fastnn
    from fastnn.autograd.engine import grad as engine_grad
    wanted = [x for x in leaves if isinstance(x, Tensor) and x.requires_grad]
    found = (engine_grad([output], wanted, retain_graph=True, create_graph=create_graph,
                         allow_unused=True)
             if wanted and output.requires_grad else [None] * len(wanted))
    by_id = {id(x): g for x, g in zip(wanted, found)}
    return [(fastnn.zeros_like(x) if by_id.get(id(x)) is None else by_id[id(x)])
            if isinstance(x, Tensor) and x.requires_grad else x for x in leaves]


def _detach_tree(tree):
    leaves, spec = _flatten(tree)
    return _unflatten([x.detach() if isinstance(x, Tensor) else x for x in leaves], spec)


def grad(func, argnums=0, has_aux=False):
    """torch.func.grad: the gradient of func's scalar output with respect to the arguments at
    argnums (with has_aux, (gradient, aux))."""
    inner = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        grads, value = inner(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads
    return wrapper


def vjp(func, *primals, has_aux=False):
    """torch.func.vjp: (func(*primals), vjp_fn) where vjp_fn(cotangents) gives the gradients
    of the primals, as a tuple with one entry per primal in its structure (a dict of
    parameters gives a dict of gradients)."""
    import fastnn
    from fastnn.autograd.engine import grad as engine_grad
    leaves, spec = _flatten(primals)
    fresh = [x.detach().requires_grad_(True) if isinstance(x, Tensor)
             and x.dtype.is_floating_point else x for x in leaves]
    _grad_depth[0] += 1  # a transform inside func (vjp of grad: reverse-over-reverse) records
    try:
        with enable_grad():
            result = func(*_unflatten(fresh, spec))
    finally:
        _grad_depth[0] -= 1
    output, aux = result if has_aux else (result, None)
    out_leaves, out_spec = _flatten(output)

    def vjp_fn(cotangents):
        directions, _ = _flatten(cotangents)
        pairs = [(o, d) for o, d in zip(out_leaves, directions) if o.requires_grad]
        wanted = [x for x in fresh if isinstance(x, Tensor) and x.requires_grad]
        found = engine_grad([o for o, _ in pairs], wanted, grad_outputs=[d for _, d in pairs],
                            retain_graph=True, allow_unused=True) if pairs else [None] * len(wanted)
        grads = iter(fastnn.zeros_like(x) if g is None else g for x, g in zip(wanted, found))
        # non-differentiable leaves (integer tensors, numbers) get None, as torch's
        return _unflatten([next(grads) if isinstance(x, Tensor) and x.requires_grad else None
                           for x in fresh], spec)
    value = _unflatten([o.detach() for o in out_leaves], out_spec)
    return (value, vjp_fn, _detach_tree(aux)) if has_aux else (value, vjp_fn)


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """torch.func.jacrev: the Jacobian of func's output(s) with respect to the arguments at
    argnums, shaped output.shape + input.shape (one backward pass per output element)."""
    from fastnn.autograd.functional import jacobian

    @functools.wraps(func)
    def wrapper(*args):
        nested = _grad_depth[0] > 0
        single, positions = _positions(argnums, len(args))
        aux_box = []
        # each chosen argument may be a pytree (a dict of parameters): differentiate with
        # respect to its leaves, then give the Jacobians back in its structure
        trees = [_flatten(args[p]) for p in positions]
        counts = [len(leaves) for leaves, _ in trees]

        def of_leaves(*leaves):
            full, at = list(args), 0
            for p, (_, spec), n in zip(positions, trees, counts):
                full[p] = _unflatten(leaves[at:at + n], spec)
                at += n
            out = func(*full)
            if has_aux:
                out, aux = out
                aux_box.append(aux)
            return out
        leaves = tuple(leaf for flat, _ in trees for leaf in flat)
        _grad_depth[0] += 1
        try:
            jac = jacobian(of_leaves, leaves, create_graph=nested)
        finally:
            _grad_depth[0] -= 1
        jac = _regroup(jac, trees, counts, single)
        return (jac, _detach_tree(aux_box[0])) if has_aux else jac
    return wrapper


def _regroup(jac, trees, counts, single):
    """autograd.functional.jacobian's per-leaf tuple (per output, for several outputs) put
    back into the arguments' structures: one structure for an int argnums, a tuple else."""
    def per_argument(per_leaf):
        out, at = [], 0
        for (_, spec), n in zip(trees, counts):
            out.append(_unflatten(list(per_leaf[at:at + n]), spec))
            at += n
        return out[0] if single else tuple(out)
    if isinstance(jac, tuple) and jac and isinstance(jac[0], tuple):
        return tuple(per_argument(per_output) for per_output in jac)
    return per_argument(jac)


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """torch.func.jacfwd: the same Jacobian as jacrev. fastnn computes it in reverse mode (one
    backward pass per output element), which gives the same values; jvp is the forward-mode
    transform."""
    return jacrev(func, argnums, has_aux=has_aux)


# --- forward mode ---------------------------------------------------------------------------
def _spec_text(spec):
    """A pytree structure as torch's TreeSpec prints it (for jvp's structure error)."""
    if spec is None:
        return "*"
    kind, children = spec
    if kind is dict:
        keys = [key for key, _ in children]
        inner = ",\n  ".join(_spec_text(child) for _, child in children)
        return f"TreeSpec(dict, {keys}, [{inner}])"
    inner = ",\n  ".join(_spec_text(child) for child in children)
    return f"TreeSpec({kind.__name__}, None, [{inner}])"


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """torch.func.jvp: (func(*primals), J v) for tangents v shaped as primals, by forward-mode
    AD (autograd/forward_ad.py): each primal is made dual with its tangent and func runs once.
    An output that does not depend on the primals gets a zero tangent."""
    import fastnn
    from fastnn.autograd import forward_ad
    if not isinstance(primals, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it "
                           "should be valid to call f(*primals).")
    leaves, spec = _flatten(primals)
    tangent_leaves, tangent_spec = _flatten(tangents)
    if spec != tangent_spec:
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have "
                           "the same python structure. For example, if primals is a tuple of 3 "
                           "tensors, tangents also must be. Got primals with structure "
                           f"{_spec_text(spec)} and tangents with structure "
                           f"{_spec_text(tangent_spec)}")
    for name, group in (("primals", leaves), ("tangents", tangent_leaves)):
        if not all(isinstance(x, Tensor) for x in group):
            raise RuntimeError(f"jvp(f, primals, tangents): Expected {name} to only contain "
                               "Tensors, got unsupported types")
    with forward_ad.dual_level():
        duals = [forward_ad.make_dual(p, t) for p, t in zip(leaves, tangent_leaves)]
        result = func(*_unflatten(duals, spec))
        if has_aux:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError("jvp(f, primals, tangents): output of function with "
                                   "has_aux=True should be a tuple: (output, aux)")
            result, aux = result
        outs, out_spec = _flatten(result)
        for o in outs:
            if not isinstance(o, Tensor):
                raise RuntimeError("jvp(f, primals, tangents): expected f(*primals) to return "
                                   f"only tensors, got unsupported type {type(o)}")
        primal_outs, tangent_outs = [], []
        for o in outs:
            primal, tangent = forward_ad.unpack_dual(o)
            primal_outs.append(primal.detach())
            tangent_outs.append(fastnn.zeros_like(o) if tangent is None else tangent)
    pair = (_unflatten(primal_outs, out_spec), _unflatten(tangent_outs, out_spec))
    return pair + (_detach_tree(aux),) if has_aux else pair


def linearize(func, *primals):
    """torch.func.linearize: (func(*primals), jvp_fn) where jvp_fn(*tangents) is J v at
    these primals (each call runs the forward-mode pass again)."""
    output = func(*primals)

    def jvp_fn(*tangents):
        return jvp(func, primals, tangents)[1]
    return _detach_tree(output), jvp_fn


def hessian(func, argnums=0):
    """torch.func.hessian: the Jacobian of the Jacobian (differentiated through
    create_graph's recorded backward pass)."""
    return jacrev(jacrev(func, argnums), argnums)


# --- vmap -----------------------------------------------------------------------------------
def _dims_per_leaf(in_dims, args):
    """in_dims broadcast over the arguments' pytrees: one dim (or None) per leaf."""
    if isinstance(in_dims, int) or in_dims is None:
        leaves, _ = _flatten(args)
        return [in_dims] * len(leaves)
    if not isinstance(in_dims, (tuple, list)) or len(in_dims) != len(args):
        raise ValueError(f"vmap(f, in_dims={in_dims}, ...)(<inputs>): in_dims is not "
                         f"compatible with the structure of `inputs`. in_dims has structure "
                         f"{type(in_dims).__name__} of length {len(in_dims) if isinstance(in_dims, (tuple, list)) else 1} "
                         f"but inputs has {len(args)} arguments.")
    dims = []
    for spec, arg in zip(in_dims, args):
        leaves, _ = _flatten(arg)
        if isinstance(spec, (tuple, list, dict)):
            spec_leaves, _ = _flatten(spec)
            dims += spec_leaves
        else:
            dims += [spec] * len(leaves)
    return dims


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """torch.func.vmap: func mapped over dimension in_dims of its tensor arguments (None:
    the argument is shared), its outputs stacked along out_dims."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        import fastnn
        leaves, spec = _flatten(list(args))
        dims = _dims_per_leaf(in_dims, args)
        sizes = []
        for x, d in zip(leaves, dims):
            if d is None:
                continue
            if not isinstance(x, Tensor):
                raise ValueError(f"vmap(f, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} "
                                 f"for an input but the input is of type {type(x)}. We cannot "
                                 "vmap over non-Tensor arguments, please use None as the "
                                 "respective in_dim")
            if not -x.ndim <= d < max(x.ndim, 1) or x.ndim == 0:
                raise ValueError(f"vmap(f, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} "
                                 f"for some input, but that input is a Tensor of "
                                 f"dimensionality {x.ndim} so expected in_dim to satisfy "
                                 f"-{x.ndim} <= in_dim < {x.ndim}.")
            sizes.append(x.shape[d])
        if not sizes:
            raise ValueError(f"vmap(f, in_dims={in_dims}, ...)(<inputs>): at least one input "
                             "must be a Tensor mapped over a dimension (in_dim not None)")
        if len(set(sizes)) != 1:
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped "
                             f"dimension, got sizes {sizes} for the mapped dimension")
        from fastnn import random
        state = fastnn.get_rng_state() if randomness == "same" else None
        results = []
        random.vmap_mode.error += randomness == "error"  # torch's default: random ops refuse
        try:
            for i in range(sizes[0]):
                if state is not None:
                    fastnn.set_rng_state(state)  # every example draws the same numbers
                sliced = [x.select(d, i) if d is not None else x for x, d in zip(leaves, dims)]
                results.append(func(*_unflatten(sliced, spec), **kwargs))
        finally:
            random.vmap_mode.error -= randomness == "error"
        return _stack_outputs(results, out_dims)
    return wrapper


def _stack_outputs(results, out_dims):
    import fastnn
    flat = [_flatten(r) for r in results]
    spec = flat[0][1]
    columns = list(zip(*(leaves for leaves, _ in flat)))
    dims = ([out_dims] * len(columns) if isinstance(out_dims, int) or out_dims is None
            else _flatten(out_dims)[0])
    stacked = []
    for column, d in zip(columns, dims):
        if not all(isinstance(t, Tensor) for t in column):
            raise ValueError("vmap: `f` must only return Tensors, got type "
                             f"{type(column[0])}. Did you mean to set out_dims= to None for "
                             "output?")
        stacked.append(column[0] if d is None else fastnn.stack(column, dim=d))
    return _unflatten(stacked, spec)


def stack_module_state(models):
    """torch.func.stack_module_state: the models' parameters and buffers stacked along a new
    leading dimension, as (params, buffers) dicts (the stacked parameters are new leaves)."""
    import fastnn
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/"
                           "eval mode.")
    first = type(models[0])
    if not all(type(m) is first for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    params = {name: fastnn.stack([dict(m.named_parameters())[name].detach() for m in models])
              .requires_grad_(param.requires_grad)
              for name, param in models[0].named_parameters()}
    buffers = {name: fastnn.stack([dict(m.named_buffers())[name] for m in models])
               for name, _ in models[0].named_buffers()}
    return params, buffers
