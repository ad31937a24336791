"""torch.optim.Optimizer's structure: param_groups (dicts with 'params' and hyperparameters),
per-parameter state, zero_grad(), step(). Updates run on whole arrays (vectorised NumPy,
in place), never per element in Python."""
import copy

import numpy as np

from fastnn.optim.param_state import ParamState
from fastnn.tensor import Tensor


def check_hyperparameters(**values):
    """Raise like torch.optim for negative hyperparameters: Invalid learning rate: -1.0."""
    for name, value in values.items():
        if value < 0.0:
            label = "learning rate" if name == "lr" else f"{name} value"
            raise ValueError(f"Invalid {label}: {value}")


_ABSENT = object()


def implementation_flags(foreach=None, differentiable=False, fused=_ABSENT, capturable=_ABSENT):
    """torch's flags that choose how an update runs rather than what it computes, as the
    param_groups entries torch keeps (fused and capturable only for the optimizers that have
    them). foreach and fused change nothing here: every update is one compiled pass already.
    differentiable=True (a step that autograd records) needs higher-order gradients, which
    fastnn does not have."""
    if differentiable:
        raise NotImplementedError("differentiable=True (gradients through the optimizer step) "
                                  "is not supported by fastnn")
    flags = dict(foreach=foreach, differentiable=differentiable)
    if fused is not _ABSENT:
        flags["fused"] = fused
    if capturable is not _ABSENT:
        flags["capturable"] = capturable
    return flags


def check_betas(betas):
    """torch's check of Adam-family betas: each in [0, 1)."""
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
    return tuple(betas)


def _as_tensor(value):
    """A state array as the tensor torch's state_dict holds (scalars stay as they are)."""
    return Tensor._wrap(value) if isinstance(value, np.ndarray) else value


def contiguous_grad(p):
    """p's gradient as a C-contiguous array of p's shape. np.ascontiguousarray alone turns a
    0-d array into shape (1,), which the update kernels' checks refuse: a scalar parameter
    (pytorch/tutorials' dynamic_net, with momentum) failed its first step."""
    grad = np.asarray(p.grad._data)
    return grad if grad.flags.c_contiguous else np.ascontiguousarray(grad).reshape(grad.shape)


class Optimizer:
    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = ParamState()
        self.param_groups = []
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        group = dict(group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                kind = type(p)
                name = kind.__name__ if kind.__module__ == "builtins" else \
                    f"{kind.__module__}.{kind.__qualname__}"
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{name}")
            # A frozen parameter (requires_grad=False, d2l's pretrained embeddings) is taken,
            # as torch takes it: it never gets a gradient, so step() leaves it alone.
            if not (p.is_leaf or p.retains_grad) and not self.defaults.get("differentiable"):
                raise ValueError("can't optimize a non-leaf Tensor")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self.param_groups.append(group)

    def _updates(self):
        """(group, param, contiguous grad, state dict) for each parameter that has a gradient:
        the loop every step() runs, in torch's order. With the group's maximize the gradient
        comes negated, as every torch optimizer takes it."""
        for group in self.param_groups:
            maximize = group.get("maximize", False)
            for p in group["params"]:
                if p.grad is not None:
                    grad = contiguous_grad(p)
                    # (np.asarray: negating a 0-d array gives a NumPy scalar)
                    yield group, p, np.asarray(-grad) if maximize else grad, \
                        self.state.setdefault(p, {})

    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad._data[...] = 0

    def state_dict(self):
        index = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {index[k]: {name: _as_tensor(value) for name, value in copy.deepcopy(v).items()}
                 for k, v in self.state.by_id().items() if k in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        params = [p for g in self.param_groups for p in g["params"]]
        self.state = ParamState()
        for saved, group in zip(groups, self.param_groups):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 "match the size of optimizer's group")
            group.update({k: v for k, v in saved.items() if k != "params"})
        for i, value in state_dict["state"].items():
            p = params[int(i)]
            self.state[p] = {k: np.array(getattr(v, "_data", v), dtype=np.float32)
                                 if isinstance(getattr(v, "_data", v), np.ndarray) else v
                                 for k, v in value.items()}

    def step(self, closure=None):
        """One update of every parameter that has a gradient. With a closure (torch's), the
        closure is called first, with gradients enabled, to recompute the loss and the
        gradients; its loss is returned."""
        for group in self.param_groups:
            if group.get("capturable"):  # torch's words for CPU tensors
                raise AssertionError("If capturable=True, params and state_steps must be on "
                                     "supported devices: ['cuda', 'xpu', 'hpu', "
                                     "'privateuseone', 'xla'].")
        loss = None
        if closure is not None:
            from fastnn.autograd.grad_mode import enable_grad
            with enable_grad():
                loss = closure()
        self._step()
        return loss

    def _step(self):
        raise NotImplementedError(f"{type(self).__name__} defines no update rule")
