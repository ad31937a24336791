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


def _in_place(lib):
    found = []
    for target, source in (("uint8", "int64"), ("int64", "float32"), ("bool", "int64"),
                           ("float16", "float64"), ("int32", "bool"), ("bfloat16", "float32")):
        x = lib.tensor([3, 0, 2], dtype=getattr(lib, target))
        try:
            x.add_(lib.tensor([1, 2, 255], dtype=getattr(lib, source)))
            found.append((str(x.dtype).split(".")[-1], x.to(lib.float64).tolist()))
        except RuntimeError as exc:
            found.append(str(exc).replace("torch.", "").replace("fastnn.", ""))
    for make in (lambda: lib.ones(2) - lib.tensor([True, False]),
                 lambda: lib.tensor([True]) - lib.tensor([True]),
                 lambda: lib.ones(2).sub_(lib.tensor([True, False])),
                 lambda: lib.sub(lib.ones(2), True)):
        try:
            make()
            found.append("no error")
        except RuntimeError as exc:
            found.append(str(exc))
    return found


def test_in_place_casting_and_bool_subtraction_as_torch():
    mine = _in_place(fastnn)
    assert mine[0] == ("uint8", [4.0, 2.0, 1.0])  # int64 into uint8: allowed, wrapping
    assert mine == _in_place(torch)
