"""LU factorization with partial pivoting, as LAPACK's getrf (torch.linalg.lu_factor, lu,
lu_solve; torch.lu, lu_unpack, lu_solve), and tensorinv / tensorsolve.

The factorization runs on NumPy, one matrix at a time: at step j the row with the largest
|A[i, j]| (i >= j) is swapped up, the column below the pivot is divided by it and the
trailing block takes the rank-1 update. Pivots are 1-based row numbers, as LAPACK's and
torch's: row j was swapped with row pivots[j] - 1. The factorization itself has no gradient
here (as linalg.qr / svd in fastnn); lu_solve is composed from the permutation and two
triangular solves, so it is differentiable in B and in LU.
"""
import numpy as np

from fastnn import return_types
from fastnn.tensor import Tensor


def _factor_one(a):
    lu = np.array(a, dtype=a.dtype, copy=True)
    m, n = lu.shape
    k = min(m, n)
    pivots = np.zeros(k, dtype=np.int32)
    info = 0
    for j in range(k):
        p = j + int(np.argmax(np.abs(lu[j:, j])))
        pivots[j] = p + 1
        if p != j:
            lu[[j, p]] = lu[[p, j]]
        if lu[j, j] == 0:
            if info == 0:
                info = j + 1  # LAPACK's: U[j, j] is exactly zero (singular)
            continue
        lu[j + 1:, j] /= lu[j, j]
        lu[j + 1:, j + 1:] -= np.outer(lu[j + 1:, j], lu[j, j + 1:])
    return lu, pivots, info


def _factor(A, name):
    from fastnn.linalg import _no_grad_factorisation
    if A.ndim < 2:
        raise RuntimeError(f"torch.linalg.{name}: The input tensor A must have at least 2 "
                           f"dimensions.")
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"torch.linalg.{name}: Expected a floating point or complex tensor "
                           f"as input. Got {A.dtype.title if hasattr(A.dtype, 'title') else A.dtype}")
    _no_grad_factorisation(name, [A])
    data = A._data
    batch = data.shape[:-2]
    m, n = data.shape[-2:]
    lus = np.empty(data.shape, dtype=data.dtype)
    pivots = np.empty(batch + (min(m, n),), dtype=np.int32)
    infos = np.empty(batch, dtype=np.int32)
    for index in np.ndindex(*batch):
        lus[index], pivots[index], infos[index] = _factor_one(data[index])
    return lus, pivots, infos


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    lus, pivots, infos = _factor(A, "lu_factor_ex")
    if check_errors and np.any(infos > 0):
        from fastnn.linalg.extras import LinAlgError
        raise LinAlgError("torch.linalg.lu_factor_ex: The factorization could not be completed "
                          "because the input is not invertible.")
    result = return_types.structseq("linalg_lu_factor_ex", ["LU", "pivots", "info"])
    return result(Tensor._wrap(lus), Tensor._wrap(pivots), Tensor._wrap(infos))


def lu_factor(A, *, pivot=True):
    """(LU, pivots): L (unit lower, below the diagonal) and U (upper) in one matrix."""
    lu_, pivots, infos = lu_factor_ex(A, pivot=pivot)
    if np.any(infos._data > 0):
        j = int(infos._data[infos._data > 0].flat[0])
        raise RuntimeError(f"torch.linalg.lu_factor: U[{j},{j}] is zero and using it on "
                           "lu_solve would result in a division by zero. If you still want to "
                           "perform the factorization, consider calling linalg.lu(A, pivot) or "
                           "linalg.lu_factor_ex(A, pivot)")
    return return_types.structseq("linalg_lu_factor", ["LU", "pivots"])(lu_, pivots)


