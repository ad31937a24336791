"""torch's other spellings of what fastnn already computes, so programs that use them port by
changing imports: the module-level forms of functional ops (torch.conv2d, torch.dropout(x, p,
train), torch.embedding(weight, indices), torch.batch_norm's long positional form, losses with
reduction given as torch's integer enum), the in-place method aliases (x.eq_(y),
x.multiply_(y), ...), and the small global switches (deterministic algorithms, float32 matmul
precision, default device, interop threads).
"""
import math
import warnings

import numpy as np

from fastnn import dtypes
from fastnn.ops.indexing_ops import index_copy, index_put, masked_scatter  # noqa: F401
from fastnn.ops.unary_math import (acosh, arccosh, arcsinh, arctanh, asinh, atanh,  # noqa: F401
                                   erfc)
from fastnn.tensor import Size, Tensor


# --- integer and floating-point helpers NumPy has under the same names ----------------------
def _elementwise_numpy(name, numpy_fn, integers_only=False):
    def op(input, other=None):
        from fastnn.ops.broadcast import operand, promote
        if other is None:
            return Tensor._wrap(np.asarray(numpy_fn(input._data)))
        a, b = promote(operand(input), operand(other))
        a, b = (getattr(v, "_data", v) for v in (a, b))
        if integers_only and (np.asarray(a).dtype.kind not in "iub" or
                              np.asarray(b).dtype.kind not in "iub"):
            raise RuntimeError(f'"{name}_cpu" not implemented for \'Float\'')
        return Tensor._wrap(np.asarray(numpy_fn(a, b)))
    op.__name__ = name
    op.__doc__ = f"torch.{name} (NumPy's {numpy_fn.__name__}; no gradient)."
    return op


gcd = _elementwise_numpy("gcd", np.gcd, integers_only=True)


def bitwise_left_shift(input, other):
    from fastnn.ops.logical import bitwise
    return bitwise("left_shift", input, other)


def bitwise_right_shift(input, other):
    from fastnn.ops.logical import bitwise
    return bitwise("right_shift", input, other)
lcm = _elementwise_numpy("lcm", np.lcm, integers_only=True)
nextafter = _elementwise_numpy("nextafter", np.nextafter)


def i0(input):
    """The modified Bessel function of the first kind, order 0 (NumPy's i0; no gradient)."""
    from fastnn.ops.broadcast import floating
    x = floating(input)
    return Tensor._wrap(np.i0(x._data).astype(x._data.dtype))


# --- in-place method aliases ---------------------------------------------------------------
def _in_place(name):
    def method(self, *args, **kwargs):
        from fastnn.ops import inplace
        return inplace.apply(self, getattr(Tensor, name), *args, needs_old=True, **kwargs)
    method.__name__ = f"{name}_"
    method.__doc__ = f"In-place {name}: self = self.{name}(...), recorded as an in-place op."
    return method


_IN_PLACE = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
             "less_equal", "not_equal", "absolute", "arccos", "arcsin", "arctan", "arctan2",
             "atan2", "divide", "multiply", "subtract", "true_divide", "negative", "fix",
             "copysign", "deg2rad", "rad2deg", "hypot", "ldexp", "logit", "xlogy", "nan_to_num",
             "float_power", "heaviside", "sinc", "mvlgamma", "polygamma", "renorm",
             "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and",
             "bitwise_or", "bitwise_xor", "bitwise_not", "floor_divide", "asinh", "acosh",
             "atanh", "arcsinh", "arccosh", "arctanh", "erfc", "index_put", "index_copy",
             "masked_scatter", "lgamma", "digamma", "i0"]


# --- module-level spellings of functional ops ----------------------------------------------
_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(value):
    """torch's at::Reduction enum (0 none, 1 mean, 2 sum) in the module-level loss forms."""
    return _REDUCTIONS.get(value, value)


