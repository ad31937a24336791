"""torch.jit for programs that script or trace a model. fastnn runs eagerly and has no graph
compiler: a scripted function is the function itself, and a scripted Module is a
ScriptModule view of it (the same parameters, torch's `RecursiveScriptModule` printout) that
`save()` / `jit.save` write and `jit.load` reads back. The archive is fastnn's own: fastnn
has no TorchScript interpreter, so files written by torch.jit.save are refused with a
message, and loading a fastnn archive needs the model's classes importable (it holds the
Python module, not compiled code)."""
import zipfile

from fastnn.nn.module import Module

_ARCHIVE_KEY = "__fastnn_jit__"


class ScriptModule(Module):
    """Mixed into the class of each module jit.script returns (RecursiveScriptModule)."""

    @property
    def original_name(self):
        return self._original_class.__name__

    def save(self, f, _extra_files=None):
        save(self, f, _extra_files)

    @property
    def code(self):
        import inspect
        return inspect.getsource(self._original_class.forward)

    def extra_repr(self):  # Module's layout then prints torch's scripted form
        return f"original_name={self.original_name}"

    def __reduce__(self):
        plain = object.__new__(self._original_class)
        plain.__dict__.update(self.__dict__)
        return _rescript, (plain,)


def _rescript(module):
    return script(module)


_SCRIPTED_CLASSES = {}


def _script_class(cls):
    if cls not in _SCRIPTED_CLASSES:
        _SCRIPTED_CLASSES[cls] = type("RecursiveScriptModule", (ScriptModule, cls),
                                      {"_original_class": cls, "__module__": cls.__module__})
    return _SCRIPTED_CLASSES[cls]


def _script_module(module):
    """A new module object of the scripted class holding the same parameters and buffers
    (torch's scripted module shares them with the original, which stays as it was)."""
    if isinstance(module, ScriptModule):
        return module
    scripted = object.__new__(_script_class(type(module)))
    scripted.__dict__.update(module.__dict__)
    for name in ("_parameters", "_buffers"):
        object.__setattr__(scripted, name, type(module.__dict__[name])(module.__dict__[name]))
    object.__setattr__(scripted, "_modules", type(module._modules)(
        (name, None if child is None else _script_module(child))
        for name, child in module._modules.items()))
    return scripted


def script(obj=None, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    if isinstance(obj, Module):
        return _script_module(obj)
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    if isinstance(func, Module):
        return _script_module(func)
    return func


def save(m, f, _extra_files=None):
    """Writes a scripted module (fastnn's archive: the module and its tensors)."""
    from fastnn import serialization
    if not isinstance(m, ScriptModule):
        raise AttributeError(f"'{type(m).__name__}' object has no attribute 'save'")
    serialization.save({_ARCHIVE_KEY: 1, "module": m, "extra": dict(_extra_files or {})}, f)


def load(f, map_location=None, _extra_files=None, _restore_shapes=False):
    """Reads what jit.save wrote, as a scripted module."""
    from fastnn import serialization
    if isinstance(f, str) and zipfile.is_zipfile(f):
        raise RuntimeError(f"{f} is a TorchScript archive written by torch.jit.save; fastnn "
                           "has no TorchScript interpreter and cannot load it. Save the "
                           "model's state_dict with torch.save and load that instead.")
    obj = serialization.load(f, weights_only=False)
    if not (isinstance(obj, dict) and obj.get(_ARCHIVE_KEY)):
        raise RuntimeError("not a scripted-module archive (write one with "
                           "torch.jit.save or ScriptModule.save)")
    if _extra_files is not None:
        for name in _extra_files:
            _extra_files[name] = obj["extra"].get(name, "")
    return obj["module"]


def ignore(drop=False, **kwargs):
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    return fn


def is_scripting():
    return False


def is_tracing():
    return False