def _permutation(pivots, m):
    """The row order the pivots' swaps give: row i of P^T A is row perm[i] of A."""
    perm = np.arange(m)
    for j, p in enumerate(pivots - 1):
        perm[j], perm[p] = perm[p], perm[j]
    return perm


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """(P, L, U) with A = P L U."""
    from fastnn.ops.selecting import tril, triu
    data, piv = LU_data._data, LU_pivots._data
    m, n = data.shape[-2:]
    k = min(m, n)
    P = L = U = Tensor._wrap(np.empty((0,), data.dtype))
    if unpack_pivots:
        mats = np.zeros(data.shape[:-2] + (m, m), dtype=data.dtype)
        for index in np.ndindex(*data.shape[:-2]):
            perm = _permutation(piv[index], m)
            mats[index][perm, np.arange(m)] = 1  # P = I[perm].T: A = P (P^T A) = P L U
        P = Tensor._wrap(mats)
    if unpack_data:
        from fastnn.creation import eye
        L = tril(LU_data[..., :, :k], -1) + eye(m, k, dtype=LU_data.dtype)
        U = triu(LU_data[..., :k, :])
    return return_types.structseq("lu_unpack", ["P", "L", "U"])(P, L, U)


def lu(A, *, pivot=True):
    """torch.linalg.lu: (P, L, U) with A = P L U (singular A included)."""
    factors = lu_factor_ex(A, pivot=pivot)
    P, L, U = lu_unpack(factors.LU, factors.pivots)
    return return_types.structseq("linalg_lu", ["P", "L", "U"])(P, L, U)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """X with A X = B (X A = B with left=False; A^H with adjoint) from A's lu_factor."""
    from fastnn.linalg import solve_triangular
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return lu_solve(LU, pivots, B.mT, left=True, adjoint=not adjoint).mT
    P, L, U = lu_unpack(LU, pivots)
    if adjoint:  # A^T X = B with A = P L U: U^T L^T P^T X = B
        y = solve_triangular(U.mT, B, upper=False)
        z = solve_triangular(L.mT, y, upper=True, unitriangular=True)
        return P @ z
    y = solve_triangular(L, P.mT @ B, upper=False, unitriangular=True)
    return solve_triangular(U, y, upper=True)


def lu_legacy(A, pivot=True, get_infos=False):
    """torch.lu / Tensor.lu: (A_LU, pivots[, infos])."""
    import warnings
    warnings.warn("torch.lu is deprecated in favor of torch.linalg.lu_factor / "
                  "torch.linalg.lu_factor_ex and will be removed in a future PyTorch release.",
                  UserWarning, stacklevel=2)
    factors = lu_factor_ex(A, pivot=pivot)
    if get_infos:
        return factors.LU, factors.pivots, factors.info
    return factors.LU, factors.pivots


def lu_solve_legacy(b, LU_data, LU_pivots):
    """torch.lu_solve(b, LU_data, LU_pivots): lu_solve with torch's older argument order."""
    import warnings
    warnings.warn("torch.lu_solve is deprecated in favor of torch.linalg.lu_solve and will be "
                  "removed in a future PyTorch release.\nNote that torch.linalg.lu_solve has "
                  "its arguments reversed.", UserWarning, stacklevel=2)
    return lu_solve(LU_data, LU_pivots, b)


def tensorinv(A, ind=2):
    """The inverse of A seen as a matrix from its first `ind` dimensions to the rest."""
    from fastnn.linalg import inv
    rows = int(np.prod(A.shape[:ind], dtype=np.int64))
    cols = int(np.prod(A.shape[ind:], dtype=np.int64))
    if rows != cols:
        raise RuntimeError("Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    return inv(A.reshape(rows, cols)).reshape(tuple(A.shape[ind:]) + tuple(A.shape[:ind]))


def tensorsolve(A, B, dims=None):
    """X with tensordot(A, X, X.ndim) = B."""
    from fastnn.linalg import solve
    if dims is not None:
        dims = [d % A.ndim for d in dims]
        order = [d for d in range(A.ndim) if d not in dims] + dims
        A = A.permute(order)
    rows = int(np.prod(B.shape, dtype=np.int64))
    x_shape = tuple(A.shape[B.ndim:])
    x = solve(A.reshape(rows, -1), B.reshape(rows))
    return x.reshape(x_shape)
