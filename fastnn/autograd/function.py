"""Differentiable operations: a Function declares forward(ctx, *inputs) and
backward(ctx, grad_output) -> one gradient per input (None where there is none), as
torch.autograd.Function. Inputs arrive as NumPy arrays (Tensors are unwrapped); forward
returns an array, apply() wraps it and, when a gradient is needed, records a Node.
"""
from fastnn.autograd import grad_mode
from fastnn.tensor import Tensor


class Context:
    """What backward needs: whatever forward stored, and which inputs want a gradient."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays


class Node:
    """One recorded op in the graph (a Tensor's grad_fn)."""

    __slots__ = ("function", "ctx", "inputs", "released")

    def __init__(self, function, ctx, inputs):
        self.function = function
        self.ctx = ctx
        self.inputs = inputs  # the Tensor inputs in argument order; None for non-Tensors
        self.released = False

    def name(self):
        return f"{self.function.__name__}Backward"

    def __repr__(self):
        return f"<{self.name()}>"


class Function:
    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        record = grad_mode._enabled and any(needs)
        ctx = Context(needs)
        raw = [a.data if isinstance(a, Tensor) else a for a in args]
        out = cls.forward(ctx, *raw, **kwargs)
        if not record:
            return Tensor._wrap(out)
        inputs = tuple(a if isinstance(a, Tensor) else None for a in args)
        return Tensor._wrap(out, requires_grad=True, node=Node(cls, ctx, inputs))
