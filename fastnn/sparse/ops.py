"""What runs on sparse COO tensors: construction, products with dense matrices, sums.

The product S @ D gathers D's rows at S's column indices, scales them by S's values and sums
the runs of equal row index (np.add.reduceat over the row-sorted entries): O(nnz * N) work and
memory, never the M x K dense matrix. The dense operand's gradient is the transposed product
S^T @ G, whose column-sorted entries are kept with the row-sorted ones on the tensor.
"""
import numpy as np

from fastnn import dtypes
from fastnn.autograd.function import Function
from fastnn.sparse.coo import SparseCooTensor, _coalesce
from fastnn.tensor import Tensor


def is_sparse(x):
    return isinstance(x, SparseCooTensor)


# --- construction -----------------------------------------------------------------------------
def _index_array(indices):
    array = np.asarray(indices._data if isinstance(indices, Tensor) else indices)
    if array.dtype.kind not in "iu":
        raise RuntimeError(f"indices must be an int64 tensor")
    if array.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(array.shape)}")
    return array.astype(np.int64)


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, pin_memory=False,
                      requires_grad=False, check_invariants=None, is_coalesced=None):
    """torch.sparse_coo_tensor. Indices are always checked against `size` (torch checks only
    with check_invariants=True; an unchecked index would be an out-of-bounds write later)."""
    from fastnn.device import check_device
    if device is not None:
        check_device(device)
    index = _index_array(indices)
    value_array = values._data if isinstance(values, Tensor) else dtypes.as_array(values)
    if value_array.ndim == 0:
        raise RuntimeError("values has incorrect size, expected at least 1 dimension")
    value_array = np.array(value_array, copy=True)
    if dtype is not None:
        value_array = dtypes.as_array(value_array, dtypes.to_dtype(dtype))
    elif value_array.dtype.kind == "f" and not isinstance(values, Tensor):
        value_array = value_array.astype(dtypes.get_default_dtype().numpy)
    sparse_dim, nnz = index.shape
    if value_array.shape[0] != nnz:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: "
                           f"{nnz}, nnz from values: {value_array.shape[0]}")
    dense_shape = value_array.shape[1:]
    if nnz and index.min() < 0:
        dim = int(np.argmax((index < 0).any(axis=1)))
        raise RuntimeError(f"found negative index {int(index[dim].min())} for dim {dim}")
    if size is None:
        sparse_shape = tuple(int(r.max()) + 1 if nnz else 0 for r in index)
        shape = sparse_shape + tuple(dense_shape)
    else:
        shape = tuple(int(n) for n in size)
        if len(shape) != sparse_dim + len(dense_shape):
            raise RuntimeError(f"number of dimensions must be sparse_dim ({sparse_dim}) + "
                               f"dense_dim ({len(dense_shape)}), but got {len(shape)}")
        if tuple(shape[sparse_dim:]) != tuple(dense_shape):
            raise RuntimeError(f"values has incorrect size, expected "
                               f"{[nnz] + list(shape[sparse_dim:])}, got "
                               f"{list(value_array.shape)}")
        for dim in range(sparse_dim):
            if nnz and index[dim].max() >= shape[dim]:
                raise RuntimeError(f"size is inconsistent with indices: for dim {dim}, size is "
                                   f"{shape[dim]} but found index {int(index[dim].max())}")
    out = SparseCooTensor._make(index, value_array, shape, nnz <= 1)
    if is_coalesced:  # (torch trusts the flag; sorting here keeps indices() honest)
        out = out.coalesce()
    if requires_grad:
        out.requires_grad_(True)
    return out


def to_sparse(x, sparse_dim=None):
    """Tensor.to_sparse: the non-zero entries (of the first sparse_dim dimensions) as COO."""
    data = x._data
    nd = data.ndim if sparse_dim is None else int(sparse_dim)
    if not 0 < nd <= data.ndim:
        raise RuntimeError(f"sparse_dim must be in [1, {data.ndim}], but got {sparse_dim}")
    mask = data != 0
    if nd < data.ndim:
        mask = mask.reshape(data.shape[:nd] + (-1,)).any(axis=-1)
    index = np.array(np.nonzero(mask), dtype=np.int64).reshape(nd, -1)
    values = np.ascontiguousarray(data[tuple(index)])
    return SparseCooTensor._make(index, values, data.shape, True)


