"""Layers of an MLP: Linear, ReLU, Flatten, and the container Sequential."""
from collections import OrderedDict

import numpy as np

from fastnn.nn import functional as F
from fastnn.nn import init
from fastnn.nn.module import Module, factory_kwargs, registered
from fastnn.nn.parameter import Parameter
from fastnn.nn.conv import Conv2d
from fastnn.ops.linear import linear_relu


class Linear(Module):
    """y = x W^T + b with W of shape (out_features, in_features), as torch.nn.Linear."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        if min(in_features, out_features) < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension "
                               f"{min(in_features, out_features)}: [{out_features}, "
                               f"{in_features}]")
        self.weight = Parameter(np.empty((out_features, in_features), dtype=np.float32))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=np.float32))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        factory_kwargs(self, device, dtype)

    def reset_parameters(self):
        init.default_(self.weight, self.bias)

    def forward(self, input):
        if type(self) is Linear:  # (a subclass may define weight or bias otherwise)
            return F.linear(input, registered(self, "weight"), registered(self, "bias"))
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class ReLU(Module):
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.relu(input)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Flatten(Module):
    """Flattens dims start_dim..end_dim; the default keeps the batch dimension."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Sequential(Module):
    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def __getitem__(self, index):
        if isinstance(index, slice):  # the slice keeps the children's names, as torch's
            return type(self)(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def forward(self, input):
        modules = tuple(self._modules.values())
        last = len(modules) - 1
        i = 0
        while i <= last:
            module = modules[i]
            kind = type(module)
            # Linear or Conv2d then ReLU runs as one fused op (ReLU in the kernel's epilogue).
            # Exact types only: a subclass may override forward, and must run as written.
            if (kind is Linear or kind is Conv2d) and i < last and type(modules[i + 1]) is ReLU \
                    and not module._has_hooks() and not modules[i + 1]._has_hooks():
                if kind is Linear:
                    input = linear_relu(input, registered(module, "weight"),
                                        registered(module, "bias"))
                else:
                    input = module(input, relu=True)
                i += 2
                continue
            input = module(input)
            i += 1
        return input


class Bilinear(Module):
    """y = x1^T A x2 + b with A of shape (out_features, in1_features, in2_features)."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        self.weight = Parameter(np.empty((out_features, in1_features, in2_features),
                                         np.float32))
        if bias:
            self.bias = Parameter(np.empty(out_features, np.float32))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        factory_kwargs(self, device, dtype)

    def reset_parameters(self):
        bound = 1 / np.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
