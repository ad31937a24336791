"""Reductions and scans over float32, int64, bool and uint8 inputs with dim / keepdim, against
torch: min(dim) on unsigned integers (it was -max(-x), which wrapped: min of uint8 [1, 0] gave
1) and bools, logsumexp of integers, the 0-norm, nanmedian along a dim, cumprod of small
integers in int64, diff of bools, and the (input, dim, unbiased) overloads of var_mean and
std_mean."""
import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")

OPS = ["sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "std", "var",
       "logsumexp", "norm", "median", "nanmedian", "nansum", "nanmean", "cumsum", "cumprod",
       "all", "any", "count_nonzero", "cummax", "cummin", "std_mean", "var_mean", "aminmax",
       "kthvalue", "sort", "argsort", "topk", "diff", "msort", "logcumsumexp"]
ARRAYS = {"f32": np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]], np.float32),
          "f32nan": np.array([[1.5, np.nan, 3.0], [np.nan, np.nan, -1.0]], np.float32),
          "i64": np.array([[1, -2, 3], [0, 4, -1]]),
          "bool": np.array([[True, False, True], [False, False, True]]),
          "u8": np.array([[1, 2, 3], [0, 4, 1]], np.uint8)}
NEEDS_DIM = {"cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"}


def _run(lib, op, array, args):
    if op in ("kthvalue", "topk"):
        args = (1,) + args
    elif op in NEEDS_DIM and not args:
        args = (0,)
    try:
        r = getattr(lib, op)(lib.tensor(array), *args)
    except Exception as exc:
        return ("error", type(exc).__name__)
    if isinstance(r, tuple):
        r = r[0]
    return (str(r.dtype).split(".")[-1], tuple(r.shape), r.numpy().astype(float))


@pytest.mark.parametrize("op", OPS)
def test_reduction_over_dtypes_as_torch(op):
    for key, array in ARRAYS.items():
        for args in [(), (1,), (0,), (-1, True)]:
            theirs, mine = _run(torch, op, array, args), _run(fastnn, op, array, args)
            if theirs[0] == "error":
                continue  # (fastnn may take more than torch)
            assert mine[:2] == theirs[:2], (key, args)
            np.testing.assert_allclose(mine[2], theirs[2], rtol=1e-5, equal_nan=True,
                                       err_msg=f"{key} {args}")


def test_min_along_dim_of_unsigned_and_its_gradient():
    assert fastnn.tensor([[1, 0]], dtype=fastnn.uint8).min(1).values.tolist() == [0]
    x = fastnn.tensor([[3.0, 1.0, 1.0]], requires_grad=True)
    values, indices = x.min(1)
    values.sum().backward()
    assert indices.tolist() == [1] and x.grad.tolist() == [[0.0, 1.0, 0.0]]
    assert values.grad_fn.name() == "MinBackward0"
