"""layer_norm as one op with its closed-form gradient; group_norm and instance_norm as
compositions of differentiable ops (mean, biased variance, rsqrt), with torch's argument checks
and messages; batch norm has its kernel (batchnorm.py)."""
import numpy as np

from fastnn.autograd.function import Function, presents
from fastnn.ops import reductions


def _normalize(x, dims, eps):
    mean = reductions.mean(x, dim=dims, keepdim=True)
    centred = x - mean
    var = reductions.mean(centred * centred, dim=dims, keepdim=True)
    return centred / (var + eps).sqrt()


class LayerNorm(Function):
    """layer_norm as one op (torch's NativeLayerNormBackward0): one pass for the statistics and
    the affine map, and the closed-form input gradient
    rstd * (g' - mean(g') - xhat * mean(g' xhat)) with g' = g * weight, in place of the six
    recorded ops of the composition."""
    backward_name = "NativeLayerNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, axes, eps):
        if x.size == 0:  # nothing to normalise (NumPy's mean of an empty slice warns)
            ctx.save_for_backward(x, np.zeros((1,) * x.ndim, x.dtype), weight)
            ctx.meta = (axes, eps)
            return np.empty_like(x)
        mean = x.mean(axis=axes, keepdims=True)
        centred = x - mean
        rstd = 1.0 / np.sqrt((centred * centred).mean(axis=axes, keepdims=True) + eps)
        xhat = centred * rstd
        out = xhat if weight is None else xhat * weight
        if bias is not None:
            out = out + bias
        ctx.save_for_backward(xhat, rstd, weight)
        ctx.meta = (axes, eps)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        xhat, rstd, weight = ctx.saved_tensors
        axes, _ = ctx.meta
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        leading = tuple(range(g.ndim - len(axes)))
        if xhat.size == 0:  # an empty input: zero gradients, without NumPy's empty-mean warning
            affine = g.shape[len(leading):]
            return (np.zeros_like(g) if need_x else None,
                    np.zeros(affine, g.dtype) if need_w else None,
                    np.zeros(affine, g.dtype) if need_b else None, None, None)
        gw = (g * xhat).sum(axis=leading) if need_w else None
        gb = g.sum(axis=leading) if need_b else None
        gx = None
        if need_x:
            gh = g if weight is None else g * weight
            gx = rstd * (gh - gh.mean(axis=axes, keepdims=True)
                         - xhat * (gh * xhat).mean(axis=axes, keepdims=True))
            gx = gx.astype(g.dtype, copy=False)
        return gx, gw, gb, None, None


def layer_norm_composite(input, weight, bias, axes, eps):
    """The same function from recorded ops (what create_graph differentiates again)."""
    out = _normalize(input, axes, eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape):]) != shape or len(shape) > input.ndim:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size"
                           f"{list(input.shape)}")
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    if not input.dtype.is_floating_point or input._data.dtype.itemsize < 4:
        return layer_norm_composite(input, weight, bias, axes, eps)  # (half precisions)
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but "
                               f"got {name} of shape {list(t.shape)} and normalized_shape = "
                               f"{list(shape)}")
    return LayerNorm.apply(input, weight, bias, axes, eps)


@presents("NativeGroupNormBackward0")
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    n, c = input.shape[0], input.shape[1]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    grouped = input.reshape(n, num_groups, -1)
    out = _normalize(grouped, (2,), eps).reshape(tuple(input.shape))
    channel = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(channel)
    if bias is not None:
        out = out + bias.reshape(channel)
    return out


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p along dim, eps), as torch.nn.functional.normalize."""
    result = input / input.norm(p, dim, keepdim=True).clamp(min=eps).expand_as(input)
    if out is None:
        return result
    out.copy_(result)
    return out


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) along dim, x1 and x2 broadcast, as
    torch's: each norm clamped on its own (two tiny vectors still compare by direction), and,
    as torch clamps in place under no_grad, the gradient taken through the unclamped norm."""
    def clamped(x):
        norm = x.norm(2, dim, keepdim=True)
        return norm + (norm.clamp(min=eps) - norm).detach()
    if tuple(x1.shape) != tuple(x2.shape):  # dim counts in the broadcast shape, as torch's
        from fastnn.ops.indexing_ops import broadcast_tensors
        x1, x2 = broadcast_tensors(x1, x2)
    return ((x1 / clamped(x1)) * (x2 / clamped(x2))).sum(dim)


@presents("ViewBackward0")  # (torch's ends in a view of its batch-norm over N * C channels)
def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Each (sample, channel) plane normalised by its own mean and biased variance. With
    running statistics, training updates them from the batch mean of the per-plane statistics
    (the variance unbiased), and use_input_stats=False normalises by them, as torch's."""
    if input.ndim < 2:
        raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")
    dims = tuple(range(2, input.ndim))
    channel = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    if use_input_stats and input.numel() // max(input.shape[0] * input.shape[1], 1) <= 1:
        raise ValueError("Expected more than 1 spatial element when training, got input size "
                         f"{input.shape}")
    if use_input_stats:
        if running_mean is not None or running_var is not None:
            import numpy as np
            data = input._data.astype(np.float64).reshape(input.shape[0], input.shape[1], -1)
            count = data.shape[2]
            if count > 1 and running_var is not None:
                var = data.var(axis=2, ddof=1).mean(axis=0)
                running_var._data[...] = (1 - momentum) * running_var._data + momentum * var
            if running_mean is not None:
                mean = data.mean(axis=2).mean(axis=0)
                running_mean._data[...] = (1 - momentum) * running_mean._data + momentum * mean
        out = _normalize(input, dims, eps)
    else:
        out = (input - running_mean.reshape(channel)) / (running_var.reshape(channel) + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(channel)
    if bias is not None:
        out = out + bias.reshape(channel)
    return out


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) over the last dims (Zhang & Sennrich 2019); eps None means the
    dtype's machine epsilon, as torch's."""
    import numpy as np
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size"
                           f"{list(input.shape)}")
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps)
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    out = input / (reductions.mean(input * input, dim=dims, keepdim=True) + eps).sqrt()
    return out * weight if weight is not None else out


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Each channel divided by (k + alpha / size * sum of squares over `size` neighbouring
    channels) ** beta (Krizhevsky et al. 2012), the window padded with zeros as torch's."""
    from fastnn.ops.pad import pad
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {input.ndim} "
                         "dimensions)")
    if input.numel() == 0:
        return input
    n, c = input.shape[0], input.shape[1]
    squares = (input * input).reshape(n, 1, c, -1)
    padded = pad(squares, (0, 0, size // 2, (size - 1) // 2))
    total = padded[:, :, 0:c]
    for offset in range(1, size):
        total = total + padded[:, :, offset:offset + c]
    div = (total / size * alpha + k) ** beta
    return input / div.reshape(tuple(input.shape))
