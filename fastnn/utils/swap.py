"""torch.utils.swap_tensors: two tensor objects exchange their contents (class, data, autograd
state, attributes) while each keeps its identity, so whoever holds a reference (an optimizer's
param_groups) sees the other's contents."""
import weakref

from fastnn.tensor import Tensor

_UNSET = object()


def _slots(cls):
    names = []
    for klass in cls.__mro__:
        for name in getattr(klass, "__slots__", ()):
            if name not in ("__weakref__", "__dict__") and name not in names:
                names.append(name)
    return names


def swap_tensors(t1, t2):
    """Swap the contents of tensors t1 and t2, as torch.utils.swap_tensors: torch's errors for
    weak references and for classes with different slots."""
    if not isinstance(t1, Tensor) or not isinstance(t2, Tensor):
        raise TypeError("swap_tensors expects two tensors")
    if weakref.getweakrefs(t1):
        raise RuntimeError("Cannot swap t1 because it has weakref associated with it")
    if weakref.getweakrefs(t2):
        raise RuntimeError("Cannot swap t2 because it has weakref associated with it")
    slots1, slots2 = _slots(type(t1)), _slots(type(t2))
    if set(slots1) != set(slots2):
        raise RuntimeError("Cannot swap t1 and t2 if they have different slots")
    t1.__class__, t2.__class__ = t2.__class__, t1.__class__
    if hasattr(t1, "__dict__") or hasattr(t2, "__dict__"):
        d1, d2 = dict(getattr(t1, "__dict__", {})), dict(getattr(t2, "__dict__", {}))
        t1.__dict__.clear(), t1.__dict__.update(d2)
        t2.__dict__.clear(), t2.__dict__.update(d1)
    for name in slots1:
        a, b = getattr(t1, name, _UNSET), getattr(t2, name, _UNSET)
        for target, value in ((t1, b), (t2, a)):
            if value is _UNSET:
                if hasattr(target, name):
                    delattr(target, name)
            else:
                setattr(target, name, value)