# --- products -----------------------------------------------------------------------------------
class _Plan:
    """The entries of a 2-D sparse matrix sorted by output row, with the start of each row's
    run: made once per tensor and direction (a GCN multiplies the same adjacency every step;
    sorting it each time was a third of the product's time)."""
    __slots__ = ("rows", "cols", "vals", "starts", "n_rows")

    def __init__(self, rows, cols, vals, n_rows):
        if rows.size > 1 and not (rows[1:] >= rows[:-1]).all():
            order = np.argsort(rows, kind="stable")
            rows, cols, vals = rows[order], cols[order], vals[order]
        self.rows, self.cols, self.vals, self.n_rows = rows, cols, vals, n_rows
        self.starts = np.flatnonzero(np.concatenate(([True], rows[1:] != rows[:-1]))) \
            if rows.size else rows

    def times(self, dense):
        """sum_k vals[k] * dense[cols[k]] into out[rows[k]]."""
        out = np.zeros((self.n_rows,) + dense.shape[1:], dtype=dense.dtype)
        if self.rows.size:
            scaled = dense[self.cols] * self.vals.reshape((-1,) + (1,) * (dense.ndim - 1))
            out[self.rows[self.starts]] = np.add.reduceat(scaled, self.starts, axis=0)
        return out


def _plans(sparse):
    """(S's plan, S^T's plan), cached on the tensor (its indices and values do not change:
    fastnn has no in-place ops on sparse tensors)."""
    if sparse._sp_plans is None:
        rows, cols = sparse._sp_indices
        m, k = sparse._sp_shape
        values = sparse._sp_values
        sparse._sp_plans = (_Plan(rows, cols, values, m), _Plan(cols, rows, values, k))
    return sparse._sp_plans


class SparseDenseMM(Function):
    """S @ D for a sparse 2-D S, given as its two plans, and a dense 1-D or 2-D D."""

    @staticmethod
    def forward(ctx, dense, plan, transposed_plan):
        ctx.backward_name = "MmBackward0"
        ctx.transposed_plan = transposed_plan
        return plan.times(dense)

    @staticmethod
    def backward(ctx, g):
        return ctx.transposed_plan.times(g), None, None


def _check_mm(sparse, dense, sparse_first):
    if sparse.sparse_dim() != 2 or sparse.dense_dim() != 0:
        raise RuntimeError(f"addmm: matrices expected, got {sparse.sparse_dim()}D sparse and "
                           f"{sparse.dense_dim()}D dense dimensions")
    if dense.ndim not in (1, 2) or (dense.ndim == 1 and not sparse_first):
        raise RuntimeError(f"addmm: matrices expected, got {sparse.ndim}D, {dense.ndim}D "
                           "tensors")
    m, k = sparse.shape
    inner = k if sparse_first else m
    if dense.shape[0 if sparse_first else -1] != inner:
        a, b = ((m, k), tuple(dense.shape)) if sparse_first else (tuple(dense.shape), (m, k))
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a[0]}x{a[-1]} and "
                           f"{b[0]}x{b[-1]})")
    if dense.dtype != sparse.dtype:
        raise RuntimeError(f"expected mat1 and mat2 to have the same dtype, but got: "
                           f"{sparse.dtype.c_type} != {dense.dtype.c_type}")


def matmul(a, b):
    """sparse @ dense and dense @ sparse (dense results), sparse @ sparse (sparse)."""
    if is_sparse(a) and is_sparse(b):
        return to_sparse(matmul(a, b.to_dense()))
    if is_sparse(a):
        _check_mm(a, b, True)
        return SparseDenseMM.apply(b, *_plans(a))
    _check_mm(b, a, False)
    # D @ S = (S^T @ D^T)^T: the same kernel with the plans exchanged
    plan, transposed = _plans(b)
    return SparseDenseMM.apply(a.t(), transposed, plan).t()


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """torch.sparse.addmm / torch.addmm with a sparse mat1: beta * input + alpha * mat1 @ mat2."""
    from fastnn.ops.arithmetic import add, mul
    product = matmul(mat1, mat2)
    if alpha != 1:
        product = mul(product, alpha)
    base = input.to_dense() if is_sparse(input) else input
    return add(mul(base, beta) if beta != 1 else base, product)


# --- elementwise ------------------------------------------------------------------------------
def _promoted(x, target):
    return x._cast(target) if x.dtype is not target else x


