"""torch's top-level linear-algebra names beside torch.linalg: qr, slogdet, logdet, pinverse,
matrix_exp, cholesky, cholesky_solve, cholesky_inverse, triangular_solve, chain_matmul, addr,
adjoint; and the ones torch has removed (eig, symeig, lstsq, solve, matrix_rank), which raise
torch's messages pointing at their torch.linalg replacements. Each is composed from
torch.linalg's functions (fastnn/linalg), so where those have gradients these do too."""
import math
import warnings

from fastnn import linalg, return_types


def qr(input, some=True):
    q, r = linalg.qr(input, mode="reduced" if some else "complete")
    return return_types.qr(q, r)


def slogdet(input):
    sign, logabsdet = linalg.slogdet(input)
    return return_types.slogdet(sign, logabsdet)


def logdet(input):
    """log(det(A)): nan for a negative determinant, -inf for a zero one."""
    from fastnn.ops.elementwise import where
    sign, logabsdet = linalg.slogdet(input)
    return where(sign < 0, math.nan, logabsdet)


def pinverse(input, rcond=1e-15):
    return linalg.pinv(input, rtol=rcond)


def matrix_exp(input):
    return linalg.matrix_exp(input)


def cholesky(input, upper=False):
    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be "
                  "removed in a future PyTorch release.\nL = torch.cholesky(A)\nshould be "
                  "replaced with\nL = torch.linalg.cholesky(A)\nand\nU = torch.cholesky(A, "
                  "upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH",
                  UserWarning, stacklevel=2)
    return linalg.cholesky(input, upper=upper)


def cholesky_solve(input, input2, upper=False):
    """X with A X = B, A = L L^T (or U^T U with upper) given its Cholesky factor input2."""
    factor = input2
    if upper:  # A = U^T U: solve U^T Y = B, then U X = Y
        y = linalg.solve_triangular(factor.mT, input, upper=False)
        return linalg.solve_triangular(factor, y, upper=True)
    y = linalg.solve_triangular(factor, input, upper=False)
    return linalg.solve_triangular(factor.mT, y, upper=True)


def cholesky_inverse(input, upper=False):
    """(L L^T)^-1 (or (U^T U)^-1) from its Cholesky factor."""
    from fastnn.creation import eye
    n = input.shape[-1]
    identity = eye(n, dtype=input.dtype).expand(tuple(input.shape[:-2]) + (n, n))
    return cholesky_solve(identity, input, upper)


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):
    """(solution, cloned_coefficient) of A X = b (A^T X = b with transpose), torch's
    deprecated form of linalg.solve_triangular."""
    coefficient = A.mT if transpose else A
    x = linalg.solve_triangular(coefficient, b, upper=upper != transpose,
                                unitriangular=unitriangular)
    return return_types.structseq("triangular_solve", ["solution", "cloned_coefficient"])(
        x, A.clone())


def chain_matmul(*matrices, out=None):
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch "
                  "release. Use torch.linalg.multi_dot instead, which accepts a list of two or "
                  "more tensors rather than multiple parameters.", UserWarning, stacklevel=2)
    if len(matrices) == 1:
        return matrices[0].clone()
    return linalg.multi_dot(list(matrices))


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * outer(vec1, vec2)."""
    import numpy as np
    from fastnn.ops.linalg import outer
    product = outer(vec1, vec2)
    product = product if alpha == 1 else product * alpha
    if beta == 0:  # input is ignored, nan and inf included (torch's rule)
        shape = np.broadcast_shapes(tuple(input.shape), tuple(product.shape))
        return product.expand(shape).clone()
    return (input if beta == 1 else input * beta) + product


def adjoint(input):
    """The conjugate transpose of the last two dimensions (for real tensors, .mT)."""
    if input.ndim == 0:  # a 0-d tensor is its own adjoint, with torch's warning
        import warnings
        warnings.warn("adjoint() is deprecated on 0-D tensors. Consider using x.conj().",
                      UserWarning, stacklevel=2)
        return input
    if input.ndim < 2:
        raise RuntimeError("tensor.adjoint() is only supported on matrices or batches of "
                           f"matrices. Got {input.ndim}-D tensor.")
    return input.mT


def _removed(name, replacement_message):
    def removed(*args, **kwargs):
        raise RuntimeError("This function was deprecated since version 1.9 and is now removed. "
                           + replacement_message)
    removed.__name__ = name
    return removed


eig = _removed("eig", "`torch.linalg.eig` returns complex tensors of dtype `cfloat` or "
                      "`cdouble` rather than real tensors mimicking complex tensors.")
symeig = _removed("symeig", "The default behavior has changed from using the upper triangular "
                            "portion of the matrix by default to using the lower triangular "
                            "portion.")
lstsq = _removed("lstsq", "`torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n"
                          "`torch.linalg.lstsq` has reversed arguments and does not return the "
                          "QR decomposition in the returned tuple (although it returns other "
                          "information about the problem).")
solve = _removed("solve", "`torch.solve` is deprecated in favor of `torch.linalg.solve`. "
                          "`torch.linalg.solve` has its arguments reversed and does not return "
                          "the LU factorization.")
matrix_rank = _removed("matrix_rank", "\nPlease use the `torch.linalg.matrix_rank` function "
                                      "instead. The parameter 'symmetric' was renamed in "
                                      "`torch.linalg.matrix_rank()` to 'hermitian'.")
