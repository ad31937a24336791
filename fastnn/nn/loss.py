from fastnn.nn import functional as F
from fastnn.nn.module import Module


class CrossEntropyLoss(Module):
    """Softmax + negative log-likelihood over integer class labels, computed stably in one
    fused kernel; reduction 'mean' (default), 'sum' or 'none'."""

    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in ("none", "mean", "sum"):
            raise ValueError(f"{reduction} is not a valid value for reduction")
        self.reduction = reduction

    def forward(self, input, target):
        return F.cross_entropy(input, target, reduction=self.reduction)
