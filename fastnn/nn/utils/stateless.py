"""torch.nn.utils.stateless.functional_call (torch.func.functional_call): call a module with
some of its parameters and buffers replaced by the given tensors, for the duration of the
call. The replacements are used as they are (not copied, not wrapped in Parameter), so
gradients flow back to them: the per-sample-gradient and meta-learning recipes rely on it.
"""
from collections import OrderedDict


def _owner(module, dotted):
    *path, leaf = dotted.split(".")
    for name in path:
        module = module._modules.get(name) if name in module._modules else getattr(module, name)
    return module, leaf


def _tied_names(module):
    """For each parameter or buffer reachable under several names: name -> all its names."""
    by_id = OrderedDict()
    for kind in ("named_parameters", "named_buffers"):
        for name, value in getattr(module, kind)(remove_duplicate=False):
            by_id.setdefault(id(value), []).append(name)
    return {name: names for names in by_id.values() if len(names) > 1 for name in names}


def _merge(parameter_and_buffer_dicts):
    if isinstance(parameter_and_buffer_dicts, dict):
        return dict(parameter_and_buffer_dicts)
    merged, seen = {}, set()
    repeated = []
    for d in parameter_and_buffer_dicts:
        for key in d:
            if key in seen and key not in repeated:
                repeated.append(key)
            seen.add(key)
        merged.update(d)
    if repeated:
        raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional "
                         "call is ambiguous")
    return merged


def _with_ties(module, values, tie_weights):
    if not tie_weights:
        return values
    values = dict(values)
    tied = _tied_names(module)
    for name in list(values):
        group = tied.get(name, ())
        given = [n for n in group if n in values]
        if len({id(values[n]) for n in given}) > 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(given)}, "
                             "which are tied. Consider using tie_weights=False")
        for other in group:
            values.setdefault(other, values[name])
    return values


def _check_strict(module, values):
    expected = [n for n, _ in module.named_parameters(remove_duplicate=False)] + \
               [n for n, _ in module.named_buffers(remove_duplicate=False)]
    unexpected = [k for k in values if k not in expected]
    missing = [k for k in expected if k not in values]
    if unexpected or missing:
        lines = []
        if unexpected:
            lines.append("Unexpected key(s): " + ", ".join(f"'{k}'" for k in unexpected) + ".")
        if missing:
            lines.append("Missing key(s): " + ", ".join(f"'{k}'" for k in missing) + ".")
        raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t"
                           + "\n\t".join(lines))


def _swap(module, values):
    """Put each value in place of the module's tensor of that name; returns the undo list.
    Names the module does not have are skipped (strict=False), as torch does."""
    undo = []
    for name, value in values.items():
        try:
            owner, leaf = _owner(module, name)
        except AttributeError:
            continue
        for table in (owner._parameters, owner._buffers):
            if leaf in table:
                undo.append((table, leaf, table[leaf]))
                table[leaf] = value
                break
    return undo


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    values = _merge(parameter_and_buffer_dicts)
    values = _with_ties(module, values, tie_weights)
    if strict:
        _check_strict(module, values)
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    undo = _swap(module, values)
    try:
        return module(*args, **(kwargs or {}))
    finally:
        for table, leaf, original in reversed(undo):
            table[leaf] = original
