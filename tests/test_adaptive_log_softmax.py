"""nn.AdaptiveLogSoftmaxWithLoss: its output and loss are the full log-softmax's entries at the
targets, log_prob's rows are distributions, predict is log_prob's argmax, gradients follow
finite differences, and everything equals torch's for the same weights when torch is
installed; torch's checks for cutoffs, targets and shapes."""
import numpy as np
import pytest

import fastnn

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional peer
    torch = None

X = np.random.default_rng(0).standard_normal((7, 16))
TARGETS = np.array([0, 3, 5, 9, 12, 19, 2])


def _model(lib, dtype):
    lib.manual_seed(0)
    return lib.nn.AdaptiveLogSoftmaxWithLoss(16, 20, [4, 10], div_value=2.0).to(dtype)


def test_output_is_log_prob_at_the_targets():
    m = _model(fastnn, fastnn.float64)
    out, loss = m(fastnn.tensor(X), fastnn.tensor(TARGETS))
    full = m.log_prob(fastnn.tensor(X)).detach().numpy()
    np.testing.assert_allclose(np.exp(full).sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(out.detach().numpy(), full[np.arange(7), TARGETS], rtol=1e-12)
    assert loss.item() == pytest.approx(-full[np.arange(7), TARGETS].mean(), rel=1e-12)
    assert m.predict(fastnn.tensor(X)).tolist() == full.argmax(axis=1).tolist()
    single, single_loss = m(fastnn.tensor(X[2]), fastnn.tensor(TARGETS[2]))
    assert single.shape == () and single.item() == pytest.approx(full[2, TARGETS[2]])


def test_gradient_against_finite_differences():
    m = _model(fastnn, fastnn.float64)
    x = fastnn.tensor(X, requires_grad=True)
    m(x, fastnn.tensor(TARGETS)).loss.backward()
    d = np.random.default_rng(1).standard_normal(X.shape)
    eps = 1e-6

    def value(v):
        with fastnn.no_grad():
            return m(fastnn.tensor(v), fastnn.tensor(TARGETS)).loss.item()
    numeric = (value(X + eps * d) - value(X - eps * d)) / (2 * eps)
    assert float((x.grad.numpy() * d).sum()) == pytest.approx(numeric, rel=1e-6)


@pytest.mark.skipif(torch is None, reason="torch is not installed")
def test_as_torch_with_the_same_weights():
    found = []
    state = {k: v.numpy().copy() for k, v in _model(torch, torch.float32).state_dict().items()}
    for lib in (torch, fastnn):
        m = _model(lib, lib.float32)
        m.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
        x = lib.tensor(X.astype(np.float32), requires_grad=True)
        out, loss = m(x, lib.tensor(TARGETS))
        loss.backward()
        found.append((out.detach().numpy(), x.grad.numpy(), m.head.weight.grad.numpy(),
                      m.log_prob(lib.tensor(X.astype(np.float32))).detach().numpy(),
                      m.predict(lib.tensor(X.astype(np.float32))).numpy(),
                      repr(m), loss.grad_fn.name()))
    for a, b in zip(*found):
        if isinstance(a, np.ndarray):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        else:
            assert a == b


def test_checks_as_torch():
    nn = fastnn.nn
    for cutoffs in ([], [5, 3], [0, 4], [4, 20], [4, 4]):
        with pytest.raises(ValueError):
            nn.AdaptiveLogSoftmaxWithLoss(8, 20, cutoffs)
    m = nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4])
    with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 19\]"):
        m(fastnn.zeros(2, 8), fastnn.tensor([1, 20]))
    with pytest.raises(RuntimeError, match="same size in the batch"):
        m(fastnn.zeros(3, 8), fastnn.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="multi-target not supported"):
        m(fastnn.zeros(2, 8), fastnn.zeros(2, 2, dtype=fastnn.int64))
