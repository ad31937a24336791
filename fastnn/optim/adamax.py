import numpy as np

from fastnn import backend
from fastnn.optim.optimizer import Optimizer, check_betas, check_hyperparameters


class Adamax(Optimizer):
    """torch.optim.Adamax (Kingma & Ba 2015, section 7): Adam with the infinity norm,
    u = max(beta2 * u, |g| + eps), p -= lr / (1 - beta1^t) * m / u."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        check_hyperparameters(lr=lr, epsilon=eps, weight_decay=weight_decay)
        check_betas(betas)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _step(self):
        for group, p, grad, state in self._updates():
            if not state:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(p._data)
                state["exp_inf"] = np.zeros_like(p._data)
            state["step"] += 1
            b1, b2 = group["betas"]
            clr = group["lr"] / (1 - b1 ** state["step"])  # in double, as torch computes it
            backend.adamax_step(p._data, grad, state["exp_avg"],
                                state["exp_inf"], clr, b1, b2, group["eps"],
                                group["weight_decay"])
