"""The branch-free where (fastnn/ops/select.py) and the LeakyReLU passes built on arithmetic
(issue 12): the same bits as np.where, NaN payloads and signed zeros included."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn.ops import select as select_module
from fastnn.ops.select import select
from conftest import HAS_TORCH, requires_torch

if HAS_TORCH:
    import torch


def _special(rng, shape, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    flat = x.reshape(-1)
    flat[::97] = np.nan
    flat[1::101] = -0.0
    flat[2::103] = 0.0
    flat[3::107] = np.inf
    flat[4::109] = -np.inf
    return x


def _same_bits(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(np.ascontiguousarray(got).view(np.uint8),
                          np.ascontiguousarray(want).view(np.uint8))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("elements", [10, select_module.SELECT_MIN_ELEMENTS + 3])
def test_select_is_np_where_bit_for_bit(dtype, elements):
    rng = np.random.default_rng(elements)
    shape = (elements // 64 + 1, 64)
    a, b = _special(rng, shape, dtype), _special(rng, shape, dtype)
    c = rng.random(shape) > 0.5
    zero = np.zeros((), dtype)
    for args in [(c, a, b), (c, a, zero), (c, zero, b), (c[:1], a, b), (c, a[:, :1], b),
                 (c[:, 5], a[:, 5], b[:, 5]), (c.T, a.T, b.T), (a > 0, a, b)]:
        _same_bits(select(*args), np.where(*args))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("cond_shape, a_shape, b_shape", [
    ((64, 700), (5, 64, 700), (5, 64, 700)),    # GAT: one adjacency over every head
    ((5, 1, 700), (5, 64, 700), (5, 64, 700)),
    ((5, 64, 700), (64, 700), (5, 64, 700)),    # a broadcast
    ((64, 700), (5, 64, 700), (1, 700)),        # b broadcast too
    ((5, 64, 700), (5, 64, 700), (5, 64, 700))])
def test_select_broadcasts_without_widening_the_condition(cond_shape, a_shape, b_shape, dtype):
    """Conditions and operands of smaller shapes are read broadcast: the same bits as
    np.where, and the result has the full shape."""
    rng = np.random.default_rng(sum(cond_shape))
    condition = rng.random(cond_shape) < 0.3
    a, b = _special(rng, a_shape, dtype), _special(rng, b_shape, dtype)
    _same_bits(select(condition, a, b), np.where(condition, a, b))


def test_python_scalars_keep_numpys_weak_promotion():
    """where(c, float32 array, 0.0) is float32 in NumPy 2 (a Python float is weak); a 0-d
    float64 array would make it float64 (the spatial transformer tutorial's conv then got a
    double input)."""
    n = select_module.SELECT_MIN_ELEMENTS * 2
    c = np.arange(n) % 3 == 0
    a = np.linspace(-1, 1, n, dtype=np.float32)
    for args in [(c, a, 0.0), (c, 1.5, a), (c, a, 2)]:
        _same_bits(select(*args), np.where(*args))
        assert select(*args).dtype == np.float32


def test_select_falls_back_for_mixed_or_integer_dtypes():
    n = select_module.SELECT_MIN_ELEMENTS * 2
    c = np.arange(n) % 3 == 0
    a, b = np.arange(n, dtype=np.int32), np.ones(n, np.float32)
    _same_bits(select(c, a, b), np.where(c, a, b))
    _same_bits(select(c, a, a + 1), np.where(c, a, a + 1))
    _same_bits(select(c, b, b.astype(np.float64)), np.where(c, b, b.astype(np.float64)))


@pytest.mark.parametrize("slope", [0.0, 0.01, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, -0.3])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_leaky_relu_passes_match_the_definition(slope, dtype):
    rng = np.random.default_rng(1)
    x = _special(rng, (70, 600), dtype)
    g = _special(rng, x.shape, dtype)
    s = x.dtype.type(np.float32(slope))
    xt = fastnn.tensor(x, requires_grad=True)
    out = F.leaky_relu(xt, slope)
    out.backward(fastnn.tensor(g))
    _same_bits(out.detach().numpy(), np.where(x > 0, x, x * s).astype(x.dtype))
    _same_bits(xt.grad.numpy(), np.where(x > 0, g, g * s).astype(x.dtype))


@requires_torch
@pytest.mark.parametrize("slope", [0.01, 0.2, 2.0])
def test_leaky_relu_matches_torch_on_special_values(slope):
    rng = np.random.default_rng(2)
    x = _special(rng, (64, 1024), np.float32)
    g = _special(rng, x.shape, np.float32)
    results = []
    for lib in (fastnn, torch):
        t = lib.tensor(x, requires_grad=True)
        out = lib.nn.functional.leaky_relu(t, slope)
        out.backward(lib.tensor(g))
        results.append((out.detach().numpy(), t.grad.numpy()))
    for got, want in zip(*results):
        _same_bits(got, want)


@requires_torch
def test_where_sigmoid_clamp_and_hardtanh_match_torch():
    rng = np.random.default_rng(3)
    x = _special(rng, (64, 1024), np.float32)
    y = _special(rng, x.shape, np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    results = []
    for lib in (fastnn, torch):
        a, b = lib.tensor(x, requires_grad=True), lib.tensor(y, requires_grad=True)
        outs = [lib.where(a > 0.3, a, b), lib.sigmoid(a), lib.clamp(a, -0.5, 0.7),
                lib.nn.functional.hardtanh(b, -0.3, 0.4)]
        sum((o * lib.tensor(g)).sum() for o in outs[:1]).backward()
        grads = [a.grad.numpy().copy(), b.grad.numpy().copy()]
        a.grad = b.grad = None
        for o in outs[1:]:
            o.backward(lib.tensor(g))
        results.append([o.detach().numpy() for o in outs] + grads +
                       [a.grad.numpy(), b.grad.numpy()])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7, equal_nan=True)
