import numpy as np

from fastnn.optim.optimizer import Optimizer


class SGD(Optimizer):
    """torch.optim.SGD's update: g = grad + weight_decay * p; with momentum,
    buf = momentum * buf + (1 - dampening) * g (buf = g on the first step), and g = buf
    (or g + momentum * buf with nesterov); then p -= lr * g."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def step(self):
        for group in self.param_groups:
            lr, momentum = np.float32(group["lr"]), group["momentum"]
            dampening, wd = group["dampening"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.data
                if wd:
                    g = g + np.float32(wd) * p.data
                if momentum:
                    state = self.state.setdefault(id(p), {})
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = np.array(g, dtype=np.float32)
                    else:
                        buf *= np.float32(momentum)
                        buf += np.float32(1 - dampening) * g
                    g = g + np.float32(momentum) * buf if group["nesterov"] else buf
                p.data -= lr * g
