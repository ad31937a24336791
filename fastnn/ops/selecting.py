"""torch's selecting and triangular ops, composed from differentiable indexing and masking:
select, narrow, unbind, triu, tril; and the fused-looking linear-algebra forms addmm, baddbmm,
addmv and lerp (torch fuses them on the GPU; on the CPU they are the sum of their parts)."""
import numpy as np

from fastnn.ops.manipulation import _dim


def _range_error(op, index, size, dim, shape):
    return IndexError(f"{op}(): index {index} out of range for tensor of size {list(shape)} at "
                      f"dimension {dim}")


def select(input, dim, index):
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _dim(dim, input.ndim)
    n = input.shape[d]
    if not -n <= index < n:
        raise _range_error("select", index, n, d, input.shape)
    return input[(slice(None),) * d + (int(index) % n,)]


def narrow(input, dim, start, length):
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _dim(dim, input.ndim)
    n = input.shape[d]
    start = int(start.item() if hasattr(start, "item") else start)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got "
                         f"{start})")
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return input[(slice(None),) * d + (slice(start, start + length),)]


def unbind(input, dim=0):
    d = _dim(dim, input.ndim)
    return tuple(input[(slice(None),) * d + (i,)] for i in range(input.shape[d]))


def _triangle(input, diagonal, keep_upper):
    if input.ndim < 2:
        raise RuntimeError(f"{'triu' if keep_upper else 'tril'}: input tensor must have at "
                           "least 2 dimensions")
    rows, cols = input.shape[-2:]
    keep = (np.triu(np.ones((rows, cols), bool), diagonal) if keep_upper
            else np.tril(np.ones((rows, cols), bool), diagonal))
    from fastnn.ops.logical import masked_fill
    from fastnn.tensor import Tensor
    return masked_fill(input, Tensor._wrap(~keep), 0)


def triu(input, diagonal=0):
    return _triangle(input, diagonal, True)


def tril(input, diagonal=0):
    return _triangle(input, diagonal, False)


def _scaled_sum(input, product, beta, alpha):
    """beta * input + alpha * product. With beta = 0 torch ignores input's values (NaN and inf
    too) and gives it a zero gradient: input masked to zeros does both."""
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        from fastnn.ops.logical import masked_fill
        from fastnn.tensor import Tensor
        return product + masked_fill(input, Tensor._wrap(np.ones(tuple(input.shape), bool)), 0)
    return product + (input if beta == 1 else input * beta)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    from fastnn.ops.linalg import mm
    return _scaled_sum(input, mm(mat1, mat2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    from fastnn.ops.linalg import mv
    return _scaled_sum(input, mv(mat, vec), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    from fastnn.ops.linalg import bmm
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


def lerp(input, end, weight):
    """input + weight * (end - input)."""
    return input + weight * (end - input)
