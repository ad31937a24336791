"""fastnn: a CPU tensor engine with hand-written compiled kernels under a PyTorch-style API.

    import fastnn as torch          # the names are torch's
    from fastnn import nn, optim
"""
__version__ = "0.1.0"

from fastnn.dtypes import bool_, float32, int64, long  # noqa: F401
from fastnn.tensor import Size, Tensor  # noqa: F401
from fastnn.autograd.grad_mode import (enable_grad, is_grad_enabled, no_grad,  # noqa: F401
                                       set_grad_enabled)
from fastnn.random import manual_seed, seed  # noqa: F401
from fastnn.threads import get_num_threads, set_num_threads  # noqa: F401
from fastnn.config import show_config  # noqa: F401
from fastnn.creation import (arange, eye, from_numpy, full, normal, ones, ones_like,  # noqa: F401
                             rand, rand_like, randint, randn, randn_like, tensor, zeros,
                             zeros_like)
from fastnn.ops.activation import log_softmax, softmax  # noqa: F401
from fastnn.ops.arithmetic import add, div, mul, neg, pow, sub  # noqa: F401
from fastnn.ops.elementwise import (abs, clamp, exp, log, maximum, relu, sigmoid,  # noqa: F401
                                    sign, sqrt, tanh, where)
from fastnn.ops.linalg import dot, matmul, mm, mv  # noqa: F401
from fastnn.ops.reductions import (argmax, argmin, cumsum, max, mean, min, norm,  # noqa: F401
                                   sum)
from fastnn.ops.shape import (cat, flatten, permute, reshape, squeeze, stack,  # noqa: F401
                              transpose, unsqueeze)

clip = clamp


def minimum(a, b):
    """Elementwise min(a, b) (the gradient splits on ties, as torch.minimum)."""
    return neg(maximum(neg(a), neg(b)))


def numel(x):
    return x.numel()
from fastnn.serialization import load, save  # noqa: F401
from fastnn import backend  # noqa: F401,E402
from fastnn import config, nn, optim  # noqa: F401,E402
