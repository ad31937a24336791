"""torch.optim.Muon (Jordan et al. 2024, "Muon: An optimizer for hidden layers in neural
networks"; the learning-rate match to AdamW from Liu et al. 2025, "Muon is Scalable for LLM
Training"), as torch formulates it, for 2-D parameters:

    B <- mu B + (1 - mu) g            (torch's lerp form of the momentum buffer)
    U <- g + mu (B - g) if nesterov else B
    O <- NS_k(U)                      (quintic Newton-Schulz orthogonalisation, in bfloat16)
    p <- p (1 - lr wd) - lr' O        (lr' = lr sqrt(max(1, A/B)), or 0.2 lr sqrt(max(A, B)))

The Newton-Schulz iteration runs on bfloat16 values with float32 sums, each product rounded
to bfloat16 once, as torch's bfloat16 matmul and addmm do, so the updates agree with torch's
to bfloat16's precision."""
import math

import numpy as np

from fastnn import dtypes
from fastnn.optim.optimizer import Optimizer

# Keller Jordan's coefficients (maximal slope at zero) and defaults, as torch's
DEFAULT_A, DEFAULT_B, DEFAULT_C = 3.4445, -4.7750, 2.0315
DEFAULT_NS_STEPS = 5
EPS = 1e-7


def _bf16(values):
    """values rounded to bfloat16 (nearest even), kept as float32 for the next product."""
    return np.asarray(values, np.float32).astype(dtypes.bfloat16.numpy).astype(np.float32)


def zeropower_via_newtonschulz(grad, ns_coefficients, ns_steps, eps):
    """An approximately orthogonal matrix with grad's singular vectors (U S' V^T, S' near 1)."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    x = _bf16(grad)
    tall = grad.shape[0] > grad.shape[1]
    if tall:
        x = x.T
    norm = _bf16(np.sqrt(np.sum(np.square(x, dtype=np.float64))))
    x = _bf16(x / max(float(norm), eps))  # spectral norm at most 1
    for _ in range(ns_steps):
        gram = _bf16(x @ x.T)
        update = _bf16(b * gram + c * (gram @ gram))
        x = _bf16(a * x + update @ x)
    return x.T if tall else x


def _adjusted_lr(lr, adjust_lr_fn, shape):
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * math.sqrt(max(1, rows / cols))
    if adjust_lr_fn == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(rows, cols))
    return lr


class Muon(Optimizer):
    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS,
                 ns_steps=DEFAULT_NS_STEPS, adjust_lr_fn=None):
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum,
                                      nesterov=nesterov, ns_coefficients=ns_coefficients,
                                      eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn))
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError("Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {p.size()}")

    def _step(self):
        for group, p, grad, state in self._updates():
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = np.zeros_like(grad)
            mu, lr = group["momentum"], group["lr"]
            buf = state["momentum_buffer"]
            buf += (grad - buf) * grad.dtype.type(1 - mu)
            update = grad + (buf - grad) * grad.dtype.type(mu) if group["nesterov"] else buf
            ortho = zeropower_via_newtonschulz(update, group["ns_coefficients"],
                                               group["ns_steps"], group["eps"])
            data = p._data
            data *= data.dtype.type(1 - lr * group["weight_decay"])
            data -= (_adjusted_lr(lr, group["adjust_lr_fn"], data.shape)
                     * ortho).astype(data.dtype)
            p._version[0] += 1
