"""Channel-wise dropout (dropout1d/2d/3d: whole feature maps zeroed, Tompson et al. 2015) and
alpha dropout (keeps a SELU network's mean and variance, Klambauer et al. 2017), with torch's
input-rank rules and messages. The mask is a constant; the gradient flows through the product."""
import warnings

from fastnn import random
from fastnn.ops.more_activations import SELU_ALPHA, SELU_SCALE
from fastnn.tensor import Tensor


def _check_p(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _apply(input, factor, shift, inplace):
    if inplace:
        out = input.mul_(factor)
        return out.add_(shift) if shift is not None else out
    out = input * factor
    return out + shift if shift is not None else out


def feature_dropout(input, p, training, inplace, spatial, name):
    """Zeroes each (sample, channel) map with probability p and scales the rest by 1/(1-p)."""
    _check_p(p)
    batched_rank, unbatched_rank = spatial + 2, spatial + 1
    if input.ndim not in (batched_rank, unbatched_rank):
        warnings.warn(f"{name}: Received a {input.ndim}-D input to {name}, which is deprecated "
                      f"and will result in an error in a future release.")
    if name == "dropout2d" and input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape "
                      "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch "
                      "to using dropout1d instead.")
        spatial = 1
    if not training or p == 0.0:
        return input
    if name == "dropout2d":
        _feature_noise_rank(input, p)
    # torch's noise is (size 0, size 1, 1, ...) of what it drops: dropout1d and dropout3d first
    # add a batch dim to an input not of the batched rank (one mask per input channel), while
    # dropout2d never does, so a 2-D (N, C) input loses single elements (pytorch/examples
    # mnist_rnn applies Dropout2d after an LSTM so), not whole samples
    batched = name == "dropout2d" or input.ndim == batched_rank
    kept_dims = 2 if batched else 1
    shape = tuple(input.shape[:kept_dims]) + (1,) * (input.ndim - kept_dims)
    keep = random.rng().bernoulli_values(shape, 1.0 - p)  # torch's bernoulli_(1 - p)
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    return _apply(input, Tensor._wrap((keep * scale).astype(input._data.dtype)), None, inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D "
                           "input. Note that dropout1d exists to provide channel-wise dropout "
                           "on inputs with 1 spatial dimension, a channel dimension, and an "
                           "optional batch dimension (i.e. 2D or 3D inputs).")
    return feature_dropout(input, p, training, inplace, 1, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    return feature_dropout(input, p, training, inplace, 2, "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    return feature_dropout(input, p, training, inplace, 3, "dropout3d")


_ALPHA_PRIME = -SELU_ALPHA * SELU_SCALE  # SELU's negative saturation value


def _alpha(input, p, training, inplace, mask_shape):
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return _apply(input, 0.0, None, inplace)
    keep = random.rng().bernoulli_values(mask_shape, 1.0 - p).astype(input._data.dtype)
    a = ((1 - p) * (1 + p * _ALPHA_PRIME ** 2)) ** -0.5
    b = -a * _ALPHA_PRIME * p
    # a * (x * keep + alpha' * (1 - keep)) + b
    factor = Tensor._wrap((a * keep).astype(input._data.dtype))
    shift = Tensor._wrap((a * _ALPHA_PRIME * (1 - keep) + b).astype(input._data.dtype))
    return _apply(input, factor, shift, inplace)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _alpha(input, p, training, inplace, tuple(input.shape))


def _feature_noise_rank(input, p):
    """torch makes a feature mask (and so checks the rank) only when it draws one."""
    if input.ndim < 2 and p != 1.0 and input.numel():
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    if training and p != 0.0:
        _feature_noise_rank(input, p)
    kept = min(2, input.ndim)
    return _alpha(input, p, training, inplace,
                  tuple(input.shape[:kept]) + (1,) * (input.ndim - kept))
