"""NumPy's names for two arguments, as torch's argument parser accepts them everywhere:
`axis=` for `dim=` and `keepdims=` for `keepdim=` (torch/csrc/utils/python_arg_parser.cpp,
numpy_compatibility_arg_names). d2l's code calls torch.stack(..., axis=1) and
x.max(axis=0); the functions here that name only `dim` get a thin wrapper that renames
the keyword (about 0.1 us a call, and only for these functions)."""
import functools
import inspect

_ALIASES = {"axis": "dim", "keepdims": "keepdim"}


def _takes_only_torch_names(fn):
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return False
    return any(name in params for name in _ALIASES.values()) and \
        not any(alias in params for alias in _ALIASES)


def _renaming(fn):
    @functools.wraps(fn)
    def call(*args, **kwargs):
        if "axis" in kwargs or "keepdims" in kwargs:
            _rename(fn, kwargs)
        return fn(*args, **kwargs)
    call._numpy_names = True
    return call


def _rename(fn, kwargs):
    for alias, name in _ALIASES.items():
        if alias in kwargs:
            if name in kwargs:
                raise TypeError(f"{fn.__name__}() got multiple values for argument '{name}'")
            kwargs[name] = kwargs.pop(alias)


def accept_numpy_names(namespace, names=None):
    """Wrap, in place, the callables of `namespace` (a module dict or a class) that take
    `dim` / `keepdim` but not `axis` / `keepdims`."""
    is_class = isinstance(namespace, type)
    items = vars(namespace) if is_class else namespace
    for name in list(names if names is not None else items):
        fn = items.get(name)
        if name.startswith("_") or not inspect.isfunction(fn) or getattr(fn, "_numpy_names",
                                                                          False):
            continue
        if _takes_only_torch_names(fn):
            if is_class:
                setattr(namespace, name, _renaming(fn))
            else:
                items[name] = _renaming(fn)
