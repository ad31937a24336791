"""torch.linalg on NumPy's LAPACK: inv, det, slogdet, solve, cholesky, solve_triangular and the
norms are differentiable (their adjoints below and in triangular.py); the other factorisations
(eigh, eig, svd, qr) give torch's outputs and raise if asked for a gradient, which fastnn does
not implement for them."""
from fastnn import return_types

import numpy as np

from fastnn.autograd.function import Function
from fastnn.autograd.grad_mode import is_grad_enabled
from fastnn.ops import reductions
from fastnn.ops.broadcast import floating
from fastnn.tensor import Tensor

_swap = lambda a: np.swapaxes(a, -1, -2)  # noqa: E731


def _square(a, op):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"linalg.{op}: A must be batches of square matrices, but they are "
                           f"{a.shape[-2] if a.ndim >= 2 else a.shape[-1]} by {a.shape[-1]} "
                           "matrices")


class Inv(Function):
    backward_name = "LinalgInvExBackward0"

    @staticmethod
    def forward(ctx, a):
        try:
            out = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise LinAlgError("linalg.inv: The diagonal element 1 is zero, the inversion "
                               "could not be completed because the input matrix is singular.")
        ctx.save_for_backward(out)
        return out.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (inv_a,) = ctx.saved_tensors  # d(A^-1) = -A^-1 dA A^-1
        return -_swap(inv_a) @ g @ _swap(inv_a)


class Det(Function):
    backward_name = "LinalgDetBackward0"

    @staticmethod
    def forward(ctx, a):
        det = np.asarray(np.linalg.det(a), dtype=a.dtype)
        ctx.save_for_backward(a, det)
        return det

    @staticmethod
    def backward(ctx, g):
        a, det = ctx.saved_tensors  # d det(A) / dA = det(A) A^-T (Jacobi's formula)
        return (g * det)[..., None, None] * _swap(np.linalg.pinv(a))


class Solve(Function):
    backward_name = "LinalgSolveExBackward0"

    @staticmethod
    def forward(ctx, a, b):
        x = np.linalg.solve(a, b[..., None] if b.ndim == a.ndim - 1 else b)
        ctx.vector = b.ndim == a.ndim - 1
        x = x[..., 0] if ctx.vector else x
        ctx.save_for_backward(a, x)
        return x.astype(np.result_type(a, b), copy=False)

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors  # A X = B: dB = A^-T G, dA = -dB X^T
        if ctx.vector:
            gb = np.linalg.solve(_swap(a), g[..., None])
            return -gb @ x[..., None, :], gb[..., 0]
        gb = np.linalg.solve(_swap(a), g)
        return -gb @ _swap(x), gb


def inv(A):
    _square(A, "inv")
    return Inv.apply(floating(A))


def det(A):
    _square(A, "det")
    return Det.apply(floating(A))


def slogdet(A):
    _square(A, "slogdet")
    sign, _ = np.linalg.slogdet(A._data)
    d = det(A)
    result = return_types.linalg_slogdet
    return result(Tensor._wrap(sign.astype(A._data.dtype)), (d * Tensor._wrap(sign.astype(
        A._data.dtype))).log())


