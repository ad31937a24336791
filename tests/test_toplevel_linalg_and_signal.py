"""torch's top-level linear algebra names (qr, slogdet, logdet, pinverse, matrix_exp,
cholesky, cholesky_solve, cholesky_inverse, triangular_solve, chain_matmul, addr, adjoint), the
removed ones' errors, window functions, trapezoid integration, histogram and frexp: values
against torch, gradients against finite differences (float64)."""
import warnings

import numpy as np
import pytest

import fastnn
from fastnn.autograd import gradcheck

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional peer
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def _spd(n, seed=0):
    a = np.random.default_rng(seed).standard_normal((n, n))
    return a @ a.T + n * np.eye(n)


CASES = {
    "qr_reduced": lambda L, a: tuple(L.qr(a[:, :3])),
    "qr_complete": lambda L, a: tuple(L.qr(a[:, :3], some=False)),
    "slogdet": lambda L, a: tuple(L.slogdet(a)),
    "logdet": lambda L, a: L.logdet(a),
    "logdet_negative": lambda L, a: L.logdet(-a[:3, :3]),
    "pinverse": lambda L, a: L.pinverse(a[:, :3]),
    "matrix_exp": lambda L, a: L.matrix_exp(a / 10),
    "cholesky": lambda L, a: L.cholesky(a),
    "cholesky_upper": lambda L, a: L.cholesky(a, upper=True),
    "cholesky_solve": lambda L, a: L.cholesky_solve(a[:, :2], L.linalg.cholesky(a)),
    "cholesky_solve_upper": lambda L, a: L.cholesky_solve(a[:, :2],
                                                          L.linalg.cholesky(a).mT, upper=True),
    "cholesky_inverse": lambda L, a: L.cholesky_inverse(L.linalg.cholesky(a)),
    "triangular_solve": lambda L, a: tuple(L.triangular_solve(a[:, :2], a.triu())),
    "triangular_solve_lower_t": lambda L, a: tuple(L.triangular_solve(
        a[:, :2], a.tril(), upper=False, transpose=True)),
    "triangular_solve_unit": lambda L, a: tuple(L.triangular_solve(
        a[:, :2], a.triu(), unitriangular=True)),
    "chain_matmul": lambda L, a: L.chain_matmul(a, a.T, a),
    "addr": lambda L, a: L.addr(a[:, :3], a[:, 0], a[0, :3], beta=0.5, alpha=2.0),
    "addr_beta0": lambda L, a: L.addr(a[:, :3] * float("nan"), a[:, 0], a[0, :3], beta=0),
    "adjoint": lambda L, a: a.adjoint(),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_torch(name):
    a = _spd(4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = CASES[name](fastnn, fastnn.tensor(a))
        theirs = CASES[name](torch, torch.tensor(a))
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    for o, t in zip(ours, theirs):
        assert tuple(o.shape) == tuple(t.shape) and str(o.dtype)[7:] == str(t.dtype)[6:]
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-10, atol=1e-10,
                                   equal_nan=True)


@pytest.mark.parametrize("name", ["logdet", "cholesky_solve", "triangular_solve", "addr",
                                  "chain_matmul", "cholesky_inverse"])
def test_gradients_match_finite_differences(name):
    a = fastnn.tensor(_spd(3, seed=1), requires_grad=True)

    def fn(x):
        sym = (x + x.mT) / 2  # keep the Cholesky cases' input symmetric positive definite
        out = CASES[name](fastnn, sym)
        return out[0] if isinstance(out, tuple) else out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert gradcheck(fn, (a,))


def test_removed_functions_say_what_replaced_them():
    for name, replacement in [("eig", "torch.linalg.eig"), ("symeig", "lower triangular"),
                              ("lstsq", "torch.linalg.lstsq"), ("solve", "torch.linalg.solve"),
                              ("matrix_rank", "torch.linalg.matrix_rank")]:
        with pytest.raises(RuntimeError, match="deprecated since version 1.9 and is now "
                                               "removed") as exc:
            getattr(fastnn, name)(fastnn.eye(2))
        assert replacement in str(exc.value)


@requires_torch
@pytest.mark.parametrize("window", ["hann_window", "hamming_window", "blackman_window",
                                    "bartlett_window", "kaiser_window"])
def test_windows_match_torch(window):
    for n in (0, 1, 2, 5, 16):
        for periodic in (True, False):
            ours = getattr(fastnn, window)(n, periodic)
            theirs = getattr(torch, window)(n, periodic)
            assert ours.dtype == fastnn.float32 and tuple(ours.shape) == tuple(theirs.shape)
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6)
    assert getattr(fastnn, window)(8, dtype=fastnn.float64).dtype == fastnn.float64
    with pytest.raises(RuntimeError, match="non-negative window_length"):
        getattr(fastnn, window)(-1)


