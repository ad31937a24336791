"""Optimizers and schedules against PyTorch's update rules: the same gradients for 100 steps
give the same parameters (to 1e-5), on every backend."""
import numpy as np
import pytest

import fastnn
from fastnn import nn, optim
from conftest import HAS_TORCH, requires_torch

CONFIGS = [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    ("Adam", dict(lr=1e-2)),
    ("Adam", dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-2, amsgrad=True)),
    ("AdamW", dict(lr=1e-2)),
    ("AdamW", dict(lr=1e-2, weight_decay=0.1, amsgrad=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=1e-2, initial_accumulator_value=0.1)),
    ("RMSprop", dict(lr=1e-2)),
    ("RMSprop", dict(lr=1e-2, alpha=0.9, momentum=0.5, centered=True, weight_decay=1e-3)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=1e-2)),
    ("Adadelta", dict(maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-2)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=1e-2, betas=(0.8, 0.99), weight_decay=1e-2, momentum_decay=1e-2)),
    ("NAdam", dict(lr=1e-2, weight_decay=1e-2, decoupled_weight_decay=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=1e-2, betas=(0.8, 0.9), weight_decay=1e-2)),
    ("RAdam", dict(lr=1e-2, weight_decay=1e-1, decoupled_weight_decay=True)),
]


def _run_fastnn(name, kwargs, w0, grads):
    w = nn.Parameter(w0.copy())
    opt = getattr(optim, name)([w], **kwargs)
    for g in grads:
        w.grad = fastnn.tensor(g)
        opt.step()
    return w._data


@requires_torch
@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_100_steps_match_pytorch(name, kwargs, backend_name):
    import torch

    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((5, 7)).astype(np.float32)
    grads = [rng.standard_normal((5, 7)).astype(np.float32) for _ in range(100)]
    ours = _run_fastnn(name, kwargs, w0, grads)
    tw = torch.nn.Parameter(torch.tensor(w0))
    topt = getattr(torch.optim, name)([tw], **kwargs)
    for g in grads:
        tw.grad = torch.tensor(g)
        topt.step()
    np.testing.assert_allclose(ours, tw.detach().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adagrad", "RMSprop", "SGD", "Adadelta",
                                  "Adamax", "NAdam", "RAdam"])
def test_backends_agree_on_optimizer_steps(name):
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((300, 301)).astype(np.float32)  # above the threading threshold
    grads = [rng.standard_normal(w0.shape).astype(np.float32) for _ in range(5)]
    kwargs = {"lr": 0.01}
    results = {}
    previous = fastnn.backend.current()
    try:
        for b in fastnn.backend.names():
            fastnn.backend.use(b)
            results[b] = _run_fastnn(name, kwargs, w0, grads)
    finally:
        fastnn.backend.use(previous)
    for b, value in results.items():
        np.testing.assert_allclose(value, results["numpy"], rtol=1e-5, atol=1e-6, err_msg=b)


def test_parameter_groups_have_their_own_hyperparameters():
    a, b = nn.Parameter(np.ones(3, np.float32)), nn.Parameter(np.ones(3, np.float32))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    a.grad = fastnn.ones(3)
    b.grad = fastnn.ones(3)
    opt.step()
    np.testing.assert_allclose(a._data, 0.9)
    np.testing.assert_allclose(b._data, 0.0)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 1.0


def test_optimizer_state_dict_round_trip_resumes_identically():
    rng = np.random.default_rng(2)
    grads = [rng.standard_normal(4).astype(np.float32) for _ in range(6)]
    w1 = nn.Parameter(np.zeros(4, np.float32))
    opt1 = optim.Adam([w1], lr=0.1)
    for g in grads:
        w1.grad = fastnn.tensor(g)
        opt1.step()
    w2 = nn.Parameter(np.zeros(4, np.float32))
    opt2 = optim.Adam([w2], lr=0.1)
    for g in grads[:3]:
        w2.grad = fastnn.tensor(g)
        opt2.step()
    saved = opt2.state_dict()
    w3 = nn.Parameter(w2._data.copy())
    opt3 = optim.Adam([w3], lr=0.5)
    opt3.load_state_dict(saved)
    assert opt3.param_groups[0]["lr"] == 0.1
    for g in grads[3:]:
        w3.grad = fastnn.tensor(g)
        opt3.step()
    np.testing.assert_array_equal(w3._data, w1._data)


@pytest.mark.parametrize("bad", [dict(lr=-1.0), dict(betas=(1.0, 0.9)), dict(eps=-1.0)])
def test_invalid_hyperparameters_raise(bad):
    with pytest.raises(ValueError, match="Invalid"):
        optim.Adam([nn.Parameter(np.zeros(2, np.float32))], **bad)


