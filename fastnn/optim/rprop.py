import numpy as np

from fastnn.optim.optimizer import Optimizer, implementation_flags


class Rprop(Optimizer):
    """torch.optim.Rprop (Riedmiller & Braun 1993): each weight keeps its own step size,
    multiplied by etaplus while its gradient keeps its sign and by etaminus when it flips
    (that step then skipped), clamped to step_sizes; the update is -sign(g) * step. NumPy
    updates on whole arrays."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes),
                                      maximize=maximize,
                                      **implementation_flags(foreach, differentiable,
                                                             capturable=capturable)))

    def _step(self):
        for group, p, grad, state in self._updates():
            if not state:
                state["step"] = 0
                state["prev"] = np.zeros_like(p._data)
                state["step_size"] = np.full_like(p._data, group["lr"])
            state["step"] += 1
            eta_minus, eta_plus = group["etas"]
            low, high = group["step_sizes"]
            sign = np.sign(grad * state["prev"])
            factor = np.where(sign > 0, eta_plus, np.where(sign < 0, eta_minus, 1.0))
            step_size = state["step_size"]
            np.clip(step_size * factor.astype(step_size.dtype), low, high, out=step_size)
            grad = np.where(sign < 0, 0.0, grad).astype(p._data.dtype)
            p._data -= np.sign(grad) * step_size
            state["prev"] = grad
