"""The activations beyond ReLU/sigmoid/tanh: hardtanh and relu6, elu, gelu (erf or tanh),
silu, softplus, logsigmoid, prelu. Each is torch's formula built from differentiable
ops (or, for hardtanh and erf, a Function with its derivative), arranged so that an unused
branch of a `where` never sees an overflowing exp (its zero gradient would become NaN)."""
import math

import numpy as np

from fastnn.autograd.function import Function, presents
from fastnn.ops import activation, elementwise
from fastnn.ops.broadcast import floating
from fastnn.ops.select import select


class Hardtanh(Function):
    """clamp to [min_val, max_val]; the gradient passes strictly inside, as torch's."""
    tangent_rule = "diagonal"  # elementwise: forward AD takes J v = backward(v)
    backward_name = "HardtanhBackward0"

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        return np.clip(x, lo, hi).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        return select((x > lo) & (x < hi), g, np.zeros((), g.dtype)), None, None


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if max_val < min_val:
        raise ValueError("min_val cannot be greater than max_val")
    return maybe_inplace(
        input, lambda x: Hardtanh.apply(floating(x), float(min_val), float(max_val)), inplace)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


_erf = np.frompyfunc(math.erf, 1, 1)


class Erf(Function):
    tangent_rule = "diagonal"  # elementwise: forward AD takes J v = backward(v)
    backward_name = "ErfBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.asarray(_erf(x), dtype=x.dtype)  # (a 0-d x gives a Python float)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (2.0 / math.sqrt(math.pi)) * np.exp(-x * x).astype(g.dtype)


def erf(input):
    return Erf.apply(floating(input))


@presents("GeluBackward0")
def gelu(input, approximate="none"):
    if approximate == "none":
        return input * 0.5 * (1.0 + erf(input * (1.0 / math.sqrt(2.0))))
    if approximate == "tanh":
        inner = math.sqrt(2.0 / math.pi) * (input + 0.044715 * input * input * input)
        return 0.5 * input * (1.0 + elementwise.tanh(inner))
    raise RuntimeError("approximate argument must be either none or tanh.")


def _elu(x, alpha):
    negative = elementwise.clamp(x, max=0.0)
    return elementwise.where(x > 0, x, alpha * (elementwise.exp(negative) - 1.0))


@presents("EluBackward0")
def elu(input, alpha=1.0, inplace=False):
    return maybe_inplace(input, lambda x: _elu(x, alpha), inplace)


@presents("SiluBackward0")
def silu(input, inplace=False):
    return maybe_inplace(input, lambda x: x * elementwise.sigmoid(x), inplace)


@presents("SoftplusBackward0")
def softplus(input, beta=1.0, threshold=20.0):
    scaled = input * beta
    capped = elementwise.clamp(scaled, max=threshold)  # exp never overflows in the dead branch
    smooth = elementwise.log(1.0 + elementwise.exp(capped)) / beta
    return elementwise.where(scaled > threshold, input, smooth)


@presents("LogSigmoidBackward0")
def logsigmoid(input):
    return -softplus(-input)


@presents("PreluKernelBackward0")
def prelu(input, weight):
    if weight.numel() != 1:
        if input.ndim < 2 or input.shape[1] != weight.numel():
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {weight.numel()} and channel size = "
                               f"{input.shape[1] if input.ndim >= 2 else 1}.")
        weight = weight.reshape((1, -1) + (1,) * (input.ndim - 2))
    return elementwise.where(input > 0, input, weight * input)


def maybe_inplace(input, fn, inplace):
    """fn(input), or with torch's inplace=True fn's result written into input (recorded as an
    in-place op). fn then reads a copy, so what its backward saves is not the tensor the write
    changes."""
    if not inplace:
        return fn(input)
    return input.copy_(fn(input.clone()))
