"""fastnn: a CPU tensor engine with hand-written compiled kernels under a PyTorch-style API.

    import fastnn as torch          # the names are torch's
    from fastnn import nn, optim
"""
__version__ = "0.1.0"

import math
import sys as _sys

from fastnn import memory as _memory

_memory.tune_malloc()  # freed arrays reused, not re-faulted (issue 12; fastnn/memory.py)
_memory.align_arrays()  # vector loads that do not straddle cache lines (fastnn/memory.py)

from fastnn.dtypes import (bfloat16, bool_, cdouble, cfloat, complex64,  # noqa: F401
                           complex128, double, dtype, float16, float32,
                           float64, get_default_dtype, half, int8, int16, int32, int64, long,
                           promote_types, result_type, set_default_dtype, short, uint8)
from fastnn.device import device  # noqa: F401
from fastnn.type_info import finfo, iinfo  # noqa: F401
from fastnn.tensor import Size, Tensor  # noqa: F401
from fastnn.legacy_types import (BFloat16Tensor, BoolTensor, ByteTensor,  # noqa: F401
                                 CharTensor, DoubleTensor, FloatTensor, HalfTensor,
                                 IntTensor, LongTensor, ShortTensor)
from fastnn.autograd.grad_mode import (enable_grad, inference_mode,  # noqa: F401
                                       is_grad_enabled, is_inference_mode_enabled, no_grad,
                                       set_grad_enabled)
from fastnn.autograd.anomaly_mode import (is_anomaly_check_nan_enabled,  # noqa: F401
                                          is_anomaly_enabled)
from fastnn.random import (Generator, get_rng_state, initial_seed, manual_seed,  # noqa: F401
                           seed, set_rng_state)
from fastnn.threads import get_num_threads, num_threads, set_num_threads  # noqa: F401
from fastnn.config import show_config  # noqa: F401
from fastnn.printing import set_printoptions  # noqa: F401
from fastnn.creation import (arange, as_tensor, asarray, empty, empty_like,  # noqa: F401
                             eye, from_dlpack, from_numpy, full, full_like, linspace,
                             logspace, normal, ones, ones_like, rand, rand_like, randint,
                             randint_like, randn, randn_like, randperm, tensor, zeros,
                             zeros_like)
from fastnn.ops.activation import torch_log_softmax as log_softmax  # noqa: F401
from fastnn.ops.activation import torch_softmax as softmax  # noqa: F401
from fastnn.ops.arithmetic import (add, div, floor_divide, mul, neg, pow,  # noqa: F401
                                   remainder, sub)
from fastnn.ops.elementwise import (abs, clamp, exp, log, maximum, relu, sigmoid,  # noqa: F401
                                    sign, sqrt, tanh, where)
from fastnn.ops.linalg import dot, matmul, mm, mv  # noqa: F401
from fastnn.ops.reductions import (all, any, argmax, argmin, cumsum, max, mean,  # noqa: F401
                                   min, norm, sum)
from fastnn.ops.shape import (cat, flatten, permute, reshape, squeeze, stack,  # noqa: F401
                              transpose, unsqueeze)
from fastnn.ops.logical import masked_fill  # noqa: F401
from fastnn.ops.einsum import einsum  # noqa: F401
from fastnn.ops.linalg import bmm, outer  # noqa: F401
from fastnn.ops.manipulation import (argsort, bincount, chunk, flip, gather,  # noqa: F401
                                     index_select, nonzero, repeat_interleave, roll, sort,
                                     split, tile, topk, unique)
from fastnn.ops.rounding import (allclose, ceil, floor, isclose, isfinite, isinf,  # noqa: F401
                                 isnan, round, trunc)
from fastnn.ops.statistics import logsumexp, prod, std, var  # noqa: F401
from fastnn.ops.unary_math import (acos, arccos, arcsin, arctan, asin, atan, cos,  # noqa: F401
                                   cosh, erf, exp2, expm1, log1p, log2, log10, reciprocal,
                                   rsqrt, sin, sinh, tan)
