"""Sparse COO tensors (torch.sparse_coo_tensor, Tensor.to_sparse), as the graph examples use them.

pytorch/examples' gcn and gat build their adjacency and feature matrices as COO tensors
(to_sparse, sparse_coo_tensor from an edge list, a diagonal scaling to_sparse'd) and multiply
them into dense features with torch.mm / torch.spmm. A sparse tensor here is a Tensor (so
isinstance checks and annotations hold) that stores `indices` (sparse_dim, nnz) int64 and
`values` (nnz, *dense_shape) instead of an array of every element; its `_data` refuses to be
read, so a dense op handed a sparse tensor raises a NotImplementedError naming the op (as
torch's "Could not run 'aten::exp' with arguments from the 'SparseCPU' backend") instead of
computing on a wrong array.

What runs sparse, as torch: coalesce, indices/values, to_dense, transpose/t, neg, abs, casts,
scalar and elementwise products, sparse + sparse, dense + sparse (a dense result), sum,
sparse @ dense and dense @ sparse (dense results; autograd flows to the dense operand).
Gradients with respect to a sparse tensor's own values are not supported: requires_grad on a
sparse tensor is refused with a message saying so.

Indices are bounds-checked when the tensor is made (torch leaves that to an opt-in invariant
check and can then read out of bounds): every later kernel indexes with checked values.
"""
import sys

import numpy as np

from fastnn import dtypes, layouts
from fastnn.tensor import Size, Tensor


def _unsupported(what):
    return NotImplementedError(
        f"Could not run '{what}' with arguments from the 'SparseCPU' backend: fastnn's sparse "
        "COO tensors support coalesce, indices/values, to_dense, transpose, sum, casts, "
        "elementwise products and sums, and products with dense matrices (mm, spmm, matmul, "
        "@). Call .to_dense() first for anything else.")


def _public_caller():
    """The fastnn function the user called (the outermost fastnn frame), for the message."""
    frame = sys._getframe(2)
    while frame.f_back is not None and frame.f_back.f_globals.get(
            "__name__", "").startswith("fastnn"):
        frame = frame.f_back
    return frame.f_code.co_name


