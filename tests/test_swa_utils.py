"""torch.optim.swa_utils: AveragedModel (SWA and EMA, parameters or buffers too), SWALR and
update_bn, against torch on one training program, and the averages by their definitions."""
import numpy as np
import pytest

import fastnn
from conftest import requires_torch

try:
    import torch
except ImportError:
    torch = None


def _program(m, averaging, strategy):
    """Four epochs of SGD under cosine annealing, then SWA/EMA epochs under SWALR, then
    update_bn; returns what a user would look at."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 5)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    init = [rng.standard_normal(s).astype(np.float32) * 0.3
            for s in [(8, 5), (8,), (8,), (8,), (3, 8), (3,)]]
    net = m.nn.Sequential(m.nn.Linear(5, 8), m.nn.BatchNorm1d(8), m.nn.ReLU(),
                          m.nn.Linear(8, 3))
    with m.no_grad():
        for p, w in zip(net.parameters(), init):
            p.copy_(m.tensor(w))
    opt = m.optim.SGD(net.parameters(), lr=0.5, momentum=0.9)
    cosine = m.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20)
    swa = m.optim.swa_utils
    kwargs = {"swa": {}, "ema-params-and-buffers": dict(
        multi_avg_fn=swa.get_ema_multi_avg_fn(0.9), use_buffers=True),
        "ema-avg-fn": dict(avg_fn=swa.get_ema_avg_fn(0.8))}[averaging]
    averaged = swa.AveragedModel(net, **kwargs)
    swa_scheduler = swa.SWALR(opt, swa_lr=0.05, anneal_epochs=3, anneal_strategy=strategy)
    loader = [(m.tensor(x[i:i + 16]), m.tensor(y[i:i + 16])) for i in range(0, 64, 16)]
    lrs = []
    for epoch in range(10):
        for xb, yb in loader:
            opt.zero_grad()
            m.nn.functional.cross_entropy(net(xb), yb).backward()
            opt.step()
        if epoch >= 4:
            averaged.update_parameters(net)
            swa_scheduler.step()
        else:
            cosine.step()
        lrs.append(opt.param_groups[0]["lr"])
    swa.update_bn(loader, averaged)
    return {"out": averaged(m.tensor(x)).detach().numpy(), "lrs": np.array(lrs),
            "n": int(averaged.n_averaged), "mean": averaged.module[1].running_mean.numpy(),
            "keys": list(averaged.state_dict()), "training": averaged.training}


@requires_torch
@pytest.mark.parametrize("averaging", ["swa", "ema-params-and-buffers", "ema-avg-fn"])
@pytest.mark.parametrize("strategy", ["cos", "linear"])
def test_an_swa_program_matches_torch(averaging, strategy):
    ours, theirs = _program(fastnn, averaging, strategy), _program(torch, averaging, strategy)
    assert ours["keys"] == theirs["keys"] and ours["n"] == theirs["n"] == 6
    assert ours["training"] == theirs["training"]
    np.testing.assert_allclose(ours["lrs"], theirs["lrs"], rtol=1e-12)
    for key in ("out", "mean"):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, atol=1e-5)


def test_swa_is_the_mean_of_the_snapshots_and_ema_the_decayed_sum():
    net = fastnn.nn.Linear(3, 2)
    swa = fastnn.optim.swa_utils.AveragedModel(net)
    ema = fastnn.optim.swa_utils.AveragedModel(
        net, multi_avg_fn=fastnn.optim.swa_utils.get_ema_multi_avg_fn(0.5))
    snapshots = []
    for k in range(4):
        with fastnn.no_grad():
            net.weight.fill_(float(k))
        snapshots.append(net.weight.detach().numpy().copy())
        swa.update_parameters(net)
        ema.update_parameters(net)
    np.testing.assert_allclose(swa.module.weight.detach().numpy(), np.mean(snapshots, 0))
    # EMA starts from the first snapshot: ((0 * .5 + 1 * .5) * .5 + 2 * .5) * .5 + 3 * .5
    np.testing.assert_allclose(ema.module.weight.detach().numpy(), 2.125)
    assert int(swa.n_averaged) == 4 and not swa.module.weight.grad


def test_swalr_reaches_and_holds_the_swa_rate():
    opt = fastnn.optim.SGD([fastnn.nn.Parameter(fastnn.zeros(1))], lr=1.0)
    scheduler = fastnn.optim.swa_utils.SWALR(opt, swa_lr=0.1, anneal_epochs=4,
                                             anneal_strategy="linear")
    rates = []
    for _ in range(6):
        scheduler.step()
        rates.append(opt.param_groups[0]["lr"])
    np.testing.assert_allclose(rates, [0.775, 0.55, 0.325, 0.1, 0.1, 0.1])


def test_bad_arguments_are_refused_as_torch_does():
    swa = fastnn.optim.swa_utils
    opt = fastnn.optim.SGD([fastnn.nn.Parameter(fastnn.zeros(1))], lr=1.0)
    with pytest.raises(ValueError, match="Invalid decay value 1.5"):
        swa.get_ema_multi_avg_fn(1.5)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear'"):
        swa.SWALR(opt, 0.1, anneal_strategy="step")
    with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0"):
        swa.SWALR(opt, 0.1, anneal_epochs=-1)
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        swa.AveragedModel(fastnn.nn.Linear(2, 2), avg_fn=swa.get_swa_avg_fn(),
                          multi_avg_fn=swa.get_swa_multi_avg_fn())


def test_batchnorm_cumulative_statistics_and_resets_match_torch():
    """momentum=None (update_bn's mode): running stats are the plain mean over batches."""
    rng = np.random.default_rng(1)
    batches = [rng.standard_normal((8, 3, 4, 4)).astype(np.float32) * (k + 1) for k in range(3)]
    bn = fastnn.nn.BatchNorm2d(3, momentum=None)
    for b in batches:
        bn(fastnn.tensor(b))
    np.testing.assert_allclose(bn.running_mean.numpy(),
                               np.mean([b.mean(axis=(0, 2, 3)) for b in batches], 0), rtol=1e-5)
    assert int(bn.num_batches_tracked) == 3
    bn.reset_running_stats()
    assert not bn.running_mean.numpy().any() and int(bn.num_batches_tracked) == 0
    np.testing.assert_allclose(bn.running_var.numpy(), 1)
