"""torch.optim.Adafactor (Shazeer & Stern 2018, "Adafactor: Adaptive Learning Rates with
Sublinear Memory Cost"), as torch 2.5+ formulates it: a matrix keeps only the row and column
means of its squared gradients (their outer product over the row means' mean estimates the
second moment), a vector keeps the full second moment; beta2_t = 1 - t^beta2_decay; the step
is relative to the parameter's RMS and clipped by the update's RMS over d."""
import math

import numpy as np

from fastnn.optim.optimizer import Optimizer


class Adafactor(Optimizer):
    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False):
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize))

    def _step(self):
        for group, p, grad, state in self._updates():
            data = p._data
            if not state:
                state["step"] = 0
                if grad.ndim > 1:
                    state["row_var"] = np.zeros(grad.shape[:-1] + (1,), grad.dtype)
                    state["col_var"] = np.zeros(grad.shape[:-2] + (1,) + grad.shape[-1:],
                                                grad.dtype)
                else:
                    state["variance"] = np.zeros_like(grad)
            state["step"] += 1
            step = float(state["step"])
            eps1, eps2 = group["eps"]
            if eps1 is None:
                eps1 = float(np.finfo(data.dtype).eps)
            lr = group["lr"]
            forget = step ** group["beta2_decay"]  # 1 - beta2_t
            rho = min(lr, 1 / math.sqrt(step))
            alpha = max(eps2, float(np.linalg.norm(data.astype(np.float64)))
                        / math.sqrt(max(data.size, 1))) * rho
            if group["weight_decay"] != 0:
                data *= data.dtype.type(1 - lr * group["weight_decay"])
            square = grad * grad
            if grad.ndim > 1:
                row, col = state["row_var"], state["col_var"]
                row += (square.mean(axis=-1, keepdims=True) - row) * forget
                col += (square.mean(axis=-2, keepdims=True) - col) * forget
                estimate = np.matmul(row, col) / np.maximum(row.mean(axis=-2, keepdims=True),
                                                            eps1)
            else:
                variance = state["variance"]
                variance += (square - variance) * forget
                estimate = variance.copy()
            update = grad / np.sqrt(np.maximum(estimate, eps1 * eps1))
            rms = float(np.linalg.norm(update.astype(np.float64))) / \
                (math.sqrt(max(update.size, 1)) * group["d"])
            data -= (update * (alpha / max(1.0, rms))).astype(data.dtype)
