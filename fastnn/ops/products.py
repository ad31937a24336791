"""Products built from differentiable ops: cross, tensordot, kron, cdist, addcmul, addcdiv,
block_diag; and atan2 (a Function with its two partial derivatives)."""
import warnings

import numpy as np

from fastnn.autograd.function import Function
from fastnn.ops.broadcast import unbroadcast
from fastnn.ops.manipulation import _dim
from fastnn.ops.shape import cat, stack


_WARNED_CROSS_DIM = False  # torch warns once per process (TORCH_WARN_ONCE in Cross.cpp)


def cross(input, other, dim=None):
    """The 3-vector cross product along dim (the first dimension of size 3 when dim is None,
    as torch.cross, which warns that this default is deprecated)."""
    global _WARNED_CROSS_DIM
    if dim is None and not _WARNED_CROSS_DIM:
        _WARNED_CROSS_DIM = True
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\n"
                      "Please either pass the dim explicitly or simply use torch.linalg.cross.\n"
                      "The default value of dim will change to agree with that of linalg.cross "
                      "in a future release.", UserWarning, stacklevel=3)
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if input.dtype != other.dtype:
        raise RuntimeError(f"expected scalar type {input.dtype.title} but found "
                           f"{other.dtype.title}")
    shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
    if dim is None:
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    a, b = input.expand(*shape), other.expand(*shape)
    d = _dim(dim, len(shape))
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[d]} and {other.shape[d]}")
    a0, a1, a2 = (a.select(d, i) for i in range(3))
    b0, b1, b2 = (b.select(d, i) for i in range(3))
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)


def tensordot(a, b, dims=2):
    if isinstance(dims, int):
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([dims[0]] if isinstance(dims[0], int) else list(dims[0]),
                          [dims[1]] if isinstance(dims[1], int) else list(dims[1]))
    dims_a = [_dim(d, a.ndim) for d in dims_a]
    dims_b = [_dim(d, b.ndim) for d in dims_b]
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[da]} in dim {da} and second has size {b.shape[db]} "
                               f"in dim {db}")
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    k = int(np.prod([a.shape[d] for d in dims_a])) if dims_a else 1
    left = a.permute(*free_a, *dims_a).reshape(-1, k)
    right = b.permute(*dims_b, *free_b).reshape(k, -1)
    out_shape = [a.shape[d] for d in free_a] + [b.shape[d] for d in free_b]
    return (left @ right).reshape(*out_shape) if out_shape else (left @ right).reshape(())


def kron(input, other):
    n = max(input.ndim, other.ndim)
    a = input.reshape(*([1] * (n - input.ndim) + list(input.shape)))
    b = other.reshape(*([1] * (n - other.ndim) + list(other.shape)))
    # (a_0, 1, a_1, 1, ...) * (1, b_0, 1, b_1, ...) -> (a_0 b_0, a_1 b_1, ...)
    a_view = a.reshape(*[s for size in a.shape for s in (size, 1)])
    b_view = b.reshape(*[s for size in b.shape for s in (1, size)])
    return (a_view * b_view).reshape(*[x * y for x, y in zip(a.shape, b.shape)])


def cdist(x1, x2, p=2.0, compute_mode=None):
    """Pairwise p-norm distances between the rows of x1 (.., P, M) and x2 (.., R, M)."""
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return diff.norm(p, dim=-1)


def addcmul(input, tensor1, tensor2, *, value=1):
    return input + value * tensor1 * tensor2


def addcdiv(input, tensor1, tensor2, *, value=1):
    return input + value * tensor1 / tensor2


def block_diag(*tensors):
    from fastnn.ops.pad import pad
    mats = [t.reshape(1, -1) if t.ndim < 2 else t for t in tensors]
    total = sum(m.shape[1] for m in mats)
    rows, before = [], 0
    for m in mats:
        after = total - before - m.shape[1]
        rows.append(pad(m, (before, after, 0, 0)))
        before += m.shape[1]
    return cat(rows, 0)


class Atan2(Function):
    tangent_rule = "elementwise"  # elementwise with broadcasting: forward AD sums dy/da_i * v_i
    @staticmethod
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return np.arctan2(y, x)

    @staticmethod
    def backward(ctx, g):
        y, x = ctx.saved_tensors  # d/dy = x / r^2, d/dx = -y / r^2
        r2 = x * x + y * y
        return unbroadcast(g * x / r2, y.shape), unbroadcast(-g * y / r2, x.shape)


def atan2(input, other):
    from fastnn.ops.broadcast import floating_pair
    return Atan2.apply(*floating_pair(input, other))


arctan2 = atan2
