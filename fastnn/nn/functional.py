"""torch.nn.functional's names for the ops fastnn implements, with torch's signatures."""
from fastnn.ops import activation as _activation
from fastnn.ops import elementwise as _elementwise
from fastnn.ops.activation import log_softmax, softmax  # noqa: F401
from fastnn.ops.elementwise import sigmoid, tanh  # noqa: F401
from fastnn.ops.linear import linear  # noqa: F401
from fastnn.ops.loss import cross_entropy  # noqa: F401
from fastnn.ops.losses import (binary_cross_entropy, binary_cross_entropy_with_logits,  # noqa: F401
                               huber_loss, kl_div, l1_loss, mse_loss, nll_loss, smooth_l1_loss)
from fastnn.ops.batchnorm import batch_norm  # noqa: F401,E402
from fastnn.ops.conv import conv1d, conv2d  # noqa: F401,E402
from fastnn.ops.conv_transpose import conv_transpose1d, conv_transpose2d  # noqa: F401,E402
from fastnn.ops.nonlinearities import (elu, gelu, hardtanh, logsigmoid,  # noqa: F401
                                       maybe_inplace, prelu, relu6, silu, softmin, softplus)
from fastnn.ops.normalization import (cosine_similarity, group_norm, instance_norm,  # noqa: F401
                                     layer_norm, normalize)
from fastnn.ops.pad import pad  # noqa: F401,E402
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
    return lookup(input, weight, padding_idx)


from fastnn.ops.more_activations import (celu, glu, hardshrink, hardsigmoid,  # noqa: F401,E402
                                         hardswish, mish, selu, softshrink, softsign,
                                         tanhshrink, threshold)
from fastnn.ops.attention import scaled_dot_product_attention  # noqa: F401,E402


from fastnn.ops import margin_losses as _margin  # noqa: E402
from fastnn.ops.margin_losses import (gaussian_nll_loss, pairwise_distance)  # noqa: F401,E402


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    return _margin.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                       size_average, reduce, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    return _margin.margin_ranking_loss(input1, input2, target, margin, size_average, reduce,
                                       reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    return _margin.cosine_embedding_loss(input1, input2, target, margin, size_average, reduce,
                                         reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    return _margin.hinge_embedding_loss(input, target, margin, size_average, reduce, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    return _margin.soft_margin_loss(input, target, size_average, reduce, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    return _margin.multilabel_soft_margin_loss(input, target, weight, size_average, reduce,
                                               reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    return _margin.multi_margin_loss(input, target, p, margin, weight, size_average, reduce,
                                     reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    return _margin.poisson_nll_loss(input, target, log_input, full, size_average, eps, reduce,
                                    reduction)
from fastnn.ops.dropouts import (alpha_dropout, dropout1d, dropout2d,  # noqa: F401,E402
                                 dropout3d, feature_alpha_dropout)
