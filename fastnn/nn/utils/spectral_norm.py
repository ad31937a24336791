"""torch.nn.utils.spectral_norm (Miyato et al. 2018, "Spectral normalization for generative
adversarial networks"): the weight divided by its largest singular value, estimated by power
iteration on the weight as a matrix (the `dim` axis as rows).

As torch's original API: the parameter moves to `name_orig`, the vectors are the buffers
`name_u` and `name_v`, and a forward pre-hook recomputes `name` before each call, running
n_power_iterations steps in training mode (the vectors persist, so one step per batch
converges over training) and none in eval mode."""
from fastnn.autograd import grad_mode
from fastnn.nn.parameter import Parameter


def _normalize(x, eps):
    return x / x.norm().clamp(min=eps)


def _as_matrix(weight, dim):
    if dim != 0:
        order = [dim] + [d for d in range(weight.ndim) if d != dim]
        weight = weight.permute(*order)
    return weight.reshape(weight.shape[0], -1)


class _SpectralNorm:
    def __init__(self, name, n_power_iterations, dim, eps):
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.name, self.n_power_iterations, self.dim, self.eps = \
            name, n_power_iterations, dim, eps

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        matrix = _as_matrix(weight, self.dim)
        if do_power_iteration:
            with grad_mode.no_grad():
                m = matrix.detach()
                for _ in range(self.n_power_iterations):
                    v.copy_(_normalize(m.t() @ u, self.eps))
                    u.copy_(_normalize(m @ v, self.eps))
            u, v = u.clone(), v.clone()  # the graph keeps these values, not later updates
        sigma = u.dot(matrix @ v)
        return weight / sigma

    def __call__(self, module, inputs):
        setattr(module, self.name,
                self.compute_weight(module, do_power_iteration=module.training))


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    from fastnn.nn.conv import ConvTranspose1d, ConvTranspose2d
    for hook, _ in module._hook_table("forward_pre").values():
        if isinstance(hook, _SpectralNorm) and hook.name == name:
            raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter "
                               f"{name}")
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d)) else 0
    norm = _SpectralNorm(name, n_power_iterations, dim % getattr(module, name).ndim, eps)
    weight = module._parameters[name]
    with grad_mode.no_grad():
        matrix = _as_matrix(weight.detach(), norm.dim)
        import fastnn
        u = _normalize(fastnn.randn(matrix.shape[0], dtype=weight.dtype), eps)
        v = _normalize(fastnn.randn(matrix.shape[1], dtype=weight.dtype), eps)
    del module._parameters[name]
    module.register_parameter(name + "_orig", weight)
    setattr(module, name, weight.detach() * 1)
    module.register_buffer(name + "_u", u)
    module.register_buffer(name + "_v", v)
    module.register_forward_pre_hook(norm)
    return module


def remove_spectral_norm(module, name="weight"):
    hooks = module._hook_table("forward_pre")
    for key, (hook, _) in list(hooks.items()):
        if isinstance(hook, _SpectralNorm) and hook.name == name:
            with grad_mode.no_grad():
                weight = hook.compute_weight(module, do_power_iteration=False)
            del hooks[key]
            del module._parameters[name + "_orig"]
            del module._buffers[name + "_u"]
            del module._buffers[name + "_v"]
            module.__dict__.pop(name, None)
            module.register_parameter(name, Parameter(weight.detach()))
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
