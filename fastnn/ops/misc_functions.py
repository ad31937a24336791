"""torch's smaller functions, each a composition of differentiable ops (or, where torch has no
gradient, a NumPy computation): hypot, copysign, xlogy, logit, deg2rad, rad2deg, fmax, fmin,
float_power, signbit, sgn, positive, isposinf, isneginf, isreal, logaddexp2, logcumsumexp,
flipud, fliplr, hsplit, vsplit, dsplit, inner, vdot, dist, renorm, unique_consecutive,
aminmax, matrix_power, diag_embed, diagflat, cov, corrcoef, msort, mode, nanquantile,
lgamma, ldexp, take, sum_to_size and Tensor.unfold."""
import math
from fastnn import dtypes, return_types

import numpy as np

from fastnn.ops import elementwise
from fastnn.tensor import Tensor
from fastnn.ops.manipulation import _dim as _checked_dim


def _t(value, like=None):
    if isinstance(value, Tensor):
        return value
    dtype = like._data.dtype if like is not None and like._data.dtype.kind == "f" else np.float32
    return Tensor._wrap(np.asarray(value, dtype))


def hypot(input, other):
    from fastnn.ops.broadcast import floating_pair
    input, other = floating_pair(input, other)  # (squares of int8 would wrap around)
    return (input * input + other * other).sqrt()


def copysign(input, other):
    """|input| with other's sign (the sign bit, so -0.0 counts as negative). other gets a zero
    gradient, as torch's: other masked to zeros takes part in the sum."""
    from fastnn.ops.broadcast import floating_pair
    from fastnn.ops.logical import masked_fill
    input, other = floating_pair(input, other)  # torch's result dtype (ints: float32)
    sign = np.where(np.signbit(other._data), -1.0, 1.0).astype(input._data.dtype)
    zero = masked_fill(other, Tensor._wrap(np.ones(other._data.shape, bool)), 0)
    return elementwise.abs(input) * Tensor._wrap(sign) + zero


def xlogy(input, other):
    """input * log(other), and 0 where input is 0 (even when other is 0)."""
    from fastnn.ops.broadcast import floating_pair
    x, y = floating_pair(input, other)
    zero = x._data == 0
    safe = elementwise.where(zero, 1.0, y)
    return elementwise.where(zero & ~np.isnan(y._data), 0.0, x * elementwise.log(safe))


def logit(input, eps=None):
    from fastnn.ops.broadcast import floating
    input = floating(input)  # (1 - x of a uint8 would wrap around; bools are refused too)
    x = input if eps is None else input.clamp(eps, 1 - eps)
    return elementwise.log(x / (1 - x))


def deg2rad(input):
    return input * (math.pi / 180)


def rad2deg(input):
    return input * (180 / math.pi)


def fmax(input, other):
    """The larger of the two, ignoring a NaN in either."""
    other = _t(other, input)
    pick = np.isnan(other._data) | (input._data >= other._data)
    return elementwise.where(pick, input, other)


def fmin(input, other):
    other = _t(other, input)
    pick = np.isnan(other._data) | (input._data <= other._data)
    return elementwise.where(pick, input, other)


def float_power(input, exponent):
    base = input.double() if isinstance(input, Tensor) else Tensor(np.float64(input))
    return base ** (exponent.double() if isinstance(exponent, Tensor) else exponent)


def signbit(input):
    return Tensor._wrap(np.signbit(input._data))


def sgn(input):
    return elementwise.sign(input)


def positive(input):
    return input


def isposinf(input):
    return Tensor._wrap(np.isposinf(input._data))


def isneginf(input):
    return Tensor._wrap(np.isneginf(input._data))


def isreal(input):
    return Tensor._wrap(np.isreal(input._data))


def logaddexp2(input, other):
    from fastnn.ops.more_elementwise import logaddexp
    return logaddexp(input * math.log(2), other * math.log(2)) / math.log(2)


def logcumsumexp(input, dim):
    """log(cumsum(exp(x))) shifted by the maximum along dim, so no term overflows."""
    top = input.amax(dim, keepdim=True).detach()
    top = elementwise.where(np.isfinite(top._data), top, 0.0)
    return elementwise.log((input - top).exp().cumsum(dim)) + top


def flipud(input):
    return input.flip(0)


def fliplr(input):
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return input.flip(1)


