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
from fastnn.creation import (arange, from_numpy, normal, ones, ones_like, rand,  # noqa: F401
                             randn, tensor, zeros, zeros_like)
from fastnn.ops.arithmetic import add, div, mul, sub  # noqa: F401
from fastnn.ops.elementwise import abs, exp, log, maximum, relu  # noqa: F401
from fastnn.ops.linalg import matmul, mm  # noqa: F401
from fastnn.ops.reductions import argmax, max, mean, sum  # noqa: F401
from fastnn.ops.shape import flatten, reshape, transpose  # noqa: F401
from fastnn.serialization import load, save  # noqa: F401
from fastnn import backend  # noqa: F401,E402
from fastnn import config, nn, optim  # noqa: F401,E402
