"""torch.nn.grad (F.grad): conv{1,2,3}d_input and conv{1,2,3}d_weight against the gradients
autograd gives for the same convolution, against torch when it is installed, differentiable
when an operand requires a gradient, and torch's check of grad_output's size."""
import numpy as np
import pytest

import fastnn
from fastnn import nn

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional peer
    torch = None

CASES = [  # dims, input shape, weight shape, keyword arguments
    (2, (2, 4, 7, 9), (6, 2, 3, 3), dict(stride=2, padding=1, groups=2)),
    (2, (2, 4, 8, 8), (6, 4, 1, 1), {}),
    (2, (1, 3, 6, 5), (2, 3, 2, 3), dict(dilation=(2, 1), padding=(1, 0))),
    (1, (3, 4, 11), (5, 4, 3), dict(stride=(2,), dilation=2)),
    (1, (2, 2, 9), (4, 1, 2), dict(groups=2, padding=1)),
    (3, (2, 3, 5, 6, 5), (4, 3, 2, 3, 2), dict(padding=1)),
]


def _arrays(case, seed=0):
    dims, xs, ws, kw = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32)
    conv = getattr(nn.functional, f"conv{dims}d")
    out_shape = conv(fastnn.tensor(x), fastnn.tensor(w), **kw).shape
    g = rng.standard_normal(tuple(out_shape)).astype(np.float32)
    return x, w, g


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}d-{i}" for i, c in enumerate(CASES)])
def test_conv_grads_match_autograd_and_torch(case):
    dims, _, _, kw = case
    x, w, g = _arrays(case)
    conv = getattr(nn.functional, f"conv{dims}d")
    xt, wt = fastnn.tensor(x, requires_grad=True), fastnn.tensor(w, requires_grad=True)
    conv(xt, wt, **kw).backward(fastnn.tensor(g))
    gx = getattr(nn.grad, f"conv{dims}d_input")(x.shape, fastnn.tensor(w), fastnn.tensor(g), **kw)
    gw = getattr(nn.functional.grad, f"conv{dims}d_weight")(fastnn.tensor(x), w.shape,
                                                           fastnn.tensor(g), **kw)
    assert gx.shape == x.shape and gw.shape == w.shape and not gx.requires_grad
    np.testing.assert_allclose(gx.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gw.numpy(), wt.grad.numpy(), rtol=1e-4, atol=1e-4)
    if torch is not None:
        tg = torch.tensor(g)
        tx = getattr(torch.nn.grad, f"conv{dims}d_input")(x.shape, torch.tensor(w), tg, **kw)
        tw = getattr(torch.nn.grad, f"conv{dims}d_weight")(torch.tensor(x), w.shape, tg, **kw)
        np.testing.assert_allclose(gx.numpy(), tx.numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(gw.numpy(), tw.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("case", [CASES[0], CASES[3], CASES[5]], ids=["2d", "1d", "3d"])
def test_conv_grads_are_differentiable(case):
    """conv_input is linear in the weight and in grad_output: its gradient through a sum of
    squares, against torch's (or finite differences of the kernel path without torch)."""
    dims, _, _, kw = case
    x, w, g = _arrays(case, seed=1)
    wt = fastnn.tensor(w, requires_grad=True)
    gx = getattr(nn.grad, f"conv{dims}d_input")(x.shape, wt, fastnn.tensor(g), **kw)
    assert gx.requires_grad
    gx.square().sum().backward()
    xt = fastnn.tensor(x, requires_grad=True)
    gw = getattr(nn.grad, f"conv{dims}d_weight")(xt, w.shape, fastnn.tensor(g), **kw)
    gw.sum().backward()
    if torch is not None:
        tw = torch.tensor(w, requires_grad=True)
        getattr(torch.nn.grad, f"conv{dims}d_input")(x.shape, tw, torch.tensor(g),
                                                     **kw).square().sum().backward()
        np.testing.assert_allclose(wt.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-3)
        tx = torch.tensor(x, requires_grad=True)
        getattr(torch.nn.grad, f"conv{dims}d_weight")(tx, w.shape, torch.tensor(g),
                                                      **kw).sum().backward()
        np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    else:  # d/dw sum(conv_input(w)^2) along one direction, by central differences
        def value(wv):
            with fastnn.no_grad():
                out = getattr(nn.grad, f"conv{dims}d_input")(x.shape, fastnn.tensor(wv),
                                                            fastnn.tensor(g), **kw)
            return float((out.numpy().astype(np.float64) ** 2).sum())
        d = np.random.default_rng(2).standard_normal(w.shape).astype(np.float32)
        eps = 1e-2
        numeric = (value(w + eps * d) - value(w - eps * d)) / (2 * eps)
        assert float((wt.grad.numpy() * d).sum()) == pytest.approx(numeric, rel=1e-2)


def test_conv_grad_rejects_a_mismatched_grad_output():
    x, w, g = _arrays(CASES[1])
    with pytest.raises(RuntimeError, match="grad_output has size"):
        nn.grad.conv2d_input(x.shape, fastnn.tensor(w), fastnn.tensor(g[:, :, :-1]))
    with pytest.raises(RuntimeError, match="grad_output has size"):
        nn.grad.conv2d_weight(fastnn.tensor(x), w.shape, fastnn.tensor(g[:1]))
