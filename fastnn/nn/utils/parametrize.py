"""torch.nn.utils.parametrize: a tensor of a module computed by modules from an unconstrained
original, as the parametrizations tutorial uses it (a symmetric or orthogonal weight).

register_parametrization(m, "weight", P) moves the parameter to
m.parametrizations.weight.original (P.right_inverse applied, when P has one) and makes
m.weight a property computing P(original) on each access; further registrations chain
(P2(P1(original))). The module's class is swapped for a subclass holding the properties, as
torch does, so other instances of the class are untouched."""
from contextlib import contextmanager

from fastnn.autograd.grad_mode import no_grad
from fastnn.nn.containers import ModuleDict, ModuleList
from fastnn.nn.parameter import Parameter

_cache_enabled = 0
_cache = {}


@contextmanager
def cached():
    """Within it, each parametrized tensor is computed once and reused."""
    global _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache.clear()


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, in order, and its `original`."""

    def __init__(self, modules, original, unsafe=False):
        super().__init__(modules)
        self.unsafe = unsafe
        value = original.detach()
        for module in reversed(list(modules)):
            if hasattr(module, "right_inverse"):
                value = module.right_inverse(value)
        # a right_inverse may split the tensor in several originals (weight_norm: g and v)
        self.is_tensor = not isinstance(value, (tuple, list))
        values = [value] if self.is_tensor else list(value)
        for i, v in enumerate(values):
            self.register_parameter("original" if self.is_tensor else f"original{i}",
                                    Parameter(v.detach().clone(),
                                              requires_grad=original.requires_grad))
        self.ntensors = len(values)

    def right_inverse(self, value):
        with no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not "
                                       "implement right_inverse.")
                value = module.right_inverse(value)
            if self.is_tensor:
                self.original.copy_(value)
            else:
                for i, v in enumerate(value):
                    getattr(self, f"original{i}").copy_(v)

    def forward(self):
        modules = list(self)
        if self.is_tensor:
            x = modules[0](self.original)
        else:
            x = modules[0](*[getattr(self, f"original{i}") for i in range(self.ntensors)])
        for module in modules[1:]:
            x = module(x)
        return x


def _property(name):
    def getter(self):
        plist = self.parametrizations[name]
        if _cache_enabled:
            key = (id(self), name)
            if key not in _cache:
                _cache[key] = plist()
            return _cache[key]
        return plist()

    def setter(self, value):
        self.parametrizations[name].right_inverse(value)

    return property(getter, setter)


def _parametrized_class(module):
    cls = type(module)
    if getattr(cls, "_is_parametrized_class", False):
        return cls

    def __setattr__(self, name, value):
        if name in type(self)._parametrized_names:
            type(self).__dict__[name].fset(self, value)
        else:
            cls.__setattr__(self, name, value)

    made = type(f"Parametrized{cls.__name__}", (cls,),
                {"_is_parametrized_class": True, "_parametrized_names": set(),
                 "__setattr__": __setattr__, "_original_class": cls})
    module.__class__ = made
    return made


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    if is_parametrized(module, tensor_name):
        module.parametrizations[tensor_name].append(parametrization)
        return module
    if tensor_name in module._parameters:
        original = module._parameters[tensor_name]
    elif tensor_name in module._buffers:
        original = module._buffers[tensor_name]
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    if not unsafe:
        with no_grad():
            probe = parametrization(original.detach())
        if tuple(probe.shape) != tuple(original.shape) or probe.dtype != original.dtype:
            raise ValueError("Registering a parametrization may not change the shape or dtype "
                             f"of the tensor, unless `unsafe` flag is enabled.\n"
                             f"unparametrized shape: {tuple(original.shape)}\n"
                             f"parametrized shape: {tuple(probe.shape)}")
    plist = ParametrizationList([parametrization], original, unsafe=unsafe)
    module._parameters.pop(tensor_name, None)
    module._buffers.pop(tensor_name, None)
    if not is_parametrized(module):
        module.parametrizations = ModuleDict()
    module.parametrizations[tensor_name] = plist
    cls = _parametrized_class(module)
    cls._parametrized_names.add(tensor_name)
    setattr(cls, tensor_name, _property(tensor_name))
    return module


def is_parametrized(module, tensor_name=None):
    plists = module._modules.get("parametrizations")
    if not isinstance(plists, ModuleDict):
        return False
    return tensor_name in plists if tensor_name is not None else len(plists) > 0


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    plist = module.parametrizations[tensor_name]
    if not plist.is_tensor and not leave_parametrized:
        raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                         "that is parametrized in terms of a sequence of tensors.")
    original = plist.original if plist.is_tensor else None
    wanted = (plist.original if plist.is_tensor else plist.original0).requires_grad
    if leave_parametrized or original is None:
        with no_grad():
            value = getattr(module, tensor_name)
        original = Parameter(value.detach().clone(), requires_grad=wanted)
    cls = type(module)
    delattr(cls, tensor_name)
    cls._parametrized_names.discard(tensor_name)
    del module.parametrizations[tensor_name]
    module.register_parameter(tensor_name, original if isinstance(original, Parameter)
                              else Parameter(original))
    if not is_parametrized(module):
        del module._modules["parametrizations"]
        module.__class__ = cls._original_class
    return module


def type_before_parametrizations(module):
    return getattr(type(module), "_original_class", type(module))


__all__ = ["ParametrizationList", "cached", "is_parametrized", "register_parametrization",
           "remove_parametrizations", "type_before_parametrizations"]
