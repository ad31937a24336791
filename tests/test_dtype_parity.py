"""Result dtypes and values as torch's where NumPy's rules differ: float32 with int64 stays
float32 (maximum, minimum, where, fmax, xlogy, logaddexp), integer fmod and pow stay integers
(a negative integer power is 0, 1 or -1), sign of a bool is the bool, square of a bool is int64,
nan_to_num and nansum leave integers alone; gcd, lcm, nextafter, i0 and angle exist."""
import numpy as np
import pytest

import fastnn

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional peer
    torch = None

RNG = np.random.default_rng(0)
ARRAYS = {"f32": RNG.standard_normal((3, 4)).astype(np.float32),
          "i64": RNG.integers(-5, 5, (3, 4)).astype(np.int64),
          "bool": RNG.random((3, 4)) > 0.5}
CASES = [("maximum", "f32", "i64"), ("maximum", "i64", "f32"), ("minimum", "f32", "i64"),
         ("minimum", "bool", "f32"), ("minimum", "bool", "i64"), ("fmax", "f32", "i64"),
         ("fmin", "i64", "f32"), ("xlogy", "f32", "i64"), ("logaddexp", "i64", "f32"),
         ("fmod", "i64", "i64"), ("pow", "i64", "i64"), ("copysign", "i64", "i64"),
         ("copysign", "bool", "f32"), ("sign", "bool", None), ("sgn", "bool", None),
         ("square", "bool", None), ("nan_to_num", "i64", None), ("nansum", "i64", None),
         ("nansum", "bool", None), ("gcd", "i64", "i64"), ("lcm", "i64", "i64"),
         ("nextafter", "f32", "f32"), ("i0", "f32", None), ("angle", "f32", None)]


def _call(lib, name, a, b):
    args = [lib.from_numpy(ARRAYS[a].copy())]
    if b is not None:
        other = ARRAYS[b].copy()
        if name in ("fmod", "gcd", "lcm"):
            other = np.where(other == 0, 3, other)  # (no division by zero)
        args.append(lib.from_numpy(other))
    return getattr(lib, name)(*args)


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize("name,a,b", CASES)
def test_result_dtype_and_values_match_torch(name, a, b):
    mine, theirs = _call(fastnn, name, a, b), _call(torch, name, a, b)
    assert str(mine.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert tuple(mine.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(mine.numpy().astype(np.float64),
                               theirs.numpy().astype(np.float64), rtol=1e-6, atol=1e-6)


def test_without_torch_the_rules_hold():
    f32, i64 = fastnn.ones(2), fastnn.tensor([1, 2])
    assert fastnn.maximum(f32, i64).dtype == fastnn.float32
    assert fastnn.where(fastnn.tensor([True, False]), f32, i64).dtype == fastnn.float32
    powers = fastnn.tensor([2, 1, -1, -1, 3]) ** fastnn.tensor([-1, -2, -3, -2, 2])
    assert powers.tolist() == [0, 1, -1, 1, 9] and powers.dtype == fastnn.int64
    assert fastnn.fmod(fastnn.tensor([5, -5]), fastnn.tensor([3, 3])).tolist() == [2, -2]
    assert fastnn.sign(fastnn.tensor([True, False])).dtype == fastnn.bool
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    fastnn.minimum(x, fastnn.tensor([2.0, 2.0])).sum().backward()
    assert x.grad.tolist() == [1.0, 0.5]  # ties split, as torch.minimum


def test_shifts_one_argument_where_cumsum_dtype_and_integer_rpow():
    assert (fastnn.tensor([True, False]) << 1).tolist() == [2, 0]
    assert (fastnn.tensor([1, -4]) >> 1).tolist() == [0, -2]
    assert (1 << fastnn.tensor([1, 2])).tolist() == [2, 4]
    assert fastnn.bitwise_left_shift(fastnn.tensor([1, 2]), fastnn.tensor([1, 2])).tolist() == [2, 8]
    rows, cols = fastnn.where(fastnn.tensor([[True, False], [False, True]]))
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 1]
    summed = fastnn.tensor([1, 2]).cumsum(0, dtype=fastnn.float32)
    assert summed.dtype == fastnn.float32 and summed.tolist() == [1.0, 3.0]
    assert (2 ** fastnn.tensor([-1, 2, 0])).tolist() == [0, 4, 1]