def _functional():
    import fastnn.nn.functional as F
    return F


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _functional().conv1d(input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _functional().conv2d(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _functional().conv_transpose1d(input, weight, bias, stride, padding, output_padding,
                                          groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _functional().conv_transpose2d(input, weight, bias, stride, padding, output_padding,
                                          groups, dilation)


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _functional().max_pool1d(input, kernel_size, stride or None, padding, dilation,
                                    ceil_mode)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    return _functional().max_pool2d(input, kernel_size, stride or None, padding, dilation,
                                    ceil_mode)


def avg_pool1d(input, kernel_size, stride=(), padding=0, ceil_mode=False,
               count_include_pad=True):
    return _functional().avg_pool1d(input, kernel_size, stride or None, padding, ceil_mode,
                                    count_include_pad)


def adaptive_avg_pool1d(input, output_size):
    return _functional().adaptive_avg_pool1d(input, output_size)


def adaptive_max_pool1d(input, output_size):
    return _functional().adaptive_max_pool1d(input, output_size, return_indices=True)


def dropout(input, p, train):
    return _functional().dropout(input, p, train)


def dropout_(input, p, train):
    return _functional().dropout(input, p, train, inplace=True)


def alpha_dropout(input, p, train):
    return _functional().alpha_dropout(input, p, train)


def feature_alpha_dropout(input, p, train):
    return _functional().feature_alpha_dropout(input, p, train)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    return _functional().embedding(indices, weight,
                                   None if padding_idx == -1 else padding_idx,
                                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    return _functional().layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    return _functional().group_norm(input, num_groups, weight, bias, eps)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled):
    return _functional().batch_norm(input, running_mean, running_var, weight, bias, training,
                                    momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum,
                  eps, cudnn_enabled):
    return _functional().instance_norm(input, running_mean, running_var, weight, bias,
                                       use_input_stats, momentum, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    return _functional().rms_norm(input, normalized_shape, weight, eps)


def pixel_shuffle(input, upscale_factor):
    return _functional().pixel_shuffle(input, upscale_factor)


def pixel_unshuffle(input, downscale_factor):
    return _functional().pixel_unshuffle(input, downscale_factor)


def channel_shuffle(input, groups):
    return _functional().channel_shuffle(input, groups)


def cosine_similarity(x1, x2, dim=1, eps=1e-08):
    return _functional().cosine_similarity(x1, x2, dim, eps)


def pairwise_distance(x1, x2, p=2.0, eps=1e-06, keepdim=False):
    return _functional().pairwise_distance(x1, x2, p, eps, keepdim)


def pdist(input, p=2):
    return _functional().pdist(input, p)


def celu(input, alpha=1.0):
    return _functional().celu(input, alpha)


def selu(input):
    return _functional().selu(input)


def prelu(input, weight):
    return _functional().prelu(input, weight)


def rrelu(input, lower=0.125, upper=1.0 / 3, training=False, generator=None):
    return _functional().rrelu(input, lower, upper, training)


def threshold(input, threshold, value):
    return _functional().threshold(input, threshold, value)


def hardshrink(input, lambd=0.5):
    return _functional().hardshrink(input, lambd)


def bilinear(input1, input2, weight, bias=None):
    return _functional().bilinear(input1, input2, weight, bias)


def kl_div(input, target, reduction=1, log_target=False):
    return _functional().kl_div(input, target, reduction=_reduction(reduction),
                                log_target=log_target)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=1):
    return _functional().binary_cross_entropy_with_logits(
        input, target, weight, reduction=_reduction(reduction), pos_weight=pos_weight)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=1):
    return _functional().cosine_embedding_loss(input1, input2, target, margin,
                                               reduction=_reduction(reduction))


def hinge_embedding_loss(input, target, margin=1.0, reduction=1):
    return _functional().hinge_embedding_loss(input, target, margin,
                                              reduction=_reduction(reduction))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=1):
    return _functional().margin_ranking_loss(input1, input2, target, margin,
                                             reduction=_reduction(reduction))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    return _functional().poisson_nll_loss(input, target, log_input, full, eps=eps,
                                          reduction=_reduction(reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-06, swap=False,
                        reduction=1):
    return _functional().triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                             reduction=_reduction(reduction))


# --- small tensor helpers ------------------------------------------------------------------
def broadcast_shapes(*shapes):
    """The shape the given shapes broadcast to, worked out left to right as torch does (its
    error names the first shape that does not fit and the shape so far)."""
    result = []
    for i, shape in enumerate(shapes):
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        if len(shape) > len(result):
            result = [1] * (len(shape) - len(result)) + result
        for k in range(1, len(shape) + 1):
            size = shape[-k]
            if size == result[-k] or size == 1:
                continue
            if result[-k] != 1:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {size} at "
                                   f"-{k}! Mismatching argument at index {i} had {shape}; but "
                                   f"expected shape should be broadcastable to {result}")
            result[-k] = size
    return Size(result)


