"""Layers: PyTorch's behaviour, reprs and initialisers."""
import numpy as np
import pytest

import fastnn
from fastnn import nn
from conftest import requires_torch


def test_dropout_is_active_in_train_and_identity_in_eval():
    fastnn.manual_seed(0)
    layer = nn.Dropout(0.2)
    x = fastnn.ones(200, 100)
    y = layer(x).numpy()
    kept = y != 0
    assert kept.mean() == pytest.approx(0.8, abs=0.01)
    np.testing.assert_allclose(y[kept], 1 / 0.8, rtol=1e-6)
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_dropout_gradient_uses_the_same_mask():
    x = fastnn.ones(50, 50, requires_grad=True)
    y = nn.Dropout(0.5)(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())


def test_activation_ranges():
    x = fastnn.tensor(np.linspace(-20, 20, 101, dtype=np.float32))
    s, t = nn.Sigmoid()(x).numpy(), nn.Tanh()(x).numpy()
    assert 0 <= s.min() and s.max() <= 1 and -1 <= t.min() and t.max() <= 1
    np.testing.assert_allclose(nn.LeakyReLU(0.2)(fastnn.tensor([-1.0, 2.0])).numpy(), [-0.2, 2.0])
    sm = nn.Softmax(dim=1)(fastnn.randn(4, 7)).numpy()
    np.testing.assert_allclose(sm.sum(axis=1), 1, rtol=1e-6)
    assert nn.Identity()(x) is x


@requires_torch
def test_reprs_match_pytorch():
    import torch

    def build(m):
        return m.Sequential(m.Flatten(), m.Linear(784, 256), m.ReLU(), m.Dropout(0.2),
                            m.LeakyReLU(0.2), m.Linear(256, 10), m.Softmax(dim=1), m.Sigmoid(),
                            m.Tanh(), m.Identity(), m.LogSoftmax(dim=1))

    assert repr(build(nn)) == repr(build(torch.nn))
    for loss in ("MSELoss", "L1Loss", "CrossEntropyLoss", "NLLLoss", "BCEWithLogitsLoss"):
        assert repr(getattr(nn, loss)()) == repr(getattr(torch.nn, loss)())


@pytest.mark.parametrize("init,expected_std", [
    (lambda w: nn.init.xavier_uniform_(w), np.sqrt(2 / (400 + 300))),
    (lambda w: nn.init.xavier_normal_(w), np.sqrt(2 / (400 + 300))),
    (lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"), np.sqrt(2 / 400)),
    (lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"), np.sqrt(2 / 400)),
    (lambda w: nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"), np.sqrt(2 / 300)),
    (lambda w: nn.init.normal_(w, std=0.01), 0.01),
    (lambda w: nn.init.uniform_(w, -1, 1), np.sqrt(1 / 3)),
])
def test_initialisers_have_the_right_spread(init, expected_std):
    w = nn.Parameter(np.empty((300, 400), np.float32))
    init(w)
    assert w._data.std() == pytest.approx(expected_std, rel=0.03)


def test_constant_initialisers():
    w = nn.Parameter(np.empty((3, 2), np.float32))
    nn.init.ones_(w)
    assert (w._data == 1).all()
    nn.init.constant_(w, 0.5)
    assert (w._data == 0.5).all()
    nn.init.zeros_(w)
    assert (w._data == 0).all()


@requires_torch
@pytest.mark.parametrize("loss", ["MSELoss", "L1Loss", "BCEWithLogitsLoss"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_loss_modules_match_pytorch(loss, reduction):
    import torch
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 3)).astype(np.float32)
    y = (rng.random((6, 3)) > 0.5).astype(np.float32)
    ours = getattr(nn, loss)(reduction=reduction)(fastnn.tensor(x), fastnn.tensor(y))
    theirs = getattr(torch.nn, loss)(reduction=reduction)(torch.tensor(x), torch.tensor(y))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
