"""A Python number meeting a narrower tensor (fastnn/scalar_range.py): written into it, it
must fit (torch's "value cannot be converted to type int8_t without overflow"); as an integer
operand of arithmetic or a comparison, it wraps into the tensor's dtype (int8 x + 300 adds
44). NumPy would wrap, warn, or raise its own OverflowError."""
import numpy as np
import pytest

import fastnn

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional test peer
    torch = None

DTYPES = ["int8", "uint8", "int16", "int32", "int64", "bool", "float16", "bfloat16",
          "float32", "float64"]
VALUES = [0, -1, 127, 128, -128, -129, 255, 256, -255, -256, 2 ** 31, 2 ** 63 - 1, -2 ** 63,
          127.9, -128.9, -1.0, 255.5, 1e5, 65504.0, 65519.0, 1e39, 1e300, float("inf"),
          float("nan"), True, 2.5]
WRITES = {
    "fill_": lambda lib, d, v: lib.zeros(3, dtype=d).fill_(v),
    "full": lambda lib, d, v: lib.full((3,), v, dtype=d),
    "setitem": lambda lib, d, v: lib.zeros(3, dtype=d).__setitem__(1, v),
    "masked_fill": lambda lib, d, v: lib.zeros(3, dtype=d).masked_fill(
        lib.tensor([True, False, True]), v),
}


def _outcome(make):
    try:
        out = make()
    except RuntimeError as exc:
        return "error", str(exc)
    return "value", None if out is None else np.asarray(out.float().tolist())


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize("write", sorted(WRITES))
@pytest.mark.parametrize("dtype", DTYPES)
def test_written_numbers_overflow_as_in_torch(write, dtype):
    for value in VALUES:
        theirs = _outcome(lambda: WRITES[write](torch, getattr(torch, dtype), value))
        ours = _outcome(lambda: WRITES[write](fastnn, getattr(fastnn, dtype), value))
        assert ours[0] == theirs[0], (value, ours, theirs)
        if ours[0] == "error":
            assert ours[1] == theirs[1]
        elif ours[1] is not None:
            np.testing.assert_array_equal(ours[1], theirs[1])


def test_overflow_messages_name_torchs_cpp_types():
    for dtype, name in (("int8", "int8_t"), ("uint8", "uint8_t"), ("int32", "int"),
                        ("float16", "c10::Half"), ("bfloat16", "c10::BFloat16")):
        with pytest.raises(RuntimeError,
                           match=f"value cannot be converted to type {name} without overflow"):
            fastnn.zeros(2, dtype=getattr(fastnn, dtype)).fill_(1e300)


@pytest.mark.parametrize("expression,expected", [
    ("x + 300", [-112, 41]), ("x - 300", [56, -47]), ("x * 1000", [-96, 72]),
    ("x // 300", [2, -1]), ("x % 300", [12, 41]), ("x < 300", [False, True]),
    ("u + (-1)", [2, 199]), ("u * -2", [250, 112]), ("u - 256", [3, 200]),
    ("300 - x", [-56, 47]), ("x & 300", [36, 44])])
def test_integer_operands_wrap_into_the_tensors_dtype(expression, expected):
    """torch 2.13's results, written out; NumPy 2 raises OverflowError on each."""
    x = fastnn.tensor([100, -3], dtype=fastnn.int8)
    u = fastnn.tensor([3, 200], dtype=fastnn.uint8)
    result = eval(expression)  # noqa: S307 - fixed expressions above
    assert result.tolist() == expected
    if result.dtype != fastnn.bool:
        assert result.dtype == (fastnn.uint8 if "u" in expression else fastnn.int8)


def test_tensor_of_out_of_range_numbers_is_silent_as_torch():
    """torch.tensor([1e300]) is tensor([inf]) and torch.tensor([nan], dtype=int64) the int64
    minimum, with no warning (NumPy warns of the overflow in its cast)."""
    import warnings
    import numpy as np
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fastnn.tensor([1e300]).tolist() == [float("inf")]
        assert fastnn.tensor(np.array([-1e300])).float().tolist() == [float("-inf")]
        assert fastnn.tensor([1e40], dtype=fastnn.float32).tolist() == [float("inf")]
        assert fastnn.tensor([float("nan")], dtype=fastnn.int64).tolist() == [-2 ** 63]