def can_cast(from_, to):
    """Whether torch's type promotion lets a value of dtype from_ be written to `to` in place
    (no float to integer, no integer or float to bool)."""
    from_, to = dtypes.to_dtype(from_), dtypes.to_dtype(to)
    return from_._kind <= to._kind


def is_signed(input):
    return input.dtype.is_signed


def is_nonzero(input):
    if input.numel() == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if input.numel() > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input._data.reshape(-1)[0] != 0)


def is_same_size(input, other):
    return tuple(input.shape) == tuple(other.shape)


def is_conj(input):
    return False


def is_neg(input):
    return False


def resolve_neg(input):
    return input  # (fastnn keeps no lazy negation bit)


def typename(obj):
    if isinstance(obj, Tensor):
        return f"torch.{obj.dtype.tensor_type}"
    module = getattr(type(obj), "__module__", "") or ""
    return (f"{module}." if module and module != "builtins" else "") + type(obj).__qualname__


def scalar_tensor(s, dtype=None, device=None, requires_grad=False):
    from fastnn.creation import tensor
    return tensor(float(s) if dtype is None else s,
                  dtype=dtype or dtypes.get_default_dtype(), requires_grad=requires_grad)


def rsub(input, other, alpha=1):
    return other - alpha * input if alpha != 1 else other - input


def fill(input, value):
    from fastnn.creation import full_like
    return full_like(input, value)


def deprecated_range(start=0, end=None, step=1, *, dtype=None, device=None,
                     requires_grad=False):
    """The deprecated torch.range: like arange, but end is included."""
    from fastnn.creation import arange
    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    count = int(math.floor((end - start) / step)) + 1
    values = arange(count, dtype=dtypes.float64) * step + start
    return values.to(dtype or dtypes.get_default_dtype()).requires_grad_(requires_grad)


# --- global switches -----------------------------------------------------------------------
class _Switches:
    deterministic = False
    deterministic_warn_only = False
    matmul_precision = "highest"
    warn_always = False
    interop_threads = 1


_switches = _Switches()


def use_deterministic_algorithms(mode, *, warn_only=False):
    """fastnn's kernels are deterministic for a given thread count (fixed reduction orders),
    so the switch is recorded and reported, with nothing to turn off."""
    _switches.deterministic, _switches.deterministic_warn_only = bool(mode), bool(warn_only)


def are_deterministic_algorithms_enabled():
    return _switches.deterministic


def is_deterministic_algorithms_warn_only_enabled():
    return _switches.deterministic_warn_only


def set_deterministic_debug_mode(debug_mode):
    levels = {"default": 0, "warn": 1, "error": 2}
    level = levels.get(debug_mode, debug_mode)
    if level not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, `warn`, "
                           f"`error`, but got {debug_mode}")
    use_deterministic_algorithms(level > 0, warn_only=level == 1)


def get_deterministic_debug_mode():
    if not _switches.deterministic:
        return 0
    return 1 if _switches.deterministic_warn_only else 2


def set_float32_matmul_precision(precision):
    """Recorded for get_float32_matmul_precision: fastnn's float32 GEMM always accumulates in
    float32 (no TF32 or bfloat16 internal precision on the CPU, as torch's CPU matmul)."""
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      f"setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _switches.matmul_precision = precision


def get_float32_matmul_precision():
    return _switches.matmul_precision


def set_warn_always(b):
    _switches.warn_always = bool(b)


