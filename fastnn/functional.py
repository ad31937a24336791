"""torch.functional: the module behind some torch-level functions (einsum, split, unique, norm,
meshgrid, ...). Tutorials import it (`import torch.functional as F` in the Building Models
tutorial); it holds the same functions as fastnn's top level. stft, istft, pca_lowrank and
svd_lowrank are not implemented in fastnn."""
import fastnn.nn.functional as F  # noqa: F401  (torch.functional has it as F too)
from fastnn import (atleast_1d, atleast_2d, atleast_3d, block_diag, broadcast_shapes,  # noqa: F401
                    broadcast_tensors, cartesian_prod, cdist, chain_matmul, einsum, lu, meshgrid,
                    norm, split, tensordot, unique, unique_consecutive, unravel_index)

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "broadcast_shapes", "broadcast_tensors",
           "cartesian_prod", "block_diag", "cdist", "chain_matmul", "einsum", "lu", "norm",
           "meshgrid", "split", "tensordot", "unique", "unique_consecutive", "unravel_index"]