class SparseCooTensor(Tensor):
    __slots__ = ("_sp_indices", "_sp_values", "_sp_shape", "_sp_coalesced", "_sp_plans")

    is_sparse = True
    layout = layouts.sparse_coo

    @classmethod
    def _make(cls, indices, values, shape, coalesced):
        """Internal: indices (sparse_dim, nnz) int64 already bounds-checked; values an array
        (nnz, *dense_shape) of a fastnn dtype."""
        t = object.__new__(cls)
        t._sp_indices, t._sp_values = indices, values
        t._sp_shape, t._sp_coalesced = tuple(int(n) for n in shape), bool(coalesced)
        t._sp_plans = None  # the product's sorted entries (fastnn/sparse/ops.py), made once
        t._grad = t._base = t._view_fn = t._hooks = t._post_accumulate_hooks = None
        t.requires_grad = False
        t._node = None
        t._version = [0]
        t._view_version = 0
        t._retains_grad = False
        return t

    # A dense op reads `_data`: name it in torch's words instead of computing on nonsense.
    @property
    def _data(self):
        raise _unsupported(_public_caller())

    # --- description ----------------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._sp_shape)

    def size(self, dim=None):
        return Size(self._sp_shape) if dim is None else self._sp_shape[dim]

    @property
    def ndim(self):
        return len(self._sp_shape)

    def dim(self):
        return len(self._sp_shape)

    def numel(self):
        return int(np.prod(self._sp_shape, dtype=np.int64))

    def __len__(self):
        if not self._sp_shape:
            raise TypeError("len() of a 0-d tensor")
        return self._sp_shape[0]

    @property
    def dtype(self):
        return dtypes.of_array(self._sp_values)

    def is_floating_point(self):
        return self._sp_values.dtype in dtypes.FLOATING_NUMPY

    def sparse_dim(self):
        return self._sp_indices.shape[0]

    def dense_dim(self):
        return self._sp_values.ndim - 1

    def _nnz(self):
        return self._sp_indices.shape[1]

    def is_coalesced(self):
        return self._sp_coalesced

    def is_contiguous(self, memory_format=None):
        return False

    def stride(self, dim=None):
        strides = (0,) * len(self._sp_shape)
        return strides if dim is None else strides[dim]

    def storage_offset(self):
        return 0

    def __repr__(self):
        indices, values = Tensor._wrap(self._sp_indices), Tensor._wrap(self._sp_values)
        text = ("tensor(indices=" + repr(indices).replace("\n", "\n" + " " * 15)
                + ",\n       values=" + repr(values).replace("\n", "\n" + " " * 14) + ",\n")
        # (the values' own repr names a non-default dtype, as torch's does)
        return (text + f"       size={self._sp_shape}, nnz={self._nnz()}, "
                "layout=fastnn.sparse_coo)")

    # --- the parts ------------------------------------------------------------------------
    def indices(self):
        if not self._sp_coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return Tensor._wrap(self._sp_indices)

    def values(self):
        if not self._sp_coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return Tensor._wrap(self._sp_values)

    def _indices(self):
        return Tensor._wrap(self._sp_indices)

    def _values(self):
        return Tensor._wrap(self._sp_values)

    def coalesce(self):
        """Sorted unique indices, duplicates summed (torch keeps explicit zeros, so do we)."""
        if self._sp_coalesced:
            return self
        indices, values = _coalesce(self._sp_indices, self._sp_values,
                                    self._sp_shape[:self.sparse_dim()])
        return SparseCooTensor._make(indices, values, self._sp_shape, True)

    def to_dense(self, dtype=None, *, masked_grad=None):
        out = np.zeros(self._sp_shape, dtype=self._sp_values.dtype)
        if self._nnz():
            np.add.at(out, tuple(self._sp_indices), self._sp_values)
        result = Tensor._wrap(out)
        return result if dtype is None else result._cast(dtype)

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        if sparse_dim is not None and sparse_dim != self.sparse_dim():
            raise RuntimeError(f"to_sparse: conversion from Sparse to Sparse with sparse_dim "
                               f"argument !=self.sparse_dim() is not supported")
        return self

    to_sparse_coo = to_sparse

    def numpy(self, force=False):
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() "
                        "first.")

    def __array__(self, dtype=None, copy=None):
        self.numpy()

    def item(self):
        if self.numel() != 1:
            raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted to "
                               "Scalar")
        return self.to_dense().item()

    def tolist(self):
        raise _unsupported("tolist")

    def reshape(self, *shape):
        raise RuntimeError("reshape is not implemented for sparse tensors")

    # --- autograd: not for the sparse operand itself --------------------------------------
    def requires_grad_(self, requires_grad=True):
        if requires_grad:
            raise NotImplementedError(
                "fastnn: sparse tensors cannot require grad (gradients with respect to a sparse "
                "tensor's values are not supported); gradients do flow to the dense operand of "
                "a sparse @ dense product")
        return self

    def detach(self):
        return self

    def clone(self, memory_format=None):
        return SparseCooTensor._make(self._sp_indices.copy(), self._sp_values.copy(),
                                     self._sp_shape, self._sp_coalesced)

    # --- casts and devices ----------------------------------------------------------------
    def _cast(self, dtype):
        target = dtypes.to_dtype(dtype)
        if self._sp_values.dtype == target.numpy:
            return self
        return SparseCooTensor._make(self._sp_indices, dtypes.as_array(self._sp_values, target),
                                     self._sp_shape, self._sp_coalesced)

    def cpu(self, memory_format=None):
        return self

    # --- shape ----------------------------------------------------------------------------
    def transpose(self, dim0, dim1):
        nd = self.sparse_dim()
        d0, d1 = (d + self.ndim if d < 0 else d for d in (dim0, dim1))
        if d0 >= nd or d1 >= nd:
            raise _unsupported("transpose of a dense dimension")
        order = list(range(nd))
        order[d0], order[d1] = order[d1], order[d0]
        shape = list(self._sp_shape)
        shape[d0], shape[d1] = shape[d1], shape[d0]
        return SparseCooTensor._make(self._sp_indices[order], self._sp_values, shape,
                                     self._sp_coalesced and d0 == d1)

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, "
                               f"but got {self.sparse_dim()} sparse and {self.dense_dim()} "
                               f"dense dimensions")
        return self.transpose(0, 1) if self.ndim == 2 else self

    @property
    def T(self):
        return self.t()

    # --- arithmetic: fastnn/sparse/arithmetic.py ------------------------------------------
    def _with_values(self, values, coalesced=None):
        return SparseCooTensor._make(self._sp_indices, values, self._sp_shape,
                                     self._sp_coalesced if coalesced is None else coalesced)

    def neg(self):
        return self._with_values(-self._sp_values)

    __neg__ = negative = neg

    def abs(self):
        return self._with_values(np.abs(self._sp_values))

    def relu(self):
        return self._with_values(np.maximum(self._sp_values, 0).astype(self._sp_values.dtype))


def _coalesce(indices, values, sparse_shape):
    """Row-major sorted unique indices and the summed values of each."""
    if indices.shape[1] == 0:
        return indices, values
    linear = np.ravel_multi_index(tuple(indices), sparse_shape)
    order = np.argsort(linear, kind="stable")
    linear, values = linear[order], values[order]
    starts = np.flatnonzero(np.concatenate(([True], linear[1:] != linear[:-1])))
    summed = np.add.reduceat(values, starts, axis=0).astype(values.dtype, copy=False)
    unique = np.array(np.unravel_index(linear[starts], sparse_shape), dtype=np.int64)
    return unique.reshape(len(sparse_shape), -1), summed