def is_warn_always_enabled():
    return _switches.warn_always


def get_default_device():
    from fastnn.device import _default
    return _default[-1]


def set_default_device(device):
    """"cpu", "meta" or None (the CPU); any other device is refused as torch refuses a
    device it was not built for."""
    from fastnn.device import set_default
    set_default(device)


def get_num_interop_threads():
    return _switches.interop_threads


def set_num_interop_threads(num):
    if not isinstance(num, int) or num <= 0:
        raise RuntimeError("Expected positive number of threads")
    _switches.interop_threads = num  # fastnn runs no inter-op thread pool


def set_flush_denormal(mode):
    """Returns False, as torch does on a CPU where it cannot set flush-to-zero: fastnn leaves
    the FPU's denormal mode alone."""
    return False


_MODULE_LEVEL = [
    "asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "erfc", "index_put",
    "index_copy", "masked_scatter", "gcd", "lcm", "nextafter", "i0",
    "bitwise_left_shift", "bitwise_right_shift", "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d",
    "max_pool1d", "max_pool2d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d",
    "dropout", "dropout_", "alpha_dropout", "feature_alpha_dropout", "embedding", "layer_norm",
    "group_norm", "batch_norm", "instance_norm", "rms_norm", "pixel_shuffle", "pixel_unshuffle",
    "channel_shuffle", "cosine_similarity", "pairwise_distance", "pdist", "celu", "selu",
    "prelu", "rrelu", "threshold", "hardshrink", "bilinear", "kl_div",
    "binary_cross_entropy_with_logits", "cosine_embedding_loss", "hinge_embedding_loss",
    "margin_ranking_loss", "poisson_nll_loss", "triplet_margin_loss", "broadcast_shapes",
    "can_cast", "is_signed", "is_nonzero", "is_same_size", "is_conj", "is_neg",
    "resolve_neg", "typename",
    "scalar_tensor", "rsub", "fill", "use_deterministic_algorithms",
    "are_deterministic_algorithms_enabled", "is_deterministic_algorithms_warn_only_enabled",
    "set_deterministic_debug_mode", "get_deterministic_debug_mode",
    "set_float32_matmul_precision", "get_float32_matmul_precision", "set_warn_always",
    "is_warn_always_enabled", "get_default_device", "set_default_device",
    "get_num_interop_threads", "set_num_interop_threads", "set_flush_denormal"]

_METHODS = ["asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "erfc", "gcd", "lcm",
            "nextafter", "i0", "index_put",
            "index_copy", "masked_scatter", "is_nonzero", "is_same_size", "is_conj", "is_neg",
            "resolve_neg", "is_signed",
            "prelu", "hardshrink"]


def install(namespace):
    """Add the module-level names to `namespace` (fastnn's) and the methods to Tensor, where
    fastnn does not define them already."""
    here = globals()
    for name in _MODULE_LEVEL:
        namespace.setdefault(name, here[name])
    namespace.setdefault("range", deprecated_range)  # (a name this module cannot define)
    for name in _METHODS:
        if not hasattr(Tensor, name):
            setattr(Tensor, name, here[name])
    for name in _IN_PLACE:
        if hasattr(Tensor, name) and not hasattr(Tensor, f"{name}_"):
            setattr(Tensor, f"{name}_", _in_place(name))
    for name in ("asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "erfc", "xlogy",
                 "logit", "nan_to_num", "sinc", "deg2rad", "rad2deg", "ldexp", "negative",
                 "fix", "clamp_min", "clamp_max", "clip", "gcd", "lcm", "i0"):
        if hasattr(Tensor, f"{name}_") and f"{name}_" not in namespace:
            namespace[f"{name}_"] = getattr(Tensor, f"{name}_")
    Tensor.is_inference = lambda self: False  # fastnn's inference_mode makes normal tensors
    Tensor.is_pinned = lambda self, device=None: False
    Tensor.pin_memory = _pin_memory


def _pin_memory(self, device=None):
    """Page-locked memory is for copies to an accelerator; without one, torch refuses."""
    raise RuntimeError("Cannot access accelerator device when none is available.")
