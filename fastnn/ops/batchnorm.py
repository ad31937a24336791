"""Batch normalisation over (N, H, W) per channel (Ioffe & Szegedy 2015), train and eval.

Training normalises with the batch's mean and biased variance and updates the running
statistics with the unbiased variance (torch's convention); eval uses the running statistics.
Statistics are accumulated in float64: a channel of a 128 x 28 x 28 batch sums 100k values."""
import numpy as np

from fastnn.autograd.function import Function


class BatchNormTrain(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps, stats):
        axes = (0,) + tuple(range(2, x.ndim))
        count = x.size // x.shape[1]
        if count < 2:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {list(x.shape)}")
        shape = (1, -1) + (1,) * (x.ndim - 2)
        mean = x.mean(axis=axes, dtype=np.float64)
        var = x.var(axis=axes, dtype=np.float64)
        inv_std = 1.0 / np.sqrt(var + eps)
        x_hat = ((x - mean.reshape(shape)) * inv_std.reshape(shape)).astype(np.float32)
        stats.extend([mean, var * count / (count - 1)])
        ctx.save_for_backward(x_hat, weight)
        ctx.meta = (inv_std.astype(np.float32), axes, shape, count)
        out = x_hat
        if weight is not None:
            out = out * weight.reshape(shape)
        if bias is not None:
            out = out + bias.reshape(shape)
        return out.astype(np.float32)

    @staticmethod
    def backward(ctx, g):
        x_hat, weight = ctx.saved_tensors
        inv_std, axes, shape, count = ctx.meta
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gw = (g * x_hat).sum(axis=axes, dtype=np.float64).astype(np.float32) if need_w else None
        gb = g.sum(axis=axes, dtype=np.float64).astype(np.float32) if need_b else None
        gx = None
        if need_x:
            dxhat = g * weight.reshape(shape) if weight is not None else g
            sum_d = dxhat.sum(axis=axes, dtype=np.float64).reshape(shape)
            sum_dx = (dxhat * x_hat).sum(axis=axes, dtype=np.float64).reshape(shape)
            gx = (inv_std.reshape(shape) / count
                  * (count * dxhat - sum_d - x_hat * sum_dx)).astype(np.float32)
        return gx, gw, gb, None, None


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """torch.nn.functional.batch_norm; updates running_mean/running_var in place if training."""
    if input.ndim < 2:
        raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")
    shape = (1, -1) + (1,) * (input.ndim - 2)
    if training or running_mean is None:
        stats = []
        out = BatchNormTrain.apply(input, weight, bias, float(eps), stats)
        if training and running_mean is not None:
            mean, unbiased_var = stats
            m = momentum
            running_mean.data[...] = (1 - m) * running_mean.data + m * mean
            running_var.data[...] = (1 - m) * running_var.data + m * unbiased_var
        return out
    scale = 1.0 / np.sqrt(running_var.data.astype(np.float64) + eps)
    out = (input - running_mean.data.reshape(shape)) * scale.astype(np.float32).reshape(shape)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out
