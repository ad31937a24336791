"""torch.optim.lr_scheduler's schedules on fastnn's optimizers: the same learning rates (and,
for OneCycleLR, momenta) step by step as torch's, and torch's errors."""
import math

import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")

SCHEDULES = {
    "LambdaLR": lambda S, o: S.LambdaLR(o, lambda e: 0.95 ** e),
    "MultiStepLR": lambda S, o: S.MultiStepLR(o, milestones=[7, 3, 12], gamma=0.5),
    "ExponentialLR": lambda S, o: S.ExponentialLR(o, gamma=0.9),
    "LinearLR": lambda S, o: S.LinearLR(o, start_factor=0.25, total_iters=6),
    "ConstantLR": lambda S, o: S.ConstantLR(o, factor=0.5, total_iters=4),
    "StepLR": lambda S, o: S.StepLR(o, step_size=4, gamma=0.3),
    "CosineAnnealingLR": lambda S, o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
    "CosineAnnealingWarmRestarts": lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2,
                                                                              eta_min=0.01),
    "OneCycleLR": lambda S, o: S.OneCycleLR(o, max_lr=0.5, total_steps=30),
    "OneCycleLR linear three phase": lambda S, o: S.OneCycleLR(
        o, max_lr=0.3, epochs=3, steps_per_epoch=10, anneal_strategy="linear",
        three_phase=True),
    "SequentialLR": lambda S, o: S.SequentialLR(
        o, [S.LinearLR(o, start_factor=0.1, total_iters=4), S.ExponentialLR(o, gamma=0.8)],
        milestones=[5]),
}


def _trace(m, name, optimizer="SGD"):
    w = m.nn.Parameter(m.zeros(3))
    opt = (m.optim.SGD([w], lr=0.1, momentum=0.9) if optimizer == "SGD"
           else m.optim.Adam([w], lr=0.1))
    sched = SCHEDULES[name](m.optim.lr_scheduler, opt)
    lrs, momenta = [], []
    for _ in range(29):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
        group = opt.param_groups[0]
        momenta.append(group["betas"][0] if "betas" in group else group["momentum"])
    return lrs, momenta


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_matches_torch(name, optimizer):
    ours, theirs = _trace(fastnn, name, optimizer), _trace(torch, name, optimizer)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)


def test_reduce_on_plateau_matches_torch():
    metrics = [1.0, 0.9, 0.91, 0.92, 0.95, 0.89, 0.9, 0.9, 0.9, 0.9, 0.85, 0.9, 0.9, 0.9]
    traces = []
    for m in (torch, fastnn):
        opt = m.optim.SGD([m.nn.Parameter(m.zeros(2))], lr=1.0)
        sched = m.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=2, factor=0.5, cooldown=1,
                                                       min_lr=0.1)
        trace = []
        for value in metrics:
            sched.step(value)
            trace.append(opt.param_groups[0]["lr"])
        traces.append(trace)
    assert traces[0] == traces[1]


def test_one_cycle_past_its_steps_raises_like_torch():
    for m in (torch, fastnn):
        opt = m.optim.SGD([m.nn.Parameter(m.zeros(2))], lr=0.1, momentum=0.9)
        sched = m.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
        for _ in range(3):
            opt.step()
            sched.step()
        opt.step()
        with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of "
                                             "total steps is 3"):
            sched.step()
    assert math.isfinite(sched.get_last_lr()[0])
