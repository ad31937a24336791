"""Rprop, ASGD and the PolynomialLR, MultiplicativeLR and CyclicLR schedules against torch:
parameters after 30 steps on the same problem, and every learning rate (and cycled momentum)
along the way."""
import numpy as np
import pytest

import fastnn
from conftest import requires_torch

try:
    import torch
except ImportError:
    torch = None

W0 = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
X = np.random.default_rng(1).standard_normal((8, 4)).astype(np.float32)


def _train(T, make_optimizer, steps=30):
    w = T.tensor(W0.copy(), requires_grad=True)
    x = T.tensor(X)
    optimizer = make_optimizer([w])
    for _ in range(steps):
        optimizer.zero_grad()
        loss = ((x @ w.T).tanh() ** 2).sum() + (w * w).sum() * 0.1
        loss.backward()
        optimizer.step()
    return w.detach().numpy()


@requires_torch
@pytest.mark.parametrize("name,kwargs", [
    ("Rprop", {}), ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-4, 0.2)}),
    ("Rprop", {"maximize": True}),
    ("ASGD", {}), ("ASGD", {"lr": 0.05, "lambd": 1e-3, "t0": 10, "weight_decay": 0.01}),
])
def test_optimizers_match_torch(name, kwargs):
    ours = _train(fastnn, lambda p: getattr(fastnn.optim, name)(p, **kwargs))
    theirs = _train(torch, lambda p: getattr(torch.optim, name)(p, **kwargs))
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


def _schedule(T, make, steps=25, optimizer="SGD"):
    w = T.tensor([1.0], requires_grad=True)
    opt = (T.optim.SGD([w], lr=0.1, momentum=0.9) if optimizer == "SGD"
           else T.optim.Adam([w], lr=0.1))
    scheduler = make(T, opt)
    lrs, momenta = [], []
    for _ in range(steps):
        opt.step()
        scheduler.step()
        group = opt.param_groups[0]
        lrs.append(group["lr"])
        momenta.append(group.get("momentum", group.get("betas", (None,))[0]))
    return lrs, momenta


@requires_torch
@pytest.mark.parametrize("make,optimizer", [
    (lambda T, o: T.optim.lr_scheduler.PolynomialLR(o, total_iters=10, power=2.0), "SGD"),
    (lambda T, o: T.optim.lr_scheduler.MultiplicativeLR(o, lambda e: 0.9 if e % 2 else 1.0),
     "SGD"),
    (lambda T, o: T.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=4), "SGD"),
    (lambda T, o: T.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=3, step_size_down=5,
                                                mode="triangular2"), "SGD"),
    (lambda T, o: T.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=4, mode="exp_range",
                                                gamma=0.95), "Adam"),
    (lambda T, o: T.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=4,
                                                cycle_momentum=False), "Adam"),
])
def test_schedules_match_torch(make, optimizer):
    ours = _schedule(fastnn, make, optimizer=optimizer)
    theirs = _schedule(torch, make, optimizer=optimizer)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.asarray(ours[1], float), np.asarray(theirs[1], float),
                               rtol=1e-9)


def test_cyclic_lr_needs_momentum():
    opt = fastnn.optim.Adagrad([fastnn.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        fastnn.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1)
