"""torch.nn.utils.fusion: a convolution (or linear layer) followed by an eval-mode BatchNorm
folded into one layer for inference. BatchNorm's y = (x - mean) / sqrt(var + eps) * w + b is an
affine map per channel, so scaling the filters by w / sqrt(var + eps) and shifting the bias
gives the same outputs with one op instead of two."""
import copy

from fastnn.autograd.grad_mode import no_grad


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    from fastnn import nn, ones_like, zeros_like
    dtype = conv_w.dtype
    conv_b = zeros_like(bn_rm) if conv_b is None else conv_b
    bn_w = ones_like(bn_rm) if bn_w is None else bn_w
    bn_b = zeros_like(bn_rm) if bn_b is None else bn_b
    with no_grad():
        scale = bn_w * (bn_rv + bn_eps).rsqrt()
        shape = ((1, -1) if transpose else (-1, 1)) + (1,) * (conv_w.ndim - 2)
        fused_w = (conv_w * scale.reshape(*shape)).to(dtype)
        fused_b = ((conv_b - bn_rm) * scale + bn_b).to(dtype)
    return (nn.Parameter(fused_w, conv_w.requires_grad),
            nn.Parameter(fused_b, conv_b.requires_grad))


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A copy of conv with bn folded in (both must be in eval mode)."""
    if conv.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    fused = copy.deepcopy(conv)
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("BatchNorm must track running statistics to be fused")
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias,
        transpose)
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    from fastnn import nn, zeros_like
    linear_b = zeros_like(bn_rm) if linear_b is None else linear_b
    with no_grad():
        scale = bn_w * (bn_rv + bn_eps).rsqrt()
        fused_w = linear_w * scale.unsqueeze(-1)
        fused_b = (linear_b - bn_rm) * scale + bn_b
    return (nn.Parameter(fused_w, linear_w.requires_grad),
            nn.Parameter(fused_b, linear_b.requires_grad))


def fuse_linear_bn_eval(linear, bn):
    if linear.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError("To fuse, linear.out_features must equal bn.num_features or "
                             "bn.num_features must equal 1")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)
    return fused
