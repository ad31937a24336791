"""nn.utils.spectral_norm (hook API), nn.utils.parametrize and nn.utils.parametrizations
(spectral_norm, weight_norm): torch's parameter and state-dict names, the constraint held,
gradients reaching the originals."""
import numpy as np
import pytest

import fastnn
from conftest import requires_torch
from fastnn import nn
from fastnn.nn.utils import parametrizations, parametrize


def _largest_singular_value(weight, dim=0):
    w = np.moveaxis(weight.detach().numpy(), dim, 0)
    return np.linalg.svd(w.reshape(w.shape[0], -1), compute_uv=False)[0]


@pytest.mark.parametrize("make,dim", [(lambda: nn.Linear(5, 4), 0),
                                      (lambda: nn.Conv2d(3, 4, 3), 0),
                                      (lambda: nn.ConvTranspose2d(4, 3, 4, 2, 1), 1)])
def test_spectral_norm_hook_api_normalises_the_largest_singular_value(make, dim):
    fastnn.manual_seed(0)
    m = nn.utils.spectral_norm(make())
    assert sorted(n for n, _ in m.named_parameters()) == ["bias", "weight_orig"]
    assert sorted(n for n, _ in m.named_buffers()) == ["weight_u", "weight_v"]
    x = fastnn.randn(2, 5) if isinstance(m, nn.Linear) else fastnn.randn(2, m.in_channels, 6, 6)
    for _ in range(30):
        y = m(x)
    assert abs(_largest_singular_value(m.weight, dim) - 1.0) < 1e-3
    y.sum().backward()
    assert m.weight_orig.grad is not None
    m.eval()
    assert fastnn.equal(m(x), m(x))  # no power iteration in eval mode
    nn.utils.remove_spectral_norm(m)
    assert sorted(n for n, _ in m.named_parameters()) == ["bias", "weight"]


class Symmetric(nn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).transpose(-1, -2)


class Doubled(nn.Module):
    def forward(self, x):
        return x * 2

    def right_inverse(self, a):
        return a / 2


def test_register_parametrization_chains_caches_and_removes():
    layer = nn.Linear(3, 3)
    parametrize.register_parametrization(layer, "weight", Symmetric())
    w = layer.weight.detach().numpy()
    np.testing.assert_array_equal(w, w.T)
    assert list(layer.state_dict()) == ["bias", "parametrizations.weight.original"]
    assert type(layer).__name__ == "ParametrizedLinear" and type(nn.Linear(1, 1)) is nn.Linear
    layer(fastnn.ones(2, 3)).sum().backward()
    assert layer.parametrizations.weight.original.grad is not None
    parametrize.register_parametrization(layer, "weight", Doubled())
    np.testing.assert_allclose(layer.weight.detach().numpy(), 2 * w)
    with parametrize.cached():
        assert layer.weight is layer.weight
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        layer.weight = fastnn.eye(3)
    parametrize.remove_parametrizations(layer, "weight")
    assert type(layer) is nn.Linear and isinstance(layer.weight, nn.Parameter)
    np.testing.assert_allclose(layer.weight.detach().numpy(), 2 * w)
    assert layer.weight.requires_grad


def test_a_parametrization_that_changes_the_shape_needs_unsafe():
    class Flat(nn.Module):
        def forward(self, x):
            return x.reshape(-1)

    with pytest.raises(ValueError, match="may not change the shape"):
        parametrize.register_parametrization(nn.Linear(2, 2), "weight", Flat())


def test_parametrizations_spectral_and_weight_norm():
    fastnn.manual_seed(0)
    sn = parametrizations.spectral_norm(nn.Linear(5, 4))
    assert list(sn.state_dict()) == ["bias", "parametrizations.weight.original",
                                     "parametrizations.weight.0._u",
                                     "parametrizations.weight.0._v"]
    for _ in range(20):
        sn(fastnn.ones(1, 5))
    assert abs(_largest_singular_value(sn.weight) - 1.0) < 1e-3
    base = nn.Linear(5, 4)
    w = base.weight.detach().numpy().copy()
    wn = parametrizations.weight_norm(base)
    assert list(wn.state_dict()) == ["bias", "parametrizations.weight.original0",
                                     "parametrizations.weight.original1"]
    np.testing.assert_allclose(wn.weight.detach().numpy(), w, rtol=1e-6)
    wn(fastnn.ones(2, 5)).sum().backward()
    assert wn.parametrizations.weight.original0.grad.shape == (4, 1)


@requires_torch
def test_parametrized_repr_matches_torch():
    import torch
    import torch.nn.utils.parametrize as tparametrize

    class TorchSymmetric(torch.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).transpose(-1, -2)

    theirs = torch.nn.Linear(3, 3)
    tparametrize.register_parametrization(theirs, "weight", TorchSymmetric())
    mine = nn.Linear(3, 3)
    parametrize.register_parametrization(mine, "weight", Symmetric())
    assert repr(mine).replace("Symmetric", "TorchSymmetric") == repr(theirs)
