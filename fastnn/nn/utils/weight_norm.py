"""torch.nn.utils.weight_norm (Salimans & Kingma 2016): a weight re-parameterised as
g * v / ||v||, with the norm over every dimension but `dim`; g and v are the parameters, the
weight is recomputed before each forward (a forward pre-hook), as torch's original API does."""
from fastnn.nn.parameter import Parameter


def _norm_except_dim(v, dim):
    if dim is None or dim == -1:
        return v.norm()
    dim = dim % v.ndim
    others = tuple(d for d in range(v.ndim) if d != dim)
    return v.norm(2, dim=others, keepdim=True) if others else v.abs()


class _WeightNorm:
    def __init__(self, name, dim):
        self.name, self.dim = name, dim

    def compute(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute(module))


def weight_norm(module, name="weight", dim=0):
    for hook in module._hook_table("forward_pre").values():
        if isinstance(hook[0], _WeightNorm) and hook[0].name == name:
            raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter "
                               f"{name}")
    weight = getattr(module, name)
    norm = _WeightNorm(name, dim)
    del module._parameters[name]
    module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight, dim).detach()))
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    setattr(module, name, norm.compute(module))
    module._weight_norm_handles = getattr(module, "_weight_norm_handles", {})
    module._weight_norm_handles[name] = module.register_forward_pre_hook(norm)
    return module


def remove_weight_norm(module, name="weight"):
    handles = getattr(module, "_weight_norm_handles", {})
    if name not in handles:
        raise ValueError(f"weight_norm of '{name}' not found in {module}")
    norm = None
    for hook in module._hook_table("forward_pre").values():
        if isinstance(hook[0], _WeightNorm) and hook[0].name == name:
            norm = hook[0]
    weight = norm.compute(module).detach()
    handles.pop(name).remove()
    del module._parameters[name + "_g"]
    del module._parameters[name + "_v"]
    module.__dict__.pop(name, None)
    module.register_parameter(name, Parameter(weight))
    return module