@pytest.mark.parametrize("make", [
    lambda o, m: m.StepLR(o, step_size=3, gamma=0.5),
    lambda o, m: m.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
])
def test_schedulers_match_pytorch(make):
    ours = optim.SGD([nn.Parameter(np.zeros(2, np.float32))], lr=0.1)
    sched = make(ours, optim.lr_scheduler)
    lrs = []
    for _ in range(12):
        ours.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    if HAS_TORCH:
        import torch
        theirs = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
        tsched = make(theirs, torch.optim.lr_scheduler)
        expected = []
        for _ in range(12):
            theirs.step()
            tsched.step()
            expected.append(tsched.get_last_lr()[0])
        np.testing.assert_allclose(lrs, expected, rtol=1e-9, atol=1e-12)
    else:
        assert lrs[-1] < 0.1


@requires_torch
@pytest.mark.parametrize("name", ["SGD", "Adam", "Adadelta", "Adamax", "RMSprop", "Adagrad"])
def test_step_with_a_closure_returns_its_loss_like_torch(name):
    import torch
    results = []
    for m in (torch, fastnn):
        w = m.nn.Parameter(m.tensor([1.0, -2.0, 3.0]))
        opt = getattr(m.optim, name)([w], lr=0.1)

        def closure():
            opt.zero_grad()
            loss = (w * w).sum()
            loss.backward()
            return loss
        losses = [float(opt.step(closure)) for _ in range(3)]
        results.append((losses, w.detach().numpy().copy()))
    assert results[1][0] == pytest.approx(results[0][0], rel=1e-5)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-5, atol=1e-6)


@requires_torch
@pytest.mark.parametrize("kwargs", [dict(), dict(lr=0.5, history_size=3, max_iter=5)])
def test_lbfgs_matches_torch_on_a_least_squares_problem(kwargs):
    import torch
    rng = np.random.default_rng(4)
    a = rng.standard_normal((20, 5)).astype(np.float32)
    b = rng.standard_normal(20).astype(np.float32)
    results = []
    for m in (torch, fastnn):
        w = m.nn.Parameter(m.zeros(5))
        opt = m.optim.LBFGS([w], **kwargs)
        A, B = m.tensor(a), m.tensor(b)

        def closure():
            opt.zero_grad()
            loss = ((A @ w - B) ** 2).mean() + 0.1 * (w ** 4).sum()
            loss.backward()
            return loss
        losses = [float(opt.step(closure)) for _ in range(4)]
        results.append((losses, w.detach().numpy().copy()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-4)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", {"momentum": 0.9}), ("SGD", {"maximize": True}), ("Adam", {}), ("AdamW", {}),
    ("RMSprop", {}), ("Adagrad", {}), ("Adadelta", {}), ("Adamax", {}), ("NAdam", {}),
    ("RAdam", {}), ("ASGD", {}), ("Rprop", {})])
def test_scalar_parameters_step_as_torchs(name, kwargs):
    # pytorch/tutorials' dynamic_net: five 0-d parameters under SGD with momentum (a 0-d
    # gradient made contiguous became shape (1,) and the update refused it)
    torch = pytest.importorskip("torch")
    values = []
    for lib in (torch, fastnn):
        lib.manual_seed(0)
        p = lib.nn.Parameter(lib.randn(()))
        opt = getattr(lib.optim, name)([p], lr=0.1, **kwargs)
        for _ in range(3):
            opt.zero_grad()
            (p * p * 3 + p).backward()
            opt.step()
        assert tuple(p.shape) == ()
        values.append(p.detach().numpy())
    np.testing.assert_allclose(values[1], values[0], rtol=1e-5, atol=1e-6)


def test_frozen_parameters_are_taken_and_left_alone_as_torch():
    """d2l's sentiment models freeze a pretrained embedding (requires_grad = False) and then
    hand net.parameters() to Adam: torch accepts it and never moves it. Its refusals (a number,
    a non-leaf) use torch's words."""
    import numpy as np
    for name in ("SGD", "Adam", "AdamW", "RMSprop"):
        frozen = fastnn.nn.Parameter(fastnn.ones(3))
        frozen.requires_grad = False
        live = fastnn.nn.Parameter(fastnn.ones(3))
        opt = getattr(fastnn.optim, name)([frozen, live], lr=0.1)
        (frozen * live).sum().backward()
        opt.step()
        assert frozen.grad is None and frozen.tolist() == [1.0] * 3
        assert not np.allclose(live.detach().numpy(), 1.0)
    with pytest.raises(TypeError, match="but one of the params is float"):
        fastnn.optim.SGD([1.0], lr=0.1)
    with pytest.raises(TypeError, match="but one of the params is numpy.ndarray"):
        fastnn.optim.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        fastnn.optim.SGD([fastnn.ones(2, requires_grad=True) * 2], lr=0.1)
    kept = fastnn.ones(2, requires_grad=True) * 2
    kept.retain_grad()
    fastnn.optim.SGD([kept], lr=0.1)  # a retained non-leaf is allowed, as torch
