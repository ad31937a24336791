import numpy as np

from fastnn import backend
from fastnn.optim.optimizer import Optimizer, check_hyperparameters, implementation_flags


class RMSprop(Optimizer):
    """torch.optim.RMSprop (Hinton's lecture 6e): divide by a running RMS of the gradient;
    centered subtracts the running mean's square; optional momentum on the scaled step."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_hyperparameters(lr=lr, epsilon=eps, momentum=momentum, weight_decay=weight_decay,
                              alpha=alpha)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize,
                                      **implementation_flags(foreach, differentiable,
                                                             capturable=capturable)))

    def _step(self):
        for group, p, grad, state in self._updates():
            if not state:
                state["step"] = 0
                state["square_avg"] = np.zeros_like(p._data)
                if group["momentum"] > 0:
                    state["momentum_buffer"] = np.zeros_like(p._data)
                if group["centered"]:
                    state["grad_avg"] = np.zeros_like(p._data)
            state["step"] += 1
            backend.rmsprop_step(p._data, grad,
                                 state["square_avg"], state.get("grad_avg"),
                                 state.get("momentum_buffer"), group["lr"], group["alpha"],
                                 group["eps"], group["weight_decay"], group["momentum"])
