"""nn.SyncBatchNorm: batch normalisation whose statistics are those of the global batch across
the data-parallel ranks (fastnn.distributed, MPI), not of each rank's slice.

Forward all-reduces each channel's sum, sum of squares and count (one message), so every rank
normalises with the global mean and variance and updates its running statistics identically.
Backward all-reduces the two per-channel sums the input gradient needs (sum of g and of
g * x_hat; Ioffe & Szegedy 2015's gradient with the global batch), while the weight and bias
gradients stay local, to be averaged with the other gradients by DistributedDataParallel, as
torch's SyncBatchNorm does. Outside a process group of two or more ranks (or in eval mode) it is
BatchNorm. convert_sync_batchnorm swaps every BatchNorm of a model for one.
"""
import numpy as np

from fastnn.autograd.function import Function
from fastnn.nn.conv import BatchNorm2d
from fastnn.tensor import Tensor


def _all_reduce(array, group):
    from fastnn import distributed as dist
    buffer = Tensor._wrap(np.ascontiguousarray(array, dtype=np.float64))
    dist.all_reduce(buffer, group=group)
    return buffer._data


class SyncBatchNormFunction(Function):
    backward_name = "SyncBatchNormBackward"

    @staticmethod
    def forward(ctx, x, weight, bias, eps, group, stats):
        axes = (0,) + tuple(range(2, x.ndim))
        channels = x.shape[1]
        local = np.concatenate([x.sum(axis=axes, dtype=np.float64),
                                (x.astype(np.float64) ** 2).sum(axis=axes),
                                [x.size / channels]])
        total = _all_reduce(local, group)
        count = total[-1]
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {list(x.shape)}")
        mean = total[:channels] / count
        var = np.maximum(total[channels:2 * channels] / count - mean * mean, 0.0)
        shape = (1, channels) + (1,) * (x.ndim - 2)
        invstd = 1.0 / np.sqrt(var + eps)
        xhat = ((x - mean.reshape(shape)) * invstd.reshape(shape)).astype(x.dtype)
        out = xhat if weight is None else xhat * weight.reshape(shape)
        if bias is not None:
            out = out + bias.reshape(shape)
        stats.extend([mean, var * count / (count - 1)])
        ctx.save_for_backward(xhat, weight)
        ctx.meta = (axes, shape, invstd.astype(x.dtype), count, group)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        xhat, weight = ctx.saved_tensors
        axes, shape, invstd, count, group = ctx.meta
        channels = shape[1]
        local_dy = g.sum(axis=axes, dtype=np.float64)
        local_dy_xhat = (g * xhat).sum(axis=axes, dtype=np.float64)
        grad_w = local_dy_xhat.astype(g.dtype) if ctx.needs_input_grad[1] else None
        grad_b = local_dy.astype(g.dtype) if ctx.needs_input_grad[2] else None
        grad_x = None
        if ctx.needs_input_grad[0]:
            total = _all_reduce(np.concatenate([local_dy, local_dy_xhat]), group)
            mean_dy = (total[:channels] / count).astype(g.dtype).reshape(shape)
            mean_dy_xhat = (total[channels:] / count).astype(g.dtype).reshape(shape)
            scale = invstd.reshape(shape) * (1 if weight is None else weight.reshape(shape))
            grad_x = ((g - mean_dy - xhat * mean_dy_xhat) * scale).astype(g.dtype)
        return grad_x, grad_w, grad_b, None, None, None


class SyncBatchNorm(BatchNorm2d):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")

    def _synchronised(self):
        from fastnn import distributed as dist
        return (self.training and dist.is_available() and dist.is_initialized()
                and dist.get_world_size(self.process_group) > 1)

    def forward(self, input):
        if not self._synchronised():
            return super().forward(input)
        self._check_input_dim(input)
        if input.shape[1] != self.num_features:
            raise RuntimeError(f"running_mean should contain {input.shape[1]} elements not "
                               f"{self.num_features}")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats:
            self.num_batches_tracked._data[...] += 1
            if self.momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked._data)
        stats = []
        out = SyncBatchNormFunction.apply(input, self.weight, self.bias, float(self.eps),
                                          self.process_group, stats)
        if self.track_running_stats:
            mean, unbiased = stats
            for buffer, value in ((self.running_mean, mean), (self.running_var, unbiased)):
                buffer._data[...] = (1 - momentum) * buffer._data + momentum * value
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """module with every BatchNorm1d/2d replaced by a SyncBatchNorm holding the same
        parameters, statistics and mode (the module itself if it is one)."""
        output = module
        if isinstance(module, BatchNorm2d) and not isinstance(module, SyncBatchNorm):
            output = cls(module.num_features, module.eps, module.momentum, module.affine,
                         module.track_running_stats, process_group)
            if module.affine:
                output.weight, output.bias = module.weight, module.bias
            if module.track_running_stats:
                output.running_mean = module.running_mean
                output.running_var = module.running_var
                output.num_batches_tracked = module.num_batches_tracked
            output.training = module.training
        for name, child in module.named_children():
            output.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return output
