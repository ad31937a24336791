import numpy as np

from fastnn import backend
from fastnn.optim.optimizer import Optimizer, check_hyperparameters


class Adadelta(Optimizer):
    """torch.optim.Adadelta (Zeiler 2012): step = sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) * g,
    scaled by lr (torch's default lr is 1.0), both running averages with decay rho."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_hyperparameters(lr=lr, epsilon=eps, weight_decay=weight_decay)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, capturable=capturable,
                                      foreach=foreach, differentiable=differentiable))

    def _step(self):
        for group, p, grad, state in self._updates():
            if not state:
                state["step"] = 0
                state["square_avg"] = np.zeros_like(p._data)
                state["acc_delta"] = np.zeros_like(p._data)
            state["step"] += 1
            backend.adadelta_step(p._data, grad,
                                  state["square_avg"], state["acc_delta"], group["lr"],
                                  group["rho"], group["eps"], group["weight_decay"])
