import numpy as np

from fastnn import backend
from fastnn.optim.optimizer import Optimizer


class RMSprop(Optimizer):
    """torch.optim.RMSprop (Hinton's lecture 6e): divide by a running RMS of the gradient;
    centered subtracts the running mean's square; optional momentum on the scaled step."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if alpha < 0.0:
            raise ValueError(f"Invalid alpha value: {alpha}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state.setdefault(id(p), {})
                if not state:
                    state["step"] = 0
                    state["square_avg"] = np.zeros_like(p.data)
                    if group["momentum"] > 0:
                        state["momentum_buffer"] = np.zeros_like(p.data)
                    if group["centered"]:
                        state["grad_avg"] = np.zeros_like(p.data)
                state["step"] += 1
                backend.rmsprop_step(p.data, np.ascontiguousarray(p.grad.data),
                                     state["square_avg"], state.get("grad_avg"),
                                     state.get("momentum_buffer"), group["lr"], group["alpha"],
                                     group["eps"], group["weight_decay"], group["momentum"])