@requires_torch
def test_integration_histogram_and_frexp_match_torch():
    y = np.linspace(0, 2, 12).reshape(3, 4) ** 2
    x = np.array([0.0, 0.5, 1.5, 3.0])
    for lib in (fastnn, torch):
        t = lib.tensor(y)
        found = [lib.trapezoid(t), lib.trapezoid(t, dx=0.5, dim=0), lib.trapz(t, lib.tensor(x)),
                 lib.trapezoid(t, lib.tensor(x)), lib.cumulative_trapezoid(t, dim=1),
                 lib.cumulative_trapezoid(t, lib.tensor(x))]
        if lib is fastnn:
            ours = [f.numpy() for f in found]
        else:
            theirs = [f.numpy() for f in found]
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o, t, rtol=1e-12)
    values = np.array([0.5, 1.5, 1.7, 3.0, -1.0], np.float32)
    ours = fastnn.histogram(fastnn.tensor(values), bins=4, range=(0.0, 3.0))
    theirs = torch.histogram(torch.tensor(values), bins=4, range=(0.0, 3.0))
    for o, t in zip(ours, theirs):
        assert o.dtype == fastnn.float32
        np.testing.assert_allclose(o.numpy(), t.numpy())
    m, e = fastnn.frexp(fastnn.tensor([8.0, -0.75, 0.0]))
    tm, te = torch.frexp(torch.tensor([8.0, -0.75, 0.0]))
    assert m.tolist() == tm.tolist() and e.tolist() == te.tolist() and e.dtype == fastnn.int32


def test_trapezoid_is_differentiable():
    y = fastnn.tensor(np.linspace(0.1, 1.0, 6), requires_grad=True)
    assert gradcheck(lambda t: fastnn.trapezoid(t * t, dx=0.2), (y,))
    assert gradcheck(lambda t: fastnn.cumulative_trapezoid(t.sin()), (y,))


LU_CASES = {
    "lu_factor": lambda L, a, b: tuple(L.linalg.lu_factor(a)),
    "lu": lambda L, a, b: tuple(L.linalg.lu(a)),
    "lu_wide": lambda L, a, b: tuple(L.linalg.lu(a[..., :3, :])),
    "lu_tall": lambda L, a, b: tuple(L.linalg.lu(a[..., :, :3])),
    "lu_solve": lambda L, a, b: L.linalg.lu_solve(*L.linalg.lu_factor(a), b),
    "lu_solve_adjoint": lambda L, a, b: L.linalg.lu_solve(*L.linalg.lu_factor(a), b,
                                                          adjoint=True),
    "lu_solve_right": lambda L, a, b: L.linalg.lu_solve(*L.linalg.lu_factor(a), b.mT,
                                                        left=False),
    "legacy_lu": lambda L, a, b: tuple(L.lu(a, get_infos=True)),
    "legacy_lu_solve": lambda L, a, b: L.lu_solve(b, *L.lu(a)),
    "lu_unpack": lambda L, a, b: tuple(L.lu_unpack(*L.linalg.lu_factor(a))),
    "lu_factor_ex_singular": lambda L, a, b: tuple(L.linalg.lu_factor_ex(a * L.tensor(
        [1.0, 1.0, 0.0, 1.0], dtype=a.dtype))),
    "tensorinv": lambda L, a, b: L.linalg.tensorinv(a[0].reshape(2, 2, 4), ind=2),
    "tensorsolve": lambda L, a, b: L.linalg.tensorsolve(a[0].reshape(2, 2, 4), b[0, :, 0]
                                                        .reshape(2, 2)),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(LU_CASES))
def test_lu_family_matches_torch(name):
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2, 4, 4)), rng.standard_normal((2, 4, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = LU_CASES[name](fastnn, fastnn.tensor(a), fastnn.tensor(b))
        theirs = LU_CASES[name](torch, torch.tensor(a), torch.tensor(b))
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    for o, t in zip(ours, theirs):
        assert tuple(o.shape) == tuple(t.shape) and str(o.dtype)[7:] == str(t.dtype)[6:]
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-9, atol=1e-10)


def test_lu_solve_is_differentiable_and_the_factorization_says_it_is_not():
    rng = np.random.default_rng(6)
    a = fastnn.tensor(rng.standard_normal((3, 3)) + 3 * np.eye(3))
    factors = fastnn.linalg.lu_factor(a)
    lu_ = factors.LU.clone().requires_grad_(True)
    b = fastnn.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    assert gradcheck(lambda m, y: fastnn.linalg.lu_solve(m, factors.pivots, y), (lu_, b))
    with pytest.raises(NotImplementedError, match="without its gradient"):
        fastnn.linalg.lu_factor(a.clone().requires_grad_(True))


@requires_torch
def test_singular_lu_as_torch():
    def outcome(lib):
        singular = lib.tensor([[1.0, 2.0], [2.0, 4.0]])
        try:
            lib.linalg.lu_factor(singular)
        except RuntimeError as exc:
            message = str(exc)
        P, L, U = lib.linalg.lu(singular)
        return message, U.tolist()
    assert outcome(fastnn) == outcome(torch)
