"""fastnn.linalg (values and the gradients of inv, det, slogdet, solve, the norms against torch;
the factorisations' values; their gradient refusal), Poisson and Binomial, AdaptiveAvgPool1d /
AdaptiveMaxPool1d, DataParallel on the CPU, torch.jit's decorators and the constants."""
import math

import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn.distributions import Binomial, Poisson
from gradcheck import check_op

try:
    import torch
except ImportError:
    torch = None

A = np.array([[2.0, 0.5, 0.1], [0.3, 1.5, -0.4], [0.2, -0.1, 1.2]])
B = np.array([[1.0, -2.0], [0.5, 0.3], [2.0, 1.0]])

CASES = {
    "inv": (lambda T, a: T.linalg.inv(a), [A]),
    "det": (lambda T, a: T.linalg.det(a), [A]),
    "det_batched": (lambda T, a: T.det(T.stack([a, a * 2])), [A]),
    "inverse_method": (lambda T, a: a.inverse(), [A]),
    "slogdet": (lambda T, a: T.linalg.slogdet(a)[1], [A]),
    "solve_matrix": (lambda T, a, b: T.linalg.solve(a, b), [A, B]),
    "solve_vector": (lambda T, a, b: T.linalg.solve(a, b[:, 0]), [A, B]),
    "norm": (lambda T, a: T.linalg.norm(a), [A]),
    "vector_norm_dim": (lambda T, a: T.linalg.vector_norm(a, 2, dim=1), [A]),
    "matrix_norm": (lambda T, a: T.linalg.matrix_norm(a), [A]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_differentiable(name):
    fn, arrays = CASES[name]
    check_op(lambda *t: fn(fastnn, *t), arrays, rtol=3e-2,
             torch_fn=(lambda *t: fn(torch, *t)) if torch is not None else None)


def test_factorisations():
    sym = A @ A.T
    w, v = fastnn.linalg.eigh(fastnn.tensor(sym))
    np.testing.assert_allclose((v.numpy() * w.numpy()) @ v.numpy().T, sym, rtol=1e-5,
                               atol=1e-5)
    u, s, vh = fastnn.linalg.svd(fastnn.tensor(B), full_matrices=False)
    np.testing.assert_allclose((u.numpy() * s.numpy()) @ vh.numpy(), B, atol=1e-5)
    q, r = fastnn.linalg.qr(fastnn.tensor(B))
    np.testing.assert_allclose(q.numpy() @ r.numpy(), B, atol=1e-5)
    low = fastnn.linalg.cholesky(fastnn.tensor(sym)).numpy()
    np.testing.assert_allclose(low @ low.T, sym, rtol=1e-5, atol=1e-5)
    values = fastnn.linalg.eig(fastnn.tensor(A, dtype=fastnn.float32)).eigenvalues
    assert values.numpy().dtype == np.complex64
    with pytest.raises(NotImplementedError, match="without its gradient"):
        fastnn.linalg.svd(fastnn.tensor(B, requires_grad=True))
    with pytest.raises(RuntimeError, match="not positive-definite"):
        fastnn.linalg.cholesky(fastnn.tensor(-sym))
    with pytest.raises(RuntimeError, match="must be batches of square matrices"):
        fastnn.linalg.inv(fastnn.tensor(B))


@pytest.mark.skipif(torch is None, reason="torch is not installed")
def test_poisson_and_binomial_match_torch():
    rate, k = [0.5, 2.0, 7.0], [0.0, 3.0, 5.0]
    np.testing.assert_allclose(
        Poisson(fastnn.tensor(rate)).log_prob(fastnn.tensor(k)).numpy(),
        torch.distributions.Poisson(torch.tensor(rate)).log_prob(torch.tensor(k)).numpy(),
        rtol=1e-5)
    np.testing.assert_allclose(
        Binomial(10, fastnn.tensor([0.3, 0.9])).log_prob(fastnn.tensor([4.0, 10.0])).numpy(),
        torch.distributions.Binomial(10, torch.tensor([0.3, 0.9])).log_prob(
            torch.tensor([4.0, 10.0])).numpy(), rtol=1e-5)
    fastnn.manual_seed(0)
    draws = Binomial(10, fastnn.tensor([0.3])).sample((4000,)).numpy()
    assert abs(draws.mean() - 3.0) < 0.1 and draws.max() <= 10
    assert abs(Poisson(fastnn.tensor(4.0)).sample((4000,)).numpy().mean() - 4.0) < 0.15


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("name,size", [("AdaptiveAvgPool1d", 3), ("AdaptiveMaxPool1d", 2),
                                       ("AdaptiveAvgPool1d", 5)])
def test_adaptive_1d_pools_match_torch(name, size):
    x = np.random.default_rng(0).standard_normal((2, 3, 7)).astype(np.float32)
    ours, theirs = getattr(nn, name)(size), getattr(torch.nn, name)(size)
    assert repr(ours) == repr(theirs)
    tx, fx = torch.tensor(x, requires_grad=True), fastnn.tensor(x, requires_grad=True)
    (theirs(tx) ** 2).sum().backward()
    (ours(fx) ** 2).sum().backward()
    np.testing.assert_allclose(ours(fastnn.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_data_parallel_calls_the_module_and_keeps_its_names():
    inner = nn.Linear(3, 2)
    wrapped = nn.DataParallel(inner, device_ids=[0])
    x = fastnn.randn(4, 3)
    assert np.array_equal(wrapped(x).detach().numpy(), inner(x).detach().numpy())
    assert [k for k, _ in wrapped.named_parameters()] == ["module.weight", "module.bias"]
    assert wrapped.device_ids == []


def test_jit_decorators_and_constants():
    @fastnn.jit.script
    def double(x):
        return x * 2
    assert double(fastnn.tensor([1.0])).tolist() == [2.0]
    assert fastnn.jit.trace(double, fastnn.zeros(1)) is double
    assert (fastnn.pi, fastnn.e) == (math.pi, math.e)
    assert math.isinf(fastnn.inf) and math.isnan(fastnn.nan)
