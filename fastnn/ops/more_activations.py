"""The remaining torch.nn.functional activations, each torch's formula from differentiable
ops: hardsigmoid, hardswish, mish, selu, celu, glu, softsign, softshrink, hardshrink,
tanhshrink, threshold. Branches that could overflow (exp of a large input) are clamped before
the `where` that discards them, so their zero gradient never meets an inf."""
from fastnn.autograd.function import presents
from fastnn.ops import elementwise
from fastnn.ops.nonlinearities import hardtanh, maybe_inplace, softplus
from fastnn.ops.manipulation import _dim as _checked_dim

# Klambauer et al. 2017, "Self-Normalizing Neural Networks" (the constants torch uses)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


@presents("HardsigmoidBackward0")
def hardsigmoid(input, inplace=False):
    return maybe_inplace(input, lambda x: hardtanh(x + 3.0, 0.0, 6.0) / 6.0, inplace)


@presents("HardswishBackward0")
def hardswish(input, inplace=False):
    return maybe_inplace(input, lambda x: x * hardtanh(x + 3.0, 0.0, 6.0) / 6.0, inplace)


@presents("MishBackward0")
def mish(input, inplace=False):
    return maybe_inplace(input, lambda x: x * elementwise.tanh(softplus(x)), inplace)


def _exp_minus_one(x, alpha):
    """alpha * (exp(x / alpha) - 1) for x <= 0, evaluated on min(x, 0) only."""
    return alpha * (elementwise.exp(elementwise.clamp(x, max=0.0) / alpha) - 1.0)


@presents("CeluBackward0")
def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return maybe_inplace(
        input, lambda x: elementwise.where(x > 0, x, _exp_minus_one(x, alpha)), inplace)


@presents("EluBackward0")
def selu(input, inplace=False):
    return maybe_inplace(
        input, lambda x: SELU_SCALE * elementwise.where(
            x > 0, x, SELU_ALPHA * (elementwise.exp(elementwise.clamp(x, max=0.0)) - 1.0)),
        inplace)


@presents("GluBackward0")
def glu(input, dim=-1):
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = _checked_dim(dim, input.ndim)
    if input.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size "
                           f"{input.shape[d]}")
    a, b = input.chunk(2, d)
    return a * elementwise.sigmoid(b)


def softsign(input):
    return input / (1.0 + elementwise.abs(input))


@presents("SoftshrinkBackward0")
def softshrink(input, lambd=0.5):
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return elementwise.where(input > lambd, input - lambd,
                             elementwise.where(input < -lambd, input + lambd, input * 0.0))


@presents("HardshrinkBackward0")
def hardshrink(input, lambd=0.5):
    return elementwise.where(elementwise.abs(input) > lambd, input, input * 0.0)


def tanhshrink(input):
    return input - elementwise.tanh(input)


@presents("ThresholdBackward0")
def threshold(input, threshold, value, inplace=False):
    return maybe_inplace(
        input, lambda x: elementwise.where(x > threshold, x, x * 0.0 + value), inplace)
