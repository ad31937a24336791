import math

import numpy as np

from fastnn import backend
from fastnn.optim.optimizer import Optimizer, check_betas, check_hyperparameters


class NAdam(Optimizer):
    """torch.optim.NAdam (Dozat 2016): Adam with Nesterov momentum and the momentum schedule
    mu_t = beta1 (1 - 0.5 * 0.96^(t * momentum_decay)). The schedule's scalars are computed
    here in double, as torch does, and the fused kernel applies them."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check_hyperparameters(lr=lr, epsilon=eps, weight_decay=weight_decay,
                              momentum_decay=momentum_decay)
        check_betas(betas)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable))

    def _step(self):
        for group, p, grad, state in self._updates():
            if not state:
                state["step"] = 0
                state["mu_product"] = 1.0
                state["exp_avg"] = np.zeros_like(p._data)
                state["exp_avg_sq"] = np.zeros_like(p._data)
            state["step"] += 1
            t, lr, (b1, b2) = state["step"], group["lr"], group["betas"]
            psi = group["momentum_decay"]
            mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
            mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
            state["mu_product"] *= mu
            product = state["mu_product"]
            decoupled = group["decoupled_weight_decay"]
            wd = group["weight_decay"]
            backend.nadam_step(p._data, grad, state["exp_avg"],
                               state["exp_avg_sq"], lr * (1.0 - mu) / (1.0 - product),
                               lr * mu_next / (1.0 - product * mu_next), b1, b2,
                               1.0 / (1.0 - b2 ** t), group["eps"], 0.0 if decoupled else wd,
                               1.0 - lr * wd if decoupled else 1.0)


class RAdam(Optimizer):
    """torch.optim.RAdam (Liu et al. 2020): Adam whose adaptive step is used only once the
    variance of its estimate is tractable (rho_t > 5), scaled by the rectification term."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        check_hyperparameters(lr=lr, epsilon=eps, weight_decay=weight_decay)
        check_betas(betas)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable))

    def _step(self):
        for group, p, grad, state in self._updates():
            if not state:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(p._data)
                state["exp_avg_sq"] = np.zeros_like(p._data)
            state["step"] += 1
            t, lr, (b1, b2) = state["step"], group["lr"], group["betas"]
            bc1, bc2 = 1.0 - b1 ** t, 1.0 - b2 ** t
            rho_inf = 2.0 / (1.0 - b2) - 1.0
            rho_t = rho_inf - 2.0 * t * b2 ** t / bc2
            rectified = rho_t > 5.0
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) if rectified else 0.0
            decoupled, wd = group["decoupled_weight_decay"], group["weight_decay"]
            backend.radam_step(p._data, grad, state["exp_avg"],
                               state["exp_avg_sq"], lr / bc1, rect * math.sqrt(bc2), rectified,
                               b1, b2, group["eps"], 0.0 if decoupled else wd,
                               1.0 - lr * wd if decoupled else 1.0)
