"""Binary elementwise ops over every pair of nine dtypes (uint8, int8, int32, int64, bool,
float16, float32, float64, bfloat16), against torch: the result dtype, shape and values. The
sweep found hypot of int8 wrapping around (squares in int8), atan2/copysign/xlogy/ldexp with
float16 or bfloat16 widening to float32/float64, bfloat16 * 2.0 giving float32 (ml_dtypes'
promotion) and pow of int8 by a negative int8 giving int64."""
import itertools

import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")

OPS = ["add", "sub", "mul", "div", "true_divide", "floor_divide", "remainder", "fmod", "pow",
       "maximum", "minimum", "fmax", "fmin", "atan2", "hypot", "eq", "ne", "lt", "le", "gt",
       "ge", "bitwise_and", "bitwise_or", "bitwise_xor", "logical_and", "logical_or",
       "logical_xor", "copysign", "nextafter", "ldexp", "xlogy", "logaddexp", "heaviside",
       "gcd", "lcm", "bitwise_left_shift", "bitwise_right_shift", "float_power", "isclose",
       "where"]
VALUES = {"u8": ([3, 0, 200], "uint8"), "i8": ([-3, 0, 100], "int8"),
          "i32": ([7, -2, 5], "int32"), "i64": ([7, -2, 5], "int64"),
          "b": ([True, False, True], "bool"), "f16": ([1.5, -0.25, 3.0], "float16"),
          "f32": ([1.5, -0.25, 3.0], "float32"), "f64": ([2.5, 0.5, -3.0], "float64"),
          "bf16": ([1.5, -0.25, 3.0], "bfloat16")}


def _make(lib, key):
    values, dtype = VALUES[key]
    return lib.tensor(values, dtype=getattr(lib, dtype))


def _run(lib, op, a, b):
    import warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if op == "where":
                r = lib.where(_make(lib, "b"), _make(lib, a), _make(lib, b))
            else:
                r = getattr(lib, op)(_make(lib, a), _make(lib, b))
    except Exception as exc:
        return ("error", type(exc).__name__)
    values = r.numpy().astype(float) if r.dtype == lib.bool else r.to(lib.float64).numpy()
    return (str(r.dtype).split(".")[-1], tuple(r.shape), values)


@pytest.mark.parametrize("op", OPS)
def test_binary_op_over_dtype_pairs_as_torch(op):
    for a, b in itertools.product(VALUES, VALUES):
        theirs, mine = _run(torch, op, a, b), _run(fastnn, op, a, b)
        if theirs[0] == "error":
            continue
        assert mine[:2] == theirs[:2], (a, b, mine[:2], theirs[:2])
        tolerance = 1e-2 if theirs[0] in ("float16", "bfloat16") else 1e-6
        np.testing.assert_allclose(mine[2], theirs[2], rtol=tolerance, atol=tolerance,
                                   equal_nan=True, err_msg=f"{a} {b}")