def add(a, b, alpha=1):
    """dense + sparse -> dense; sparse + sparse -> sparse (entries concatenated, uncoalesced,
    as torch's); sparse + dense is refused with torch's message."""
    from fastnn.ops import arithmetic
    if is_sparse(a) and not is_sparse(b):
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                           "instead.")
    if not is_sparse(a):
        return arithmetic.add(a, b.to_dense(), alpha=alpha)
    if a.shape != b.shape:
        raise RuntimeError(f"add: expected 'self' and 'other' to have same size, but self has "
                           f"size {list(a.shape)} while other has size {list(b.shape)} (FYI: "
                           "dense-sparse addition not supported with broadcasting)")
    target = dtypes.promote_types(a.dtype, b.dtype)
    a, b = _promoted(a, target), _promoted(b, target)
    vb = b._sp_values if alpha == 1 else (b._sp_values * alpha).astype(target.numpy)
    return SparseCooTensor._make(np.concatenate([a._sp_indices, b._sp_indices], axis=1),
                                 np.concatenate([a._sp_values, vb]), a._sp_shape, False)


def mul(a, b):
    """sparse * number, sparse * dense of the same shape, sparse * sparse: sparse results."""
    if not is_sparse(a):
        a, b = b, a
    if isinstance(b, (bool, int, float)):
        values = a._sp_values * b
        if a._sp_values.dtype.kind == "f" or not isinstance(b, float):
            values = values.astype(a._sp_values.dtype)
        else:
            values = values.astype(dtypes.get_default_dtype().numpy)
        return a._with_values(values)
    if a.shape != b.shape:
        raise RuntimeError(f"mul operands have incompatible sizes: {list(a.shape)} and "
                           f"{list(b.shape)}")
    target = dtypes.promote_types(a.dtype, b.dtype)
    a = _promoted(a, target).coalesce()
    if not is_sparse(b):
        picked = _promoted(b.detach(), target)._data[tuple(a._sp_indices)]
        return a._with_values(a._sp_values * picked)
    b = _promoted(b, target).coalesce()
    keys = a._sp_shape[:a.sparse_dim()]
    la = np.ravel_multi_index(tuple(a._sp_indices), keys)
    lb = np.ravel_multi_index(tuple(b._sp_indices), keys)
    common, ia, ib = np.intersect1d(la, lb, assume_unique=True, return_indices=True)
    return SparseCooTensor._make(a._sp_indices[:, ia], a._sp_values[ia] * b._sp_values[ib],
                                 a._sp_shape, True)


def sub(a, b, alpha=1):
    if is_sparse(a) and not is_sparse(b):
        raise RuntimeError("sub(sparse, dense) is not supported. Use sub(dense, sparse) "
                           "instead.")
    return add(a, b.neg(), alpha)


def div(a, b):
    if not is_sparse(a) or not isinstance(b, (bool, int, float)):
        raise RuntimeError("Sparse division requires a scalar or zero-dim dense tensor "
                           "divisor (got a tensor)")
    values = a._sp_values / b
    if a._sp_values.dtype.kind == "f":
        values = values.astype(a._sp_values.dtype)
    else:
        values = values.astype(dtypes.get_default_dtype().numpy)
    return a._with_values(values)


def sum(x, dim=None, keepdim=False, dtype=None):
    """All entries -> a 0-d dense tensor; some sparse dimensions -> a sparse tensor of the rest
    (a dense one when no sparse dimension is left), as torch.sparse.sum."""
    if dtype is not None:
        x = x._cast(dtype)
    if keepdim:
        raise _unsupported_keepdim()
    values = x._sp_values
    if values.dtype.kind in "biu":
        values = values.astype(np.int64)
    if dim is None:
        return Tensor._wrap(np.asarray(values.sum(), dtype=values.dtype))
    dims = sorted({d % x.ndim for d in ((dim,) if isinstance(dim, int) else dim)})
    nd = x.sparse_dim()
    dense_axes = tuple(d - nd + 1 for d in dims if d >= nd)
    if dense_axes:
        values = values.sum(axis=dense_axes)
    keep = [d for d in range(nd) if d not in dims]
    shape = tuple(n for d, n in enumerate(x._sp_shape) if d not in dims)
    if not keep:
        return Tensor._wrap(np.asarray(values.sum(axis=0), dtype=values.dtype))
    indices, values = _coalesce(x._sp_indices[keep], values, shape[:len(keep)])
    return SparseCooTensor._make(indices, values, shape, True)


def _unsupported_keepdim():
    return RuntimeError("sum(sparse, keepdim=True) is not supported; use to_dense().sum(...)")
