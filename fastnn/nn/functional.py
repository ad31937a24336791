"""torch.nn.functional's names for the ops fastnn implements, with torch's signatures."""
from fastnn.ops import activation as _activation
from fastnn.ops import elementwise as _elementwise
from fastnn.ops.activation import log_softmax, softmax, softmin  # noqa: F401
from fastnn.ops.elementwise import sigmoid, tanh  # noqa: F401
from fastnn.ops.linear import linear  # noqa: F401
from fastnn.ops.loss import cross_entropy  # noqa: F401
from fastnn.ops.losses import (binary_cross_entropy, binary_cross_entropy_with_logits,  # noqa: F401
                               huber_loss, kl_div, l1_loss, mse_loss, nll_loss, smooth_l1_loss)
from fastnn.ops.batchnorm import batch_norm  # noqa: F401,E402
from fastnn.ops.conv import conv1d, conv2d  # noqa: F401,E402
from fastnn.ops.conv_transpose import conv_transpose1d, conv_transpose2d  # noqa: F401,E402
from fastnn.ops.nonlinearities import (elu, gelu, hardtanh, logsigmoid,  # noqa: F401
                                       maybe_inplace, prelu, relu6, silu, softplus)
from fastnn.ops.normalization import (cosine_similarity, group_norm, instance_norm,  # noqa: F401
                                     layer_norm, local_response_norm, normalize, rms_norm)
from fastnn.ops.pad import pad  # noqa: F401,E402
from fastnn.ops.volumetric import (adaptive_avg_pool3d, adaptive_max_pool3d,  # noqa: F401,E402
                                   avg_pool3d, conv3d, conv_transpose3d, max_pool3d)
from fastnn.ops.pool import (adaptive_avg_pool1d, adaptive_avg_pool2d,  # noqa: F401
                             adaptive_max_pool1d, adaptive_max_pool2d, avg_pool1d,
                             avg_pool2d, max_pool1d, max_pool2d)
from fastnn.ops.resampling import (interpolate, one_hot, pixel_shuffle,  # noqa: F401
                                   pixel_unshuffle, upsample, upsample_bilinear,
                                   upsample_nearest)


def relu(input, inplace=False):
    return input.relu_() if inplace else _elementwise.relu(input)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return maybe_inplace(input, lambda x: _elementwise.leaky_relu(x, negative_slope), inplace)


def dropout(input, p=0.5, training=True, inplace=False):
    if not training or p == 0.0:
        return input
    return maybe_inplace(input, lambda x: _activation.dropout(x, p, training), inplace)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    from fastnn.nn.resampling import embedding as lookup
    return lookup(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse)


from fastnn.ops.embedding_bag import embedding_bag  # noqa: F401,E402


from fastnn.ops.more_activations import (celu, glu, hardshrink, hardsigmoid,  # noqa: F401,E402
                                         hardswish, mish, selu, softshrink, softsign,
                                         tanhshrink, threshold)
from fastnn.ops.more_activations import threshold as _threshold  # noqa: E402
from fastnn.ops.attention import scaled_dot_product_attention  # noqa: F401,E402


from fastnn.ops.margin_losses import (cosine_embedding_loss, gaussian_nll_loss,  # noqa: F401,E402
                                      hinge_embedding_loss, margin_ranking_loss,
                                      multi_margin_loss, multilabel_soft_margin_loss,
                                      pairwise_distance, poisson_nll_loss, soft_margin_loss,
                                      triplet_margin_loss, triplet_margin_with_distance_loss,
                                      pdist, multilabel_margin_loss)
from fastnn.ops.dropouts import (alpha_dropout, dropout1d, dropout2d,  # noqa: F401,E402
                                 dropout3d, feature_alpha_dropout)


# torch's in-place functional forms: F.relu_(x) is F.relu(x, inplace=True)
def relu_(input):
    return relu(input, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def selu_(input):
    return selu(input, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input, threshold, value):
    return _threshold(input, threshold, value, inplace=True)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU (Xu et al. 2015): a slope drawn from U(lower, upper) per element
    while training, their mean in eval."""
    from fastnn.ops.randomized import rrelu as _rrelu
    return maybe_inplace(input, lambda x: _rrelu(x, lower, upper, training), inplace)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool2d(input, output_size, True)


from fastnn.ops.im2col import fold, unfold  # noqa: F401,E402
from fastnn.ops.grid_sampling import affine_grid, grid_sample  # noqa: F401,E402


def bilinear(input1, input2, weight, bias=None):
    """x1^T A_o x2 (+ b_o) for each output o, over any leading dimensions."""
    from fastnn.ops.einsum import einsum
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got "
                           f"{list(input1.shape[:-1])} and {list(input2.shape[:-1])}")
    out = einsum("...i,oij,...j->...o", input1, weight, input2)
    return out + bias if bias is not None else out


def channel_shuffle(input, groups):
    """ShuffleNet's channel shuffle (Zhang et al. 2018): (N, g * k, ...) read as (N, g, k, ...)
    and written as (N, k, g, ...)."""
    if input.ndim <= 2:
        raise RuntimeError("channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(input.shape)}")
    channels = input.shape[1]
    if channels % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {channels} "
                           f"channels and {groups} groups.")
    n, rest = input.shape[0], tuple(input.shape[2:])
    return input.reshape(n, groups, channels // groups, *rest).transpose(1, 2) \
        .reshape(n, channels, *rest)


native_channel_shuffle = channel_shuffle


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """Samples from the Gumbel-softmax (Jang et al. 2017): softmax((logits + g) / tau) with
    g ~ Gumbel(0, 1); hard=True returns the one-hot argmax with the soft sample's gradient
    (straight through)."""
    import warnings
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    from fastnn.creation import empty_like, zeros_like
    gumbels = -empty_like(logits).exponential_().log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


from fastnn.ops.unpool import lp_pool1d, lp_pool2d, max_unpool1d, max_unpool2d  # noqa: F401,E402
from fastnn.ops.unpool import lp_pool3d, max_unpool3d  # noqa: F401,E402
from fastnn.nn import grad  # noqa: F401,E402  (F.grad is torch.nn.grad)
from fastnn.ops.ctc import ctc_loss  # noqa: F401,E402
