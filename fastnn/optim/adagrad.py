import numpy as np

from fastnn import backend
from fastnn.optim.optimizer import Optimizer, check_hyperparameters, implementation_flags


class Adagrad(Optimizer):
    """torch.optim.Adagrad (Duchi et al. 2011): per-element step lr / (sqrt(sum of g^2) + eps),
    with lr decayed as lr / (1 + (t - 1) * lr_decay)."""

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        check_hyperparameters(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                              initial_accumulator_value=initial_accumulator_value, epsilon=eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize,
                                      **implementation_flags(foreach, differentiable, fused)))

    def _step(self):
        for group, p, grad, state in self._updates():
            if not state:
                state["step"] = 0
                state["sum"] = np.full_like(p._data, group["initial_accumulator_value"])
            state["step"] += 1
            clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
            backend.adagrad_step(p._data, grad, state["sum"],
                                 clr, group["weight_decay"],
                                 group["eps"])
