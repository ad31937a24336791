"""rrelu: the leaky ReLU whose negative slope is drawn per element from U(lower, upper) while
training (Xu et al. 2015, "Empirical Evaluation of Rectified Activations"), and is the
interval's mean in evaluation."""
import numpy as np

from fastnn import random
from fastnn.ops import elementwise
from fastnn.tensor import Tensor


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    if training:
        slope = random.rng().uniform(lower, upper, tuple(input.shape))
        slope = Tensor._wrap(slope.astype(input._data.dtype))
    else:
        slope = (lower + upper) / 2
    return elementwise.where(input._data >= 0, input, input * slope)
