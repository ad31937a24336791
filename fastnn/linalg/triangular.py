"""linalg.cholesky and linalg.solve_triangular with gradients, what a MultivariateNormal with a
learned covariance needs.

Cholesky's adjoint (Murray 2016, "Differentiation of the Cholesky decomposition"): with
P = Phi(L^T Lbar), Phi taking the lower triangle and halving the diagonal, the gradient of A is
the symmetric part of L^-T P L^-1. A triangular solve X = A^-1 B has B's gradient A^-T G and A's
-(A^-T G) X^T, kept to A's triangle (the other entries are not read)."""
import numpy as np

from fastnn.autograd.function import Function

_swap = lambda a: np.swapaxes(a, -1, -2)  # noqa: E731


class Cholesky(Function):
    backward_name = "LinalgCholeskyExBackward0"

    @staticmethod
    def forward(ctx, a, upper):
        try:
            low = np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            from fastnn.linalg.extras import LinAlgError, first_failing_minor
            raise LinAlgError("linalg.cholesky: The factorization could not be completed "
                              "because the input is not positive-definite (the leading minor "
                              f"of order {first_failing_minor(a)} is not positive-definite)."
                              ) from None
        ctx.save_for_backward(low)
        ctx.upper = upper
        return np.ascontiguousarray(_swap(low) if upper else low)

    @staticmethod
    def backward(ctx, g):
        (low,) = ctx.saved_tensors
        g_low = np.tril(_swap(g) if ctx.upper else g)
        phi = np.tril(_swap(low) @ g_low)
        diagonal = np.einsum("...ii->...i", phi)
        diagonal *= 0.5
        left = np.linalg.solve(_swap(low), phi)                  # L^-T P
        grad = _swap(np.linalg.solve(_swap(low), _swap(left)))   # (L^-T P) L^-1
        return (0.5 * (grad + _swap(grad))).astype(g.dtype, copy=False), None


class SolveTriangular(Function):
    backward_name = "LinalgSolveTriangularBackward0"

    @staticmethod
    def forward(ctx, a, b, upper, unitriangular):
        tri = np.triu(a) if upper else np.tril(a)
        if unitriangular:
            tri = tri.copy()
            np.einsum("...ii->...i", tri)[...] = 1
        x = np.linalg.solve(tri, b)
        ctx.save_for_backward(tri, x)
        ctx.flags = (upper, unitriangular)
        return x.astype(np.result_type(a, b), copy=False)

    @staticmethod
    def backward(ctx, g):
        tri, x = ctx.saved_tensors
        upper, unitriangular = ctx.flags
        gb = np.linalg.solve(_swap(tri), g)
        ga = -gb @ _swap(x)
        ga = np.triu(ga) if upper else np.tril(ga)
        if unitriangular:
            np.einsum("...ii->...i", ga)[...] = 0
        return ga.astype(g.dtype, copy=False), gb.astype(g.dtype, copy=False), None, None


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """torch.linalg.solve_triangular: X with A X = B (left) or X A = B, A triangular."""
    if left:
        return SolveTriangular.apply(A, B, upper, unitriangular)
    # X A = B  <=>  A^T X^T = B^T, with A^T triangular the other way
    return SolveTriangular.apply(A.mT, B.mT, not upper, unitriangular).mT