def _split_along(input, sections, dim, name, min_dims):
    from fastnn.ops.indexing_ops import tensor_split
    if input.ndim < min_dims:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} "
                           f"dimension, but got a tensor with {input.ndim} dimensions!")
    if isinstance(sections, int) and input.shape[dim] % sections:
        raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the "
                           f"size of the dimension {input.shape[dim]} is not divisible by the "
                           f"split_size {sections}!")
    return tensor_split(input, sections, dim)


def hsplit(input, sections):
    return _split_along(input, sections, 1 if input.ndim > 1 else 0, "hsplit", 1)


def vsplit(input, sections):
    return _split_along(input, sections, 0, "vsplit", 2)


def dsplit(input, sections):
    return _split_along(input, sections, 2, "dsplit", 3)


def inner(input, other):
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    from fastnn.ops.products import tensordot
    return tensordot(input, other, dims=([-1], [-1]))


def vdot(input, other):
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                           "tensors")
    return (input * other).sum()


def dist(input, other, p=2):
    return (input - other).norm(p)


def renorm(input, p, dim, maxnorm):
    """Each slice along dim rescaled to norm at most maxnorm: maxnorm / (norm + 1e-7) where the
    norm exceeds it, as torch's (and differentiated through the norm, as torch's)."""
    dims = tuple(d for d in range(input.ndim) if d != _checked_dim(dim, input.ndim))
    norms = input.norm(p, dim=dims, keepdim=True)
    scale = elementwise.where(norms._data > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    return input * scale


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    if dim is not None:
        raise NotImplementedError("unique_consecutive(dim=...) is not implemented in fastnn")
    data = input._data.reshape(-1)
    if data.size == 0:
        starts = np.zeros(0, np.int64)
    else:
        starts = np.concatenate([[0], np.nonzero(data[1:] != data[:-1])[0] + 1])
    values = Tensor._wrap(data[starts].copy())
    out = [values]
    if return_inverse:
        inverse = np.cumsum(np.isin(np.arange(data.size), starts)) - 1
        out.append(Tensor._wrap(inverse.reshape(input._data.shape).astype(np.int64)))
    if return_counts:
        out.append(Tensor._wrap(np.diff(np.append(starts, data.size)).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def aminmax(input, *, dim=None, keepdim=False):
    result = return_types.aminmax
    if dim is None:
        return result(input.amin(), input.amax())
    return result(input.amin(dim, keepdim), input.amax(dim, keepdim))


def matrix_power(input, n):
    if input.ndim < 2 or input.shape[-1] != input.shape[-2]:
        raise RuntimeError("linalg.matrix_power: A must be batches of square matrices")
    if n < 0:
        from fastnn.linalg import inv
        return matrix_power(inv(input), -n)
    from fastnn.creation import eye
    result = eye(input.shape[-1], dtype=input.dtype).expand(*input.shape)
    if n == 0:
        return result.clone()
    base, result = input, None
    while n:  # square and multiply
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return result


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    if (dim1, dim2) != (-2, -1):
        raise NotImplementedError("diag_embed with other dims is not implemented in fastnn")
    from fastnn.ops.diagonals import diag
    from fastnn.ops.shape import stack
    rows = input.reshape(-1, input.shape[-1])
    mats = stack([diag(r, offset) for r in rows.unbind(0)]) if rows.shape[0] else None
    size = input.shape[-1] + abs(offset)
    return mats.reshape(*input.shape[:-1], size, size)


def diagflat(input, offset=0):
    from fastnn.ops.diagonals import diag
    return diag(input.reshape(-1), offset)


def cov(input, *, correction=1, fweights=None, aweights=None):
    """Rows are variables, columns observations; optional integer frequency weights and
    observation weights, with numpy.cov's (and torch's) normalisation."""
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input.ndim} dimensions")
    if not input.is_floating_point():
        input = input.to(dtypes.get_default_dtype())
    x = input if input.ndim == 2 else input.reshape(1, -1)
    observations = x.shape[1]
    weights = None
    for name, w in (("fweights", fweights), ("aweights", aweights)):
        if w is None:
            continue
        if w.ndim > 1:
            raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but "
                               f"got {name} with {w.ndim} dimensions")
        if w.numel() != observations:
            raise RuntimeError(f"cov(): expected {name} to have the same numel as there are "
                               f"observations in the input but got {w.numel()} != "
                               f"{observations}")
        if name == "fweights" and w.is_floating_point():
            raise RuntimeError("cov(): expected fweights to have integral dtype but got "
                               f"fweights with {w.dtype.title} dtype")
        if bool((w < 0).any()):
            raise RuntimeError(f"cov(): {name} cannot be negative")
        w = w.to(x.dtype)
        weights = w if weights is None else weights * w
    if weights is None:
        mean = x.mean(1, keepdim=True)
        norm = observations - correction
        centred = x - mean
        out = centred @ centred.T / max(norm, 0)
    else:
        total = weights.sum()
        mean = (x * weights).sum(1, keepdim=True) / total
        if correction == 0:
            norm = total
        elif aweights is None:
            norm = total - correction
        else:
            norm = total - correction * (weights * aweights.to(x.dtype)).sum() / total
        norm = norm.clamp(min=0)
        centred = x - mean
        out = (centred * weights) @ centred.T / norm
    return out.reshape(()) if input.ndim < 2 else out


def corrcoef(input):
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = c.diagonal().sqrt()
    return (c / d.unsqueeze(1) / d.unsqueeze(0)).clamp(-1, 1)


def msort(input):
    return input.sort(0).values


def mode(input, dim=-1, keepdim=False):
    """The most frequent value along dim (the smallest on ties) and an index of it."""
    data = input._data
    d = _checked_dim(dim, data.ndim)
    if data.ndim == 0:  # a 0-d tensor is its own mode, at index 0 (torch's)
        return return_types.mode(input.clone(), Tensor._wrap(np.zeros((), np.int64)))
    moved = np.moveaxis(data, d, -1)
    flat = moved.reshape(-1, moved.shape[-1]) if moved.ndim else moved.reshape(1, 1)
    values = np.empty(flat.shape[0], data.dtype)
    indices = np.empty(flat.shape[0], np.int64)
    for r, row in enumerate(flat):
        uniq, counts = np.unique(row, return_counts=True)
        values[r] = uniq[np.argmax(counts)]
        indices[r] = np.nonzero(row == values[r])[0][-1]
    shape = moved.shape[:-1]
    values, indices = values.reshape(shape), indices.reshape(shape)
    if keepdim:
        values, indices = np.expand_dims(values, d), np.expand_dims(indices, d)
    index = Tensor._wrap(np.expand_dims(indices, d) if not keepdim else indices)
    picked = input.gather(d, index)
    if not keepdim:
        picked = picked.squeeze(d)
    return return_types.mode(picked, Tensor._wrap(indices))


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    if dim is not None:
        raise NotImplementedError("nanquantile(dim=...) is not implemented in fastnn")
    from fastnn.ops.order_statistics import quantile
    flat = input.reshape(-1)
    return quantile(flat[~np.isnan(flat._data)], q, None, keepdim, interpolation=interpolation)


def lgamma(input):
    from fastnn.ops.gamma_functions import lgamma as differentiable_lgamma
    return differentiable_lgamma(input)


def ldexp(input, other):
    """input * 2 ** other, as torch: the power in other's own dtype when it is floating (in the
    result dtype otherwise), the product in the result dtype."""
    from fastnn.ops.broadcast import floating_pair
    x, exponent = floating_pair(input, other)
    if isinstance(other, Tensor) and other.is_floating_point():
        exponent = other
    return x * (2.0 ** exponent).to(x.dtype)


def take(input, index):
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    n = input.numel()
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"out of range: tried to access index {int(idx.max())} on a tensor of "
                         f"{n} elements.")
    return input.reshape(-1)[np.where(idx < 0, idx + n, idx)]


def sum_to_size(input, *size):
    shape = tuple(size[0]) if len(size) == 1 and not isinstance(size[0], int) else size
    lead = input.ndim - len(shape)
    out = input.sum(tuple(range(lead))) if lead > 0 else input
    dims = tuple(i for i, s in enumerate(shape) if s == 1 and out.shape[i] != 1)
    return out.sum(dims, keepdim=True) if dims else out


def unfold(input, dimension, size, step):
    """Tensor.unfold: every window of `size` along `dimension`, `step` apart, as a new last
    dimension."""
    d = dimension % max(input.ndim, 1)
    n = input.shape[d] if input.ndim else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is "
                           f"{size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    count = (n - size) // step + 1
    starts = np.arange(count) * step
    index = starts[:, None] + np.arange(size)[None, :]
    taken = input.index_select(d, Tensor._wrap(index.reshape(-1).astype(np.int64)))
    shape = list(input.shape)
    shape[d:d + 1] = [count, size]
    return taken.reshape(*shape).movedim(d + 1, -1)
