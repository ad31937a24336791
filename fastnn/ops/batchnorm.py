"""Batch normalisation over (N, H, W) per channel (Ioffe & Szegedy 2015), train and eval, on
the backend's kernels (kernels/batchnorm.c): training normalises with the batch's mean and
biased variance and the running statistics take the unbiased variance (torch's convention);
eval uses the running statistics."""
import numpy as np

from fastnn import memory_formats
from fastnn.autograd.function import Function
from fastnn.ops.conv import kernels_for
from fastnn.ops.float32_kernels import float32_kernel


def _as(a, dtype):
    return None if a is None else np.ascontiguousarray(a, dtype=dtype)


class BatchNorm(Function):
    """training: statistics from the batch (appended to `stats` for the running averages);
    otherwise `stats` holds the (mean, var) to use."""
    backward_name = "NativeBatchNormBackward0"


    @staticmethod
    def forward(ctx, x, weight, bias, eps, training, stats):
        source, x = x, np.ascontiguousarray(x)
        channels = x.shape[1]
        if training:
            count = x.shape[0] * int(np.prod(x.shape[2:]))  # values per channel
            if count == 1:
                raise ValueError(f"Expected more than 1 value per channel when training, got "
                                 f"input size torch.Size({list(x.shape)})")
            if x.size == 0:  # no values (or no channels): an empty result, running stats kept
                ctx.save_for_backward(x, weight)
                ctx.meta = None
                return np.empty_like(x)
            mean, var = np.empty(channels), np.empty(channels)
        else:
            mean, var = (np.ascontiguousarray(s, dtype=np.float64) for s in stats)
        y = np.empty_like(x)  # float32, or float64 on the reference (conv.kernels_for)
        kernels_for(x).batchnorm_forward(x, _as(weight, x.dtype), _as(bias, x.dtype), y, mean,
                                         var, training, eps)
        if training:
            stats.extend([mean, var * count / (count - 1)])
        ctx.save_for_backward(x, weight)
        ctx.meta = (mean, var, eps, training)
        return memory_formats.like(source, y)

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        if ctx.meta is None:  # an empty batch: zero gradients for the affine parameters
            zeros = np.zeros(x.shape[1], x.dtype)
            return (np.zeros_like(x) if need_x else None, zeros if need_w else None,
                    zeros.copy() if need_b else None, None, None, None)
        mean, var, eps, training = ctx.meta
        g = np.ascontiguousarray(g, dtype=x.dtype)
        channels = x.shape[1]
        gw, gb = np.empty(channels, x.dtype), np.empty(channels, x.dtype)
        if training:
            gx = np.empty_like(x) if need_x else None
            kernels_for(x).batchnorm_backward(x, g, _as(weight, x.dtype), mean, var, gx, gw, gb,
                                              eps)
        else:  # fixed statistics: an affine map per channel
            shape = (1, -1) + (1,) * (x.ndim - 2)
            inv_std = (1.0 / np.sqrt(var + eps)).astype(x.dtype)
            axes = (0,) + tuple(range(2, x.ndim))
            x_hat = (x - mean.astype(x.dtype).reshape(shape)) * inv_std.reshape(shape)
            gw[...] = (g * x_hat).sum(axis=axes)
            gb[...] = g.sum(axis=axes)
            scale = inv_std if weight is None else inv_std * weight
            gx = g * scale.reshape(shape) if need_x else None
        return gx, gw if need_w else None, gb if need_b else None, None, None, None


@float32_kernel(keep=(0, 1), native=(np.float64,))
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """torch.nn.functional.batch_norm; updates running_mean/running_var in place if training."""
    if input.ndim < 2:
        raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")
    channels = input.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if t is not None and t.numel() != channels:  # torch's check and words
            raise RuntimeError(f"{name} should contain {channels} elements not {t.numel()}")
    if training or running_mean is None:
        stats = []
        out = BatchNorm.apply(input, weight, bias, float(eps), True, stats)
        if training and running_mean is not None and stats:
            mean, unbiased_var = stats
            m = momentum
            running_mean._data[...] = (1 - m) * running_mean._data + m * mean
            running_var._data[...] = (1 - m) * running_var._data + m * unbiased_var
        return out
    return BatchNorm.apply(input, weight, bias, float(eps), False,
                           (running_mean._data, running_var._data))
