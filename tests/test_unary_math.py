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


@pytest.mark.parametrize("name, share", [
    ("exp", 0.98), ("log", 0.9), ("tanh", 0.99), ("sigmoid", 0.94), ("sin", 0.93),
    ("cos", 0.93), ("log1p", 0.98), ("expm1", 0.99), ("log2", 0.99), ("log10", 0.99),
    ("sinh", 0.99)])
def test_float32_math_gives_torchs_bits_in_nearly_every_element(name, share):
    # computed in double and rounded once (fastnn/ops/rounded_math.py), as torch's Sleef
    # functions nearly always round; NumPy's float32 loops matched in 55-90%
    torch = pytest.importorskip("torch")
    x = (np.random.default_rng(0).standard_normal(20000) * 5).astype(np.float32)
    if name.startswith("log"):
        x = np.abs(x) + np.float32(1e-3)
    ours = getattr(fastnn, name)(fastnn.from_numpy(x)).numpy()
    theirs = getattr(torch, name)(torch.from_numpy(x)).numpy()
    assert ours.dtype == np.float32
    assert np.mean(ours == theirs) >= share
    np.testing.assert_allclose(ours, theirs, rtol=2.5e-7, atol=0)


def test_exp_prints_as_torchs():
    torch = pytest.importorskip("torch")
    # d2l's first chapter: torch.exp(x) of 0..11 and a 12
    x = [12.0, 10.0, 11.0, 8.0]
    assert str(fastnn.exp(fastnn.tensor(x))).replace("fastnn", "torch") == \
        str(torch.exp(torch.tensor(x)))
