"""Unary ops, reductions and conversions on a tensor of each dtype: the result's dtype and
values, or the error's type and message, equal torch's. Found by this matrix: bfloat16
sigmoid and half-precision var/std rounded at every step (torch computes in float32 and
rounds once); integer softmax, frac and norm, and bool abs, relu, floor/ceil/round/trunc,
argmax and topk gave numbers where torch raises; bitwise_not's error class and dtype name."""
import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int8", "int32", "int64", "float16", "bfloat16", "float32",
          "float64"]
OPS = ["abs", "neg", "exp", "log", "sqrt", "sin", "sigmoid", "tanh", "relu", "sign", "floor",
       "ceil", "round", "trunc", "frac", "reciprocal", "square", "rsqrt", "exp2", "log1p",
       "expm1", "erf", "logical_not", "bitwise_not", "sum", "mean", "prod", "max", "min",
       "argmax", "argmin", "std", "var", "norm", "all", "any", "nonzero", "unique", "float",
       "long"]
CALLS = {"softmax0": lambda lib, x: lib.softmax(x, 0),
         "log_softmax0": lambda lib, x: lib.log_softmax(x, 0),
         "clamp01": lambda lib, x: x.clamp(0, 1), "topk": lambda lib, x: x.topk(2).values,
         "sort": lambda lib, x: x.sort().values, "mul2": lambda lib, x: x * 2,
         "cumsum": lambda lib, x: x.cumsum(0), "cumprod": lambda lib, x: x.cumprod(0)}


def _outcome(lib, dtype, op):
    values = [True, False, True] if dtype == "bool" else [1, 2, 3] if dtype == "uint8" else \
        [1, -2, 3]
    x = lib.tensor(values, dtype=getattr(lib, dtype))
    try:
        result = CALLS[op](lib, x) if op in CALLS else getattr(x, op)()
    except Exception as exc:  # noqa: BLE001 - the error is the outcome compared
        return type(exc).__name__, str(exc)
    return str(result.dtype).split(".")[-1], np.asarray(result.double().tolist())


@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_ops_as_torch(dtype):
    # values within an ulp or two of the dtype (transcendental functions), NaN where torch's is
    rtol = {"float16": 3e-3, "bfloat16": 8e-3}.get(dtype, 1e-6)
    for op in OPS + sorted(CALLS):
        ours, theirs = _outcome(fastnn, dtype, op), _outcome(torch, dtype, op)
        assert ours[0] == theirs[0], (op, ours, theirs)
        if isinstance(theirs[1], str):
            assert ours[1] == theirs[1], op
        else:
            np.testing.assert_allclose(ours[1], theirs[1], rtol=rtol, equal_nan=True,
                                       err_msg=op)
