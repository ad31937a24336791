import numpy as np

from fastnn.optim.optimizer import Optimizer, check_hyperparameters, implementation_flags


class ASGD(Optimizer):
    """torch.optim.ASGD, averaged SGD (Polyak & Juditsky 1992): SGD with a decaying rate
    eta = lr / (1 + lambd * lr * t)^alpha and weight decay lambd * eta; after t0 steps the
    state's ax keeps the running average of the iterates. NumPy updates on whole arrays."""

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        check_hyperparameters(lr=lr, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, maximize=maximize,
                                      **implementation_flags(foreach, differentiable,
                                                             capturable=capturable)))

    def _step(self):
        for group, p, grad, state in self._updates():
            if not state:
                state["step"] = 0
                state["eta"] = float(group["lr"])
                state["mu"] = 1.0
                state["ax"] = np.zeros_like(p._data)
            state["step"] += 1
            if group["weight_decay"]:
                grad = grad + group["weight_decay"] * p._data
            eta, mu = state["eta"], state["mu"]
            p._data *= 1 - group["lambd"] * eta
            p._data -= (eta * grad).astype(p._data.dtype)
            if mu != 1:
                state["ax"] += (p._data - state["ax"]) * mu
            else:
                state["ax"][...] = p._data
            step = state["step"]
            decay = (1 + group["lambd"] * group["lr"] * step) ** group["alpha"]
            state["eta"] = group["lr"] / decay
            state["mu"] = 1 / max(1, step - group["t0"])