from fastnn.ops.compositions import (amax, amin, broadcast_to, hstack,  # noqa: F401
                                     moveaxis, movedim, ravel, vstack)
from fastnn.ops.logical_ops import (argwhere, count_nonzero, isin, logical_and,  # noqa: F401
                                    logical_not, logical_or, logical_xor)
from fastnn.ops.diagonals import diag, diagonal, masked_select, trace  # noqa: F401
from fastnn.ops.sampling import (_sample_dirichlet, _standard_gamma, bernoulli,  # noqa: F401
                                binomial, multinomial, poisson)
from fastnn.ops.more_elementwise import (clamp_max, clamp_min, fmod, frac,  # noqa: F401
                                         logaddexp, meshgrid, nan_to_num, unflatten)
from fastnn.ops.inplace_functions import *  # noqa: F401,F403,E402  (torch.sin_ and the rest)
from fastnn.ops.scans import cummax, cummin, cumprod, diff  # noqa: F401
from fastnn.ops.order_statistics import (bucketize, histc, kthvalue, median,  # noqa: F401
                                         nanmean, nanmedian, nansum, quantile, searchsorted,
                                         std_mean, var_mean)
from fastnn.ops.products import (addcdiv, addcmul, arctan2, atan2, block_diag,  # noqa: F401
                                 cdist, cross, kron, tensordot)
from fastnn.ops.indexing_ops import broadcast_tensors, unravel_index  # noqa: F401,E402
from fastnn.ops.indexing_ops import (atleast_1d, atleast_2d, atleast_3d,  # noqa: F401
                                     cartesian_prod, column_stack, combinations, dstack,
                                     index_add, index_fill, rot90, scatter_add, take_along_dim,
                                     tensor_split, tril_indices, triu_indices)
from fastnn.ops.unary_math import erfinv, sinc  # noqa: F401
from fastnn.ops.logical_ops import (bitwise_and, bitwise_not, bitwise_or,  # noqa: F401
                                    bitwise_xor)
from fastnn.ops.more_elementwise import heaviside  # noqa: F401
from fastnn.ops.gamma_functions import digamma, mvlgamma, polygamma  # noqa: F401
from fastnn.ops.incomplete_gamma import igamma, igammac  # noqa: F401
from fastnn.ops.misc_functions import (aminmax, copysign, corrcoef, cov, deg2rad,  # noqa: F401
                                       diag_embed, diagflat, dist, dsplit, fliplr, flipud,
                                       float_power, fmax, fmin, hsplit, hypot, inner, isneginf,
                                       isposinf, isreal, ldexp, lgamma, logaddexp2,
                                       logcumsumexp, logit, matrix_power, mode, msort,
                                       nanquantile, positive, rad2deg, renorm, sgn, signbit,
                                       take, unique_consecutive, vdot, vsplit, xlogy)
from fastnn.ops.selecting import (addmm, addmv, baddbmm, lerp, narrow, select,  # noqa: F401
                                  tril, triu, unbind)

# torch's short names for dtypes (torch.float is float32, torch.int is int32)
float = float32
int = int32
bool = bool_
clip = clamp
subtract, multiply, divide, true_divide, negative = sub, mul, div, div, neg
concat = concatenate = cat
swapaxes = swapdims = transpose


from fastnn.ops.elementwise import minimum  # noqa: E402,F401  (ties split, as torch's)


def numel(x):
    return x.numel()


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(x):
    return x.is_floating_point()


def _compare(op, a, b):
    from fastnn.ops.logical import compare
    return compare(op, a, b)


def eq(a, b):
    return _compare("eq", a, b)


def ne(a, b):
    return _compare("ne", a, b)


def lt(a, b):
    return _compare("lt", a, b)


def le(a, b):
    return _compare("le", a, b)


