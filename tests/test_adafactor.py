"""torch.optim.Adafactor: a few training steps against torch (factored matrices, full
vectors, weight decay, maximize, a 3-D parameter), and torch's argument checks."""
import numpy as np
import pytest

import fastnn
from conftest import requires_torch
from gradcheck import raised

try:
    import torch
except ImportError:
    torch = None


def _train(m, kwargs, dtype):
    rng = np.random.default_rng(0)
    shapes = [(6, 4), (6,), (3, 6), (3,), (2, 3, 3)]
    params = [m.nn.Parameter(m.tensor(rng.standard_normal(s).astype(dtype))) for s in shapes]
    x = m.tensor(rng.standard_normal((16, 4)).astype(dtype))
    opt = m.optim.Adafactor(params, **kwargs)
    for _ in range(6):
        opt.zero_grad()
        hidden = (x @ params[0].T + params[1]).tanh()
        out = hidden @ params[2].T + params[3]
        loss = (out ** 2).mean() + (params[4] ** 2).sum() * 0.1
        loss.backward()
        opt.step()
    return [p.detach().numpy() for p in params]


@requires_torch
@pytest.mark.parametrize("kwargs", [{}, dict(lr=0.05, weight_decay=0.1),
                                    dict(maximize=True, d=2.0, eps=(1e-20, 1e-2)),
                                    dict(beta2_decay=-0.5)])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_steps_match_torch(kwargs, dtype, tol):
    for got, want in zip(_train(fastnn, kwargs, dtype), _train(torch, kwargs, dtype)):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@requires_torch
def test_argument_checks_are_torchs():
    def errors(m):
        p = [m.nn.Parameter(m.zeros(2))]
        return raised([lambda: m.optim.Adafactor(p, lr=-1.0),
                       lambda: m.optim.Adafactor(p, beta2_decay=0.5),
                       lambda: m.optim.Adafactor(p, eps=(-1.0, 1e-3)),
                       lambda: m.optim.Adafactor(p, eps=(None, -1.0)),
                       lambda: m.optim.Adafactor(p, d=0.5),
                       lambda: m.optim.Adafactor(p, weight_decay=-0.1)])
    assert errors(fastnn) == errors(torch)
