"""select, narrow, unbind, triu, tril, addmm, addmv, baddbmm and lerp: values and gradients
against torch and finite differences, and torch's errors."""
import numpy as np
import pytest

import fastnn
from gradcheck import check_op

try:
    import torch
except ImportError:
    torch = None

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4, 5))
M = RNG.standard_normal((4, 5))

# name -> (a function of (module, *tensors) that both torch and fastnn run, its inputs)
CASES = {
    "select": (lambda T, x: T.select(x, 1, -2), [A]),
    "select_method": (lambda T, x: x.select(0, 2), [A]),
    "narrow": (lambda T, x: T.narrow(x, 2, 1, 3), [A]),
    "narrow_negative_start": (lambda T, x: x.narrow(-1, -3, 2), [A]),
    "unbind": (lambda T, x: T.stack(T.unbind(x, 1), 0), [A]),
    "unbind_method": (lambda T, x: T.stack(x.unbind(), 2), [A]),
    "triu": (lambda T, x: T.triu(x, 1), [A]),
    "tril": (lambda T, x: x.tril(-1), [A]),
    "addmm": (lambda T, i, x, y: T.addmm(i, x, y.T, beta=0.5, alpha=2), [M[0, :4], M, M]),
    "addmm_beta0": (lambda T, i, x, y: T.addmm(i, x, y.T, beta=0), [M[0, :4], M, M]),
    "baddbmm": (lambda T, i, x: T.baddbmm(i, x, x.transpose(1, 2), alpha=0.3),
                [A[:, :1, :4], A]),
    "addmv": (lambda T, i, x, v: T.addmv(i, x, v), [M[:, 0], M, M[0]]),
    "lerp": (lambda T, x, y: T.lerp(x, y, 0.3), [M, M[::-1]]),
    "lerp_tensor_weight": (lambda T, x, y, w: x.lerp(y, w), [M, M[::-1], M[:1] * 0 + 0.2]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_and_backward(name):
    fn, arrays = CASES[name]
    check_op(lambda *t: fn(fastnn, *t), arrays,
             torch_fn=(lambda *t: fn(torch, *t)) if torch is not None else None)


def test_addmm_beta0_ignores_nan_input():
    out = fastnn.addmm(fastnn.full((2, 2), float("nan")), fastnn.eye(2), fastnn.ones(2, 2),
                       beta=0)
    assert out.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_unbind_returns_views_of_each_slice():
    x = fastnn.arange(6.0).reshape(2, 3)
    rows = x.unbind()
    assert isinstance(rows, tuple) and [r.tolist() for r in rows] == [[0, 1, 2], [3, 4, 5]]
    assert [c.tolist() for c in fastnn.unbind(x, 1)] == [[0, 3], [1, 4], [2, 5]]


@pytest.mark.parametrize("call,error,message", [
    (lambda: fastnn.select(fastnn.zeros(3, 4), 0, 5), IndexError,
     r"select\(\): index 5 out of range for tensor of size \[3, 4\] at dimension 0"),
    (lambda: fastnn.narrow(fastnn.zeros(3, 4), 1, 3, 2), RuntimeError,
     r"start \(3\) \+ length \(2\) exceeds dimension size \(4\)."),
    (lambda: fastnn.narrow(fastnn.zeros(3, 4), 1, -6, 1), IndexError,
     r"start out of range \(expected to be in range of \[-4, 4\], but got -6\)"),
    (lambda: fastnn.triu(fastnn.zeros(3)), RuntimeError,
     "triu: input tensor must have at least 2 dimensions"),
])
def test_errors_are_torchs(call, error, message):
    with pytest.raises(error, match=message):
        call()
