"""Reading and writing through 40 kinds of index (ints, slices, None, Ellipsis, lists, integer
and bool tensors, out-of-range ones) on torch and on fastnn: shapes, dtypes and values, or
errors' types and messages, are equal. Found by this matrix: NumPy's "for axis" and "arrays
used as indices" words, and its broadcast error for x[0] = value of the wrong shape."""
import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")

READS = ["x[0]", "x[-1, 1]", "x[:, 1]", "x[..., 2]", "x[None, 0]", "x[0, None, :, None]",
         "x[T([1, 0])]", "x[T([[0], [1]])]", "x[:, T([2, 0, 2])]", "x[T([0, 1]), T([1, 2])]",
         "x[T([0, 1]), :, T([1, 2])]", "x[x > 10]", "x[T([True, False])]",
         "x[:, T([True, False, True])]", "x[0][x[0] > 2]", "x[1:, ::2, 1:3]", "x[[0, 1]]",
         "x[[0, 1], [1, 2]]", "x[(0, 1)]", "x[T(1)]", "x[T([1])]", "x[2]", "x[0, 3]",
         "x[T([2])]", "x[:, :, :, 0]", "x[T([0.5])]",
         "x[T([[True, False, True], [False, False, True]])]", "x[0, T([1, 1, 2])]", "x[True]",
         "x[False]", "x[None]", "x[0, ..., None]", "x[T([], dtype=lib.long)]", "x[T(0)]",
         "x[T([-1])]", "x[[True, False]]", "x[1:0]", "x[5:]", "x[-10:]", "x[0, 1, 2]",
         "x[T([0, 0]), T([0, 0]), T([0, 3])]"]
WRITES = ["x[0] = 1", "x[:, 1] = T([1., 2., 3., 4.])", "x[x > 10] = 0",
          "x[T([0, 1]), T([1, 2])] = T([7., 8., 9., 10.])", "x[0, :, 0] = T([[1., 2., 3.]])",
          "x[T([0, 0]), 0, 0] = T([1., 2.])", "x[..., 0] = 5", "x[0] = T([1., 2.])",
          "x[1, 2, 3] = T(9)", "x[0] = x[1]", "x[:, :, 1:3] = 0.5", "x[x > 5] = T([1.])",
          "x[T([True, False])] = 3", "x[0, 0] = T([[1., 2., 3., 4.]])",
          "x[0, 0] = T([[[1., 2., 3., 4.]]])", "x[x < 0] = 1", "x[1:] += 1",
          "x[0, T([1, 1])] += 1", "x[:, 1] = T([1., 2.])", "x[0, :, :2] = T([[1.], [2.]])"]


def _scope(lib):
    return {"x": lib.arange(24.0).reshape(2, 3, 4), "T": lib.tensor, "lib": lib}


def _read(lib, expression):
    try:
        r = eval(expression, {}, _scope(lib))  # noqa: S307 - expressions above
    except Exception as exc:  # noqa: BLE001 - the error is the outcome compared
        return type(exc).__name__, str(exc)
    return tuple(r.shape), str(r.dtype).split(".")[-1], np.asarray(r.tolist()).tolist()


def _write(lib, statement):
    scope = _scope(lib)
    try:
        exec(statement, {}, scope)  # noqa: S102 - statements above
    except Exception as exc:  # noqa: BLE001 - the error is the outcome compared
        return type(exc).__name__, str(exc)
    return scope["x"].tolist()


@pytest.mark.parametrize("expression", READS)
def test_reads_as_torch(expression):
    assert _read(fastnn, expression) == _read(torch, expression)


@pytest.mark.parametrize("statement", WRITES)
def test_writes_as_torch(statement):
    assert _write(fastnn, statement) == _write(torch, statement)


def test_a_string_value_is_refused_by_type():
    with pytest.raises(TypeError, match="can't assign a str to a fastnn.FloatTensor"):
        fastnn.zeros(3)[0] = "a"
