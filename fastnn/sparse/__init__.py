"""torch.sparse: COO tensors and their products with dense matrices (fastnn/sparse/coo.py)."""
from fastnn.sparse.coo import SparseCooTensor  # noqa: F401
from fastnn.sparse.ops import addmm, sparse_coo_tensor, sum  # noqa: F401
from fastnn.sparse.ops import matmul as mm  # noqa: F401