def gt(a, b):
    return _compare("gt", a, b)


def ge(a, b):
    return _compare("ge", a, b)


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
fix, ger = trunc, outer


def equal(a, b):
    return a.equal(b)


def square(x):
    return x.square()


def t(x):
    return x.t()


def clone(x, memory_format=None):
    return x.clone()


def detach(x):
    return x.detach()


from fastnn.serialization import load, save  # noqa: F401,E402
from fastnn import backend  # noqa: F401,E402
from fastnn import amp, cpu  # noqa: F401,E402
from fastnn.amp import (autocast, get_autocast_cpu_dtype, get_autocast_dtype,  # noqa: F401,E402
                        is_autocast_cpu_enabled, is_autocast_enabled, set_autocast_dtype,
                        set_autocast_enabled)
from fastnn import accelerator, backends, config, cuda, mps, nn, optim, xpu  # noqa: F401,E402
from fastnn import autograd, distributions, fft, jit, linalg, return_types, utils  # noqa: F401,E402
from fastnn import future_flags as __future__  # noqa: F401,E402  (torch.__future__)
_sys.modules[__name__ + ".__future__"] = __future__
from fastnn.linalg import det, inv as inverse, svd_legacy as svd  # noqa: F401,E402
from fastnn.ops.legacy_linalg import (addr, adjoint, chain_matmul, cholesky,  # noqa: F401,E402
                                      cholesky_inverse, cholesky_solve, eig, logdet, lstsq,
                                      matrix_exp, matrix_rank, pinverse, qr, slogdet, solve,
                                      symeig, triangular_solve)
from fastnn.ops.volumetric import (avg_pool3d, conv3d, conv_transpose3d,  # noqa: F401,E402
                                   max_pool3d)
from fastnn.linalg.lu import (lu_legacy as lu, lu_solve_legacy as lu_solve,  # noqa: F401,E402
                              lu_unpack)
from fastnn.ops.signal_numerics import (absolute, bartlett_window,  # noqa: F401,E402
                                        blackman_window, cumulative_trapezoid, frexp,
                                        hamming_window, hann_window, histogram, kaiser_window,
                                        row_stack, trapezoid, trapz)

pi, e, inf, nan = math.pi, math.e, math.inf, math.nan
from fastnn import func, hub, multiprocessing, onnx, profiler, sparse, special  # noqa: F401,E402
from fastnn import testing, version  # noqa: F401,E402
from fastnn.compiling import compile  # noqa: F401,E402
from fastnn import compiler  # noqa: F401,E402
from fastnn.func import vmap  # noqa: F401,E402
from fastnn.ops.scatter import scatter, scatter_reduce  # noqa: F401,E402
from fastnn.layouts import layout, sparse_coo, strided  # noqa: F401,E402
from fastnn.memory_formats import (channels_last, channels_last_3d,  # noqa: F401,E402
                                   contiguous_format, memory_format, preserve_format)
from fastnn.sparse.ops import sparse_coo_tensor  # noqa: F401,E402
from fastnn.sparse.ops import matmul as spmm  # noqa: F401,E402
from fastnn.ops import torch_spellings as _spellings  # noqa: E402

_spellings.install(globals())  # torch.conv2d, torch.asinh, x.eq_(y), ... (see that module)
from fastnn.ops import complex_ops as _complex_ops  # noqa: E402

_complex_ops.install(globals())  # real, imag, conj, view_as_real, complex, polar, x.real
from fastnn.ops import legacy_spellings as _legacy  # noqa: E402

_legacy.install(globals())  # x.new(...), torch.as_strided, torch.gradient, ... (that module)

from fastnn import numpy_arg_names as _numpy_arg_names  # noqa: E402

_numpy_arg_names.accept_numpy_names(globals())  # torch.stack(ts, axis=1), x.max(axis=0)
_numpy_arg_names.accept_numpy_names(Tensor)
