import math

import numpy as np

from fastnn import backend
from fastnn.optim.optimizer import Optimizer, check_hyperparameters, implementation_flags


class Adam(Optimizer):
    """torch.optim.Adam (Kingma & Ba 2015): bias-corrected first and second moment estimates;
    weight_decay adds an L2 term to the gradient; amsgrad keeps the running max of v."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        check_hyperparameters(lr=lr, epsilon=eps, weight_decay=weight_decay)
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      **implementation_flags(foreach, differentiable, fused,
                                                             capturable)))

    def _step(self):
        for group, p, grad, state in self._updates():
            lr, (b1, b2), wd = group["lr"], group["betas"], group["weight_decay"]
            if not state:
                state["step"] = 0
                state["exp_avg"] = np.zeros_like(p._data)
                state["exp_avg_sq"] = np.zeros_like(p._data)
                if group["amsgrad"]:
                    state["max_exp_avg_sq"] = np.zeros_like(p._data)
            state["step"] += 1
            t = state["step"]
            # bias corrections in double precision, as torch computes them
            step_size = lr / (1 - b1 ** t)
            inv_bc2_sqrt = 1.0 / math.sqrt(1 - b2 ** t)
            decoupled = group.get("decoupled_weight_decay", False)
            backend.adam_step(p._data, grad,
                              state["exp_avg"], state["exp_avg_sq"],
                              state.get("max_exp_avg_sq"), step_size, inv_bc2_sqrt, b1, b2,
                              group["eps"], 0.0 if decoupled else wd,
                              1.0 - lr * wd if decoupled else 1.0)


class AdamW(Adam):
    """torch.optim.AdamW (Loshchilov & Hutter 2019): weight decay applied to the parameter
    (p *= 1 - lr * weight_decay) instead of added to the gradient; default weight_decay 0.01."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
