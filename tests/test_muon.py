"""optim.Muon: its Newton-Schulz step orthogonalises (singular values near one), its checks
raise torch's errors, and its updates equal torch's step for step when torch is installed."""
import numpy as np
import pytest

import fastnn
from fastnn.optim.muon import zeropower_via_newtonschulz

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional peer
    torch = None


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (32, 32), (1, 5)])
def test_newton_schulz_output_is_nearly_orthogonal(shape):
    g = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    o = zeropower_via_newtonschulz(g, (3.4445, -4.7750, 2.0315), 5, 1e-7)
    singular = np.linalg.svd(o, compute_uv=False)
    assert o.shape == shape and np.all((singular > 0.5) & (singular < 1.5))
    # the same singular vectors as g: o^T g is symmetric positive semi-definite (small side)
    small = o.T @ g if shape[0] >= shape[1] else g @ o.T
    np.testing.assert_allclose(small, small.T, atol=0.1 * np.abs(small).max())


def _train(lib, **kwargs):
    rng = np.random.default_rng(1)
    a = lib.nn.Parameter(lib.tensor(rng.standard_normal((6, 4)).astype(np.float32)))
    b = lib.nn.Parameter(lib.tensor(rng.standard_normal((3, 8)).astype(np.float32)))
    opt = lib.optim.Muon([a, b], lr=0.02, **kwargs)
    for _ in range(4):
        x = lib.tensor(rng.standard_normal((5, 4)).astype(np.float32))
        opt.zero_grad()
        ((x @ a.T @ b[:, :6].T) ** 2).sum().backward()
        opt.step()
    return a.detach().numpy().copy(), b.detach().numpy().copy()


@pytest.mark.parametrize("kwargs", [{}, dict(nesterov=False, weight_decay=0.0,
                                             adjust_lr_fn="match_rms_adamw"),
                                    dict(momentum=0.5, ns_steps=3)])
def test_muon_steps_as_torch(kwargs):
    mine = _train(fastnn, **kwargs)
    assert all(np.isfinite(m).all() for m in mine)
    if torch is not None:
        for m, t in zip(mine, _train(torch, **kwargs)):
            np.testing.assert_allclose(m, t, rtol=1e-5, atol=1e-5)


def test_muon_refuses_what_torch_refuses():
    with pytest.raises(ValueError, match="Muon only supports 2D parameters"):
        fastnn.optim.Muon([fastnn.nn.Parameter(fastnn.zeros(3))])
    with pytest.raises(ValueError, match="Adjust learning rate function x is not supported"):
        fastnn.optim.Muon([fastnn.nn.Parameter(fastnn.zeros(3, 2))], adjust_lr_fn="x")
    with pytest.raises(ValueError, match="Learning rate should be >= 0"):
        fastnn.optim.Muon([fastnn.nn.Parameter(fastnn.zeros(3, 2))], lr=-1)
