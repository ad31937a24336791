"""The rest of torch.linalg's common surface: LinAlgError, the *_ex variants (an info code
instead of an error), lstsq, matrix_exp (scaling and squaring of a Taylor polynomial, in
recorded ops, so it is differentiable), vander and cond."""
import math

import numpy as np

from fastnn import return_types
from fastnn.tensor import Tensor

for _name, _fields in [("linalg_inv_ex", "inverse info"), ("linalg_cholesky_ex", "L info"),
                       ("linalg_solve_ex", "result info"),
                       ("linalg_lstsq", "solution residuals rank singular_values")]:
    return_types.structseq(_name, _fields.split())


class LinAlgError(RuntimeError):
    """A linear-algebra failure (a singular matrix, a matrix that is not positive-definite);
    a RuntimeError, as torch's."""


LinAlgError.__name__ = "_LinAlgError"  # (torch's class prints under this name)


def _info(value):
    return Tensor._wrap(np.asarray(value, dtype=np.int32))


def inv_ex(A, *, check_errors=False):
    from fastnn.linalg import inv
    try:
        return return_types.linalg_inv_ex(inv(A), _info(0))
    except RuntimeError:
        if check_errors:
            raise
        return return_types.linalg_inv_ex(Tensor._wrap(np.full(tuple(A.shape), np.nan,
                                                               A._data.dtype)), _info(1))


def cholesky_ex(A, *, upper=False, check_errors=False):
    """(L, info): info is 0, or the order of the first leading minor that is not
    positive-definite (L is then not usable)."""
    from fastnn.linalg import cholesky
    try:
        return return_types.linalg_cholesky_ex(cholesky(A, upper=upper), _info(0))
    except RuntimeError:
        if check_errors:
            raise
        return return_types.linalg_cholesky_ex(Tensor._wrap(np.zeros_like(A._data)),
                                               _info(first_failing_minor(A._data)))


def first_failing_minor(a):
    """The order of a's first leading minor that is not positive-definite."""
    for k in range(1, a.shape[-1] + 1):
        try:
            np.linalg.cholesky(a[..., :k, :k])
        except np.linalg.LinAlgError:
            return k
    return 0


def solve_ex(A, B, *, left=True, check_errors=False):
    from fastnn.linalg import solve
    try:
        return return_types.linalg_solve_ex(solve(A, B, left=left), _info(0))
    except (RuntimeError, np.linalg.LinAlgError):
        if check_errors:
            raise
        shape = np.broadcast_shapes(tuple(B.shape), tuple(B.shape))
        return return_types.linalg_solve_ex(Tensor._wrap(np.full(shape, np.nan, B._data.dtype)),
                                            _info(1))


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution of A X = B (torch's default CPU driver, gelsy: residuals and
    singular values are empty). With gradients wanted and A of full column rank, X comes from
    the normal equations in recorded ops, so it is differentiable."""
    from fastnn.autograd.grad_mode import is_grad_enabled
    from fastnn.linalg import solve
    a, b = A._data, B._data
    vector = b.ndim == a.ndim - 1
    rank = np.linalg.matrix_rank(a)
    empty = Tensor._wrap(np.zeros(0, a.dtype))
    if is_grad_enabled() and (A.requires_grad or B.requires_grad) and \
            np.all(rank == a.shape[-1]):
        At = A.mT
        rhs = At @ (B.unsqueeze(-1) if vector else B)
        solution = solve(At @ A, rhs)
        solution = solution.squeeze(-1) if vector else solution
    else:
        solution = Tensor._wrap(np.linalg.lstsq(a, b, rcond=rcond)[0].astype(a.dtype))
    return return_types.linalg_lstsq(solution, empty, Tensor._wrap(np.asarray(rank, np.int64)),
                                     empty)


def matrix_exp(A):
    """e^A by scaling and squaring: A / 2^s has a 1-norm below 1/2, where the Taylor series to
    the 18th power is exact to float64 rounding; then the result is squared s times (Higham
    2005 takes a Pade approximant instead; the series keeps to ops that record gradients)."""
    from fastnn.creation import eye
    norm = float(np.abs(A._data).sum(-2).max()) if A.numel() else 0.0
    squarings = max(0, int(math.ceil(math.log2(norm))) + 1) if norm > 0.5 else 0
    X = A / (2.0 ** squarings)
    identity = eye(A.shape[-1], dtype=A.dtype).expand(*A.shape)
    term, total = identity, identity
    for k in range(1, 19):
        term = (term @ X) / k
        total = total + term
    for _ in range(squarings):
        total = total @ total
    return total


def vander(x, *, N=None):
    """Columns x^0, x^1, ..., x^(N-1) (increasing powers, torch's order)."""
    from fastnn.ops.shape import stack
    N = x.shape[-1] if N is None else N
    if N < 1:
        raise RuntimeError("N must be greater than 1.")
    powers = [x * 0 + 1]
    for _ in range(1, N):
        powers.append(powers[-1] * x)
    return stack(powers, -1)


def cond(A, p=None):
    """The condition number in the p-norm (2-norm by default: largest over smallest singular
    value), computed by NumPy (no gradient)."""
    return Tensor._wrap(np.asarray(np.linalg.cond(A._data, p), dtype=A._data.dtype))