def solve(A, B, *, left=True):
    if not left:
        raise NotImplementedError("linalg.solve(left=False) is not implemented in fastnn")
    _square(A, "solve")
    return Solve.apply(floating(A), floating(B))


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    if ord == float("inf"):
        return reductions.norm(x, float("inf"), dim, keepdim)
    return reductions.norm(x, ord, dim, keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    if ord != "fro":
        raise NotImplementedError(f"linalg.matrix_norm(ord={ord!r}) is not implemented in "
                                  "fastnn (only 'fro')")
    return reductions.norm(A, 2, dim, keepdim)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """The 2-norm of the flattened input (vectors) or Frobenius norm (matrices) by default."""
    if ord is None or ord == "fro":
        return reductions.norm(A, 2, dim, keepdim)
    if A.ndim == 1 or isinstance(dim, int):
        return vector_norm(A, ord, dim, keepdim)
    return matrix_norm(A, ord, (-2, -1) if dim is None else dim, keepdim)


def _no_grad_factorisation(name, tensors):
    if is_grad_enabled() and any(t.requires_grad for t in tensors):
        raise NotImplementedError(f"fastnn computes linalg.{name} without its gradient; call it "
                                  f"on a detached tensor or under no_grad()")


def _wrap(*arrays):
    return tuple(Tensor._wrap(np.ascontiguousarray(a)) for a in arrays)


def eigh(A, UPLO="L"):
    _square(A, "eigh")
    _no_grad_factorisation("eigh", [A])
    w, v = np.linalg.eigh(A._data, UPLO=UPLO)
    return return_types.linalg_eigh(*_wrap(w, v))


def eigvalsh(A, UPLO="L"):
    return eigh(A, UPLO).eigenvalues


def eig(A):
    """Eigenvalues and eigenvectors as complex tensors, as torch's."""
    _square(A, "eig")
    _no_grad_factorisation("eig", [A])
    w, v = np.linalg.eig(A._data)
    complex_type = np.complex128 if A._data.dtype == np.float64 else np.complex64
    return return_types.linalg_eig(
        *_wrap(w.astype(complex_type), v.astype(complex_type)))


def eigvals(A):
    return eig(A).eigenvalues


def svd(A, full_matrices=True):
    _no_grad_factorisation("svd", [A])
    u, s, vh = np.linalg.svd(A._data, full_matrices=full_matrices)
    return return_types.linalg_svd(*_wrap(u, s, vh))


def svdvals(A):
    _no_grad_factorisation("svdvals", [A])
    return _wrap(np.linalg.svd(A._data, compute_uv=False))[0]


def qr(A, mode="reduced"):
    _no_grad_factorisation("qr", [A])
    q, r = np.linalg.qr(A._data, mode=mode)
    return return_types.linalg_qr(*_wrap(q, r))


def cholesky(A, *, upper=False):
    from fastnn.linalg.triangular import Cholesky
    _square(A, "cholesky")
    return Cholesky.apply(floating(A), upper)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    from fastnn.linalg.triangular import solve_triangular as solve
    return solve(A, B, upper=upper, left=left, unitriangular=unitriangular)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    return Tensor._wrap(np.asarray(np.linalg.matrix_rank(A._data, hermitian=hermitian),
                                   dtype=np.int64))


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    _no_grad_factorisation("pinv", [A])
    return _wrap(np.linalg.pinv(A._data, hermitian=hermitian))[0]


def svd_legacy(input, some=True, compute_uv=True):
    """torch.svd: U, S, V (not V^H), reduced unless some=False."""
    u, s, vh = svd(input, full_matrices=not some)
    if not compute_uv:
        return return_types.svd(u * 0, s, _wrap(_swap(vh._data))[0] * 0)
    return return_types.svd(u, s, _wrap(_swap(vh._data))[0])


def matmul(input, other):
    """linalg.matmul: the @ product."""
    return input @ other


def cross(input, other, *, dim=-1):
    return input.cross(other, dim=dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    return A.diagonal(offset, dim1, dim2)


def matrix_power(A, n):
    return A.matrix_power(n)


def vecdot(x, y, *, dim=-1):
    """sum over `dim` of conj(x) * y (real tensors: x * y)."""
    return (x * y).sum(dim)


def multi_dot(tensors):
    """The product of a chain of matrices; the first may be a vector (a row), the last a
    vector (a column), as torch.linalg.multi_dot."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        end = i in (0, len(tensors) - 1)
        if t.ndim != 2 and not (end and t.ndim == 1):
            where = "first" if i == 0 else "last" if i == len(tensors) - 1 else None
            if where:
                raise RuntimeError(f"multi_dot(): the {where} tensor must be 1D or 2D but got "
                                   f"{t.ndim}D")
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    out = tensors[0]
    for t in tensors[1:]:
        out = out @ t
    return out


from fastnn.linalg.extras import (LinAlgError, cholesky_ex, cond, inv_ex, lstsq,  # noqa: E402,F401
                                  matrix_exp, solve_ex, vander)
from fastnn.linalg.lu import (lu, lu_factor, lu_factor_ex, lu_solve,  # noqa: E402,F401
                              tensorinv, tensorsolve)
