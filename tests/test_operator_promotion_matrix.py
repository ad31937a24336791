"""Every Python operator (+ - * / // % ** < == & | ^ >> <<) between a tensor of each dtype and
a number (2, 2.5, True, -1) on either side, and between tensors of every pair of dtypes (0-d
and 1-d): the result's dtype and values, or the error's type and message, equal torch's.
Found by this matrix: 5 % x and 2 & x had no reflected operator; uint8 x / -1 divided by the
wrapped 255; "rshift_cpu" not implemented for 'Half' (NotImplementedError, torch's kernel and
dtype names); u8 << True widened to int64; bfloat16 ** 2.5 widened to float32; remainder's
signed zeros; bool tensors' floor division, remainder and powers."""
import itertools

import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64"]
OPERATORS = ["+", "-", "*", "/", "//", "%", "**", "<", "==", "&", "|", "^", ">>", "<<"]
NUMBERS = [2, 2.5, True, -1]


def _tensor(lib, dtype, zero_d=False):
    values = [True, False, True] if dtype == "bool" else [1, 2, 3]
    x = lib.tensor(values, dtype=getattr(lib, dtype))
    return x[0] if zero_d else x


def _outcome(expression, scope):
    try:
        result = eval(expression, {}, scope)  # noqa: S307 - expressions built above
    except Exception as exc:  # noqa: BLE001 - the error is the outcome compared
        return type(exc).__name__, str(exc)
    values = np.asarray(result.float().tolist())
    return str(result.dtype).split(".")[-1], values.tobytes()  # signed zeros compared too


@pytest.mark.parametrize("dtype", DTYPES)
def test_tensor_and_number(dtype):
    for op, number, reflected in itertools.product(OPERATORS, NUMBERS, (False, True)):
        expression = f"s {op} x" if reflected else f"x {op} s"
        theirs = _outcome(expression, {"x": _tensor(torch, dtype), "s": number})
        ours = _outcome(expression, {"x": _tensor(fastnn, dtype), "s": number})
        assert ours == theirs, (expression, number)


@pytest.mark.parametrize("left", DTYPES)
def test_tensor_and_tensor(left):
    for right, zero_d, op in itertools.product(DTYPES, (False, True), ["+", "*", "/", "<", "&"]):
        expression = f"a {op} b"
        theirs = _outcome(expression, {"a": _tensor(torch, left),
                                       "b": _tensor(torch, right, zero_d)})
        ours = _outcome(expression, {"a": _tensor(fastnn, left),
                                     "b": _tensor(fastnn, right, zero_d)})
        assert ours == theirs, (left, right, zero_d, op)


@pytest.mark.parametrize("op", ["&=", "|=", "^=", "<<=", ">>=", "%=", "//="])
def test_in_place_operators_write_into_the_tensor(op):
    results = []
    for lib in (torch, fastnn):
        x = lib.tensor([5, 6, 7])
        alias = x
        exec(f"x {op} 3", {}, {"x": x})  # noqa: S102 - fixed statements above
        results.append((alias.tolist(), str(alias.dtype).split(".")[-1]))
    assert results[1] == results[0]
    mask = fastnn.tensor([True, False])
    view = mask
    mask &= fastnn.tensor([False, False])
    assert view.tolist() == [False, False]
