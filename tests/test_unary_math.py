"""sin, cos, tan, asin, acos, atan, sinh, cosh, log2, log10, log1p, expm1, exp2, rsqrt,
reciprocal and erf: values and gradients against torch and finite differences, as functions and
Tensor methods, integer inputs promoted to float."""
import numpy as np
import pytest

import fastnn
from gradcheck import check_op

try:
    import torch
except ImportError:
    torch = None

INSIDE_UNIT = np.array([[-0.8, -0.35, 0.1, 0.45, 0.7]])  # the inverse sine's domain
POSITIVE = np.array([[0.3, 0.9, 1.7, 2.5, 4.0]])
ANY = np.array([[-1.3, -0.4, 0.2, 0.8, 1.1]])
DOMAINS = {"sin": ANY, "cos": ANY, "tan": ANY, "asin": INSIDE_UNIT, "acos": INSIDE_UNIT,
           "atan": ANY, "sinh": ANY, "cosh": ANY, "log2": POSITIVE, "log10": POSITIVE,
           "log1p": POSITIVE - 0.25, "expm1": ANY, "exp2": ANY, "rsqrt": POSITIVE,
           "reciprocal": POSITIVE, "erf": ANY}


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_function_and_gradient(name):
    check_op(getattr(fastnn, name), [DOMAINS[name]],
             torch_fn=getattr(torch, name) if torch is not None else None)


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_method_and_integer_input(name):
    x = fastnn.tensor(DOMAINS[name], dtype=fastnn.float32)
    assert np.array_equal(getattr(x, name)().numpy(), getattr(fastnn, name)(x).numpy())
    out = getattr(fastnn, name)(fastnn.tensor([1, 2]))
    assert out.dtype == fastnn.float32


def test_positional_encoding_as_the_tutorials_write_it():
    position = fastnn.arange(0, 6, dtype=fastnn.float).unsqueeze(1)
    div_term = fastnn.exp(fastnn.arange(0, 4, 2).float() * (-np.log(10000.0) / 4))
    pe = fastnn.zeros(6, 4)
    pe[:, 0::2] = fastnn.sin(position * div_term)
    pe[:, 1::2] = fastnn.cos(position * div_term)
    angles = np.arange(6)[:, None] * np.exp(np.arange(0, 4, 2) * (-np.log(10000.0) / 4))
    np.testing.assert_allclose(pe.numpy()[:, 0::2], np.sin(angles), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(pe.numpy()[:, 1::2], np.cos(angles), rtol=1e-6, atol=1e-7)
