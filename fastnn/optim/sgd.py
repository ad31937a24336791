import numpy as np

from fastnn import backend

from fastnn.optim.optimizer import (Optimizer, check_hyperparameters, contiguous_grad,
                                    implementation_flags)


class SGD(Optimizer):
    """torch.optim.SGD's update: g = grad + weight_decay * p; with momentum,
    buf = momentum * buf + (1 - dampening) * g (buf = g on the first step), and g = buf
    (or g + momentum * buf with nesterov); then p -= lr * g."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        check_hyperparameters(lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize,
                                      **implementation_flags(foreach, differentiable, fused)))

    def _step(self):
        # A group without momentum has no state to keep (torch's SGD keeps none either): its
        # whole update is one compiled call where that applies, else one call per parameter.
        for group in self.param_groups:
            momentum, maximize = group["momentum"], group.get("maximize", False)
            if not momentum and not maximize and self._plain_steps(group):
                continue
            for p in group["params"]:
                if p.grad is None:
                    continue
                buf, first = None, False
                if momentum:
                    state = self.state.setdefault(p, {})
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = np.empty_like(p._data)
                        first = True
                grad = contiguous_grad(p)
                backend.sgd_step(p._data, np.asarray(-grad) if maximize else grad, buf, group["lr"],
                                 group["weight_decay"], momentum, group["dampening"],
                                 group["nesterov"], first)

    @staticmethod
    def _plain_steps(group):
        """Every parameter of a momentum-free group with a gradient, updated in one call (see
        backend.sgd_steps); False where that call does not apply."""
        params, grads = [], []
        for p in group["params"]:
            grad = p.grad
            if grad is not None:
                params.append(p._data)
                grads.append(grad._data)
        return backend.sgd_steps(params, grads, group["lr"], group["weight_decay"])
