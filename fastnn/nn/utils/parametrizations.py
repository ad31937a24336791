"""torch.nn.utils.parametrizations: spectral_norm and weight_norm as parametrizations
(fastnn/nn/utils/parametrize.py), with torch's state-dict keys
(parametrizations.weight.original, ...0._u / original0 and original1)."""
from fastnn.autograd import grad_mode
from fastnn.nn.module import Module
from fastnn.nn.utils import parametrize
from fastnn.nn.utils.spectral_norm import _as_matrix, _normalize
from fastnn.nn.utils.weight_norm import _norm_except_dim


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim % max(weight.ndim, 1)
        self.eps, self.n_power_iterations = eps, n_power_iterations
        if weight.ndim > 1:
            import fastnn
            matrix = _as_matrix(weight.detach(), self.dim)
            self.register_buffer("_u", _normalize(fastnn.randn(matrix.shape[0],
                                                               dtype=weight.dtype), eps))
            self.register_buffer("_v", _normalize(fastnn.randn(matrix.shape[1],
                                                               dtype=weight.dtype), eps))
            self._power_method(matrix, 15)

    def _power_method(self, matrix, iterations):
        with grad_mode.no_grad():
            m = matrix.detach()
            for _ in range(iterations):
                self._v.copy_(_normalize(m.t() @ self._u, self.eps))
                self._u.copy_(_normalize(m @ self._v, self.eps))

    def forward(self, weight):
        if weight.ndim == 1:
            return weight / weight.norm().clamp(min=self.eps)
        matrix = _as_matrix(weight, self.dim)
        if self.training:
            self._power_method(matrix, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        return weight / u.dot(matrix @ v)

    def right_inverse(self, value):
        return value


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self.dim).detach(), weight.detach()


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    from fastnn.nn.conv import ConvTranspose1d, ConvTranspose2d
    weight = getattr(module, name, None)
    if weight is None:
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d)) else 0
    parametrize.register_parametrization(module, name,
                                         _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


def weight_norm(module, name="weight", dim=0):
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module
