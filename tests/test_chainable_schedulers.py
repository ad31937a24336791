"""Chainable learning-rate schedules, as torch's: each step of StepLR, MultiStepLR,
ExponentialLR, ConstantLR, LinearLR, PolynomialLR, CosineAnnealingLR and MultiplicativeLR scales
the rate the optimizer holds now. Two schedulers stepped on one optimizer compose (the example in
torch's optim documentation), ChainedScheduler composes a list, a rate set by hand carries on,
step(epoch) takes the closed form with torch's deprecation warning. Every trace, warning and
error is compared with torch's."""
import pickle
import warnings

import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")


def _optimizer(m, groups=1):
    params = [m.nn.Parameter(m.zeros(2)) for _ in range(groups)]
    return m.optim.SGD([{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(params)],
                       lr=0.1, momentum=0.9)


def _run(m, build, epochs=25, poke=None, step_args=None):
    """Learning rates of every group after each epoch; `build(S, opt)` returns the schedulers
    stepped back to back, `poke(opt, epoch)` may change the rate by hand."""
    opt = _optimizer(m, groups=2)
    schedulers = build(m.optim.lr_scheduler, opt)
    trace = []
    for epoch in range(epochs):
        opt.step()
        for s in schedulers:
            s.step() if step_args is None else s.step(step_args(epoch))
        if poke is not None:
            poke(opt, epoch)
        trace.append([g["lr"] for g in opt.param_groups])
    return np.array(trace)


def _same_as_torch(build, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ours, theirs = _run(fastnn, build, **kwargs), _run(torch, build, **kwargs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-16)
    return ours


BACK_TO_BACK = {
    # torch's optim documentation: "Most learning rate schedulers can be called back-to-back"
    "ExponentialLR + MultiStepLR": lambda S, o: [S.ExponentialLR(o, gamma=0.9),
                                                 S.MultiStepLR(o, milestones=[5, 12], gamma=0.1)],
    "LinearLR warm-up + CosineAnnealingLR": lambda S, o: [
        S.LinearLR(o, start_factor=0.1, total_iters=5), S.CosineAnnealingLR(o, T_max=8)],
    "ConstantLR + StepLR + PolynomialLR": lambda S, o: [
        S.ConstantLR(o, factor=0.5, total_iters=3), S.StepLR(o, step_size=4, gamma=0.5),
        S.PolynomialLR(o, total_iters=20, power=2.0)],
    "MultiplicativeLR + ExponentialLR": lambda S, o: [
        S.MultiplicativeLR(o, lambda e: 0.97), S.ExponentialLR(o, gamma=0.99)],
    "ChainedScheduler(ConstantLR, ExponentialLR)": lambda S, o: [S.ChainedScheduler(
        [S.ConstantLR(o, factor=0.1, total_iters=2), S.ExponentialLR(o, gamma=0.9)])],
    "ChainedScheduler(LinearLR, CosineAnnealingLR) over 3 periods": lambda S, o: [
        S.ChainedScheduler([S.LinearLR(o, start_factor=0.5, total_iters=4),
                            S.CosineAnnealingLR(o, T_max=4, eta_min=0.01)], optimizer=o)],
    "SequentialLR of a ChainedScheduler": lambda S, o: [S.SequentialLR(
        o, [S.ChainedScheduler([S.ConstantLR(o, factor=0.5, total_iters=2),
                                S.ExponentialLR(o, gamma=0.9)]),
            S.StepLR(o, step_size=3, gamma=0.5)], milestones=[6])],
    "SequentialLR starting at a later milestone list": lambda S, o: [S.SequentialLR(
        o, [S.LinearLR(o, start_factor=0.2, total_iters=3), S.ExponentialLR(o, gamma=0.8),
            S.CosineAnnealingLR(o, T_max=5)], milestones=[4, 9])],
}


@pytest.mark.parametrize("name", list(BACK_TO_BACK))
def test_schedulers_stepped_together_compose_like_torch(name):
    trace = _same_as_torch(BACK_TO_BACK[name])
    assert len(np.unique(trace[:, 0])) > 3  # the schedule moved


def test_back_to_back_is_the_product_of_the_two_schedules():
    trace = _same_as_torch(BACK_TO_BACK["ExponentialLR + MultiStepLR"], epochs=14)
    epochs = np.arange(1, 15)
    expected = 0.1 * 0.9 ** epochs * 0.1 ** ((epochs >= 5).astype(int) + (epochs >= 12))
    np.testing.assert_allclose(trace[:, 0], expected, rtol=1e-12)


@pytest.mark.parametrize("name", ["StepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
                                  "MultiStepLR", "PolynomialLR"])
def test_a_rate_set_by_hand_carries_on_like_torch(name):
    build = {
        "StepLR": lambda S, o: [S.StepLR(o, step_size=3, gamma=0.5)],
        "ExponentialLR": lambda S, o: [S.ExponentialLR(o, gamma=0.9)],
        "CosineAnnealingLR": lambda S, o: [S.CosineAnnealingLR(o, T_max=10, eta_min=0.001)],
        "LinearLR": lambda S, o: [S.LinearLR(o, start_factor=0.25, total_iters=8)],
        "MultiStepLR": lambda S, o: [S.MultiStepLR(o, milestones=[3, 3, 9], gamma=0.5)],
        "PolynomialLR": lambda S, o: [S.PolynomialLR(o, total_iters=12, power=0.5)],
    }[name]

    def poke(opt, epoch):
        if epoch == 4:
            opt.param_groups[0]["lr"] = 0.5
    trace = _same_as_torch(build, poke=poke, epochs=15)
    assert trace[4, 0] == 0.5 and trace[4, 1] != 0.5


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "ConstantLR",
                                  "LinearLR", "PolynomialLR", "CosineAnnealingLR"])
def test_step_with_an_epoch_takes_the_closed_form_and_warns_like_torch(name):
    build = {
        "StepLR": lambda S, o: [S.StepLR(o, step_size=3, gamma=0.5)],
        "MultiStepLR": lambda S, o: [S.MultiStepLR(o, milestones=[2, 5, 5], gamma=0.5)],
        "ExponentialLR": lambda S, o: [S.ExponentialLR(o, gamma=0.9)],
        "ConstantLR": lambda S, o: [S.ConstantLR(o, factor=0.25, total_iters=4)],
        "LinearLR": lambda S, o: [S.LinearLR(o, start_factor=0.25, total_iters=8)],
        "PolynomialLR": lambda S, o: [S.PolynomialLR(o, total_iters=12, power=0.5)],
        "CosineAnnealingLR": lambda S, o: [S.CosineAnnealingLR(o, T_max=6, eta_min=0.001)],
    }[name]
    _same_as_torch(build, step_args=lambda epoch: 2 * epoch + 1, epochs=10)
    messages = []
    for m in (torch, fastnn):
        opt = _optimizer(m)
        scheduler = build(m.optim.lr_scheduler, opt)[0]
        opt.step()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            scheduler.step(3)
        messages.append([str(w.message) for w in caught])
    assert messages[0] == messages[1] and "deprecated" in messages[1][0]


def _warnings_of(action):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action()
    return [(w.category, str(w.message)) for w in caught]


def test_stepping_the_scheduler_first_warns_like_torch():
    seen = []
    for m in (torch, fastnn):
        opt = _optimizer(m)
        scheduler = m.optim.lr_scheduler.StepLR(opt, step_size=2)
        seen.append(_warnings_of(scheduler.step))
        seen.append(_warnings_of(scheduler.step))  # only the first step is checked
    assert seen[0] == seen[2] and seen[1] == seen[3] == []
    assert "before `optimizer.step()`" in seen[2][0][1]
    # in the right order: no warning
    for m in (torch, fastnn):
        opt = _optimizer(m)
        scheduler = m.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        assert _warnings_of(lambda: (opt.step(), scheduler.step())) == []


def test_a_replaced_optimizer_step_and_get_lr_outside_step_warn_like_torch():
    seen = []
    for m in (torch, fastnn):
        opt = _optimizer(m)
        scheduler = m.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        opt.step = lambda: None  # overridden after the scheduler wrapped it
        seen.append(_warnings_of(scheduler.step))
        seen.append(_warnings_of(scheduler.get_lr))
    assert seen[0] == seen[2] and "overridden" in seen[2][0][1]
    assert seen[1] == seen[3] and "get_last_lr()" in seen[3][0][1]


def test_the_wrapped_optimizer_step_still_steps_and_returns_the_closure_loss():
    w = fastnn.nn.Parameter(fastnn.tensor([1.0, -2.0]))
    opt = fastnn.optim.SGD([w], lr=0.5)
    fastnn.optim.lr_scheduler.StepLR(opt, step_size=1)
    fastnn.optim.lr_scheduler.StepLR(opt, step_size=1)  # wrapped once only

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss
    assert float(opt.step(closure)) == 5.0
    np.testing.assert_allclose(w.detach().numpy(), [0.0, 0.0])
    assert opt._opt_called and opt.step._wrapped_by_lr_sched


def _message(m, action):
    with pytest.raises(Exception) as info:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            action(m)
    return type(info.value), str(info.value)


class _Other:
    param_groups = []


@pytest.mark.parametrize("case", [
    "chained empty", "chained plateau", "chained other optimizer", "chained no optimizer",
    "sequential empty", "sequential plateau", "sequential other optimizer", "sequential milestones",
    "not an optimizer", "resume without initial_lr", "multiplicative not callable",
    "plateau min_lr count", "plateau mode", "plateau threshold mode", "plateau factor",
    "constant factor", "linear start", "linear end", "warm restarts eta_min",
    "lambda count"])
def test_errors_match_torch(case):
    def act(m):
        S = m.optim.lr_scheduler
        o, other = _optimizer(m), _optimizer(m)
        {
            "chained empty": lambda: S.ChainedScheduler([]),
            "chained plateau": lambda: S.ChainedScheduler([S.StepLR(o, 2),
                                                           S.ReduceLROnPlateau(o)]),
            "chained other optimizer": lambda: S.ChainedScheduler([S.StepLR(o, 2),
                                                                   S.StepLR(other, 2)]),
            "chained no optimizer": lambda: S.ChainedScheduler([S.StepLR(o, 2), object()],
                                                               optimizer=o),
            "sequential empty": lambda: S.SequentialLR(o, [], milestones=[]),
            "sequential plateau": lambda: S.SequentialLR(o, [S.ReduceLROnPlateau(o)], []),
            "sequential other optimizer": lambda: S.SequentialLR(
                o, [S.StepLR(o, 2), S.StepLR(other, 2)], milestones=[3]),
            "sequential milestones": lambda: S.SequentialLR(
                o, [S.StepLR(o, 2), S.StepLR(o, 3)], milestones=[3, 5]),
            "not an optimizer": lambda: S.StepLR(_Other(), 2),
            "resume without initial_lr": lambda: S.StepLR(o, 2, last_epoch=4),
            "multiplicative not callable": lambda: S.MultiplicativeLR(o, 0.9),
            "plateau min_lr count": lambda: S.ReduceLROnPlateau(o, min_lr=[0.1, 0.2]),
            "plateau mode": lambda: S.ReduceLROnPlateau(o, mode="up"),
            "plateau threshold mode": lambda: S.ReduceLROnPlateau(o, threshold_mode="pct"),
            "plateau factor": lambda: S.ReduceLROnPlateau(o, factor=1.0),
            "constant factor": lambda: S.ConstantLR(o, factor=1.5),
            "linear start": lambda: S.LinearLR(o, start_factor=0.0),
            "linear end": lambda: S.LinearLR(o, end_factor=1.5),
            "warm restarts eta_min": lambda: S.CosineAnnealingWarmRestarts(o, 3, eta_min="0"),
            "lambda count": lambda: S.LambdaLR(o, [lambda e: 1.0, lambda e: 0.5]),
        }[case]()
    theirs, ours = _message(torch, act), _message(fastnn, act)
    assert ours[0] is theirs[0]
    # the optimizers' reprs differ between the libraries: compare up to the repr
    if "has " in theirs[1]:
        assert ours[1].split(" has ")[0] == theirs[1].split(" has ")[0]
        assert ours[1].rsplit("which", 1)[1] == theirs[1].rsplit("which", 1)[1]
    else:
        assert ours[1] == theirs[1]


def test_resuming_with_last_epoch_continues_like_torch():
    """A checkpointed optimizer (with initial_lr in its groups) and last_epoch: the resumed
    schedule continues from the loaded rate, as torch's does."""
    traces = []
    for m in (torch, fastnn):
        opt = _optimizer(m)
        S = m.optim.lr_scheduler
        first = S.ExponentialLR(opt, gamma=0.8)
        for _ in range(5):
            opt.step()
            first.step()
        state = opt.state_dict()
        opt2 = _optimizer(m)
        opt2.load_state_dict(state)
        resumed = S.ExponentialLR(opt2, gamma=0.8, last_epoch=4)
        trace = [opt2.param_groups[0]["lr"]]
        for _ in range(3):
            opt2.step()
            resumed.step()
            trace.append(resumed.get_last_lr()[0])
        traces.append(trace)
    np.testing.assert_allclose(traces[1], traces[0], rtol=1e-14)


class _Halving:
    """A callable lr_lambda with state: saved in state_dict, as torch saves it."""

    def __init__(self):
        self.factor = 0.5

    def __call__(self, epoch):
        return self.factor


def test_state_dicts_round_trip_like_torch():
    for m in (torch, fastnn):
        S = m.optim.lr_scheduler
        opt = _optimizer(m)
        chained = S.ChainedScheduler([S.ExponentialLR(opt, gamma=0.9),
                                      S.MultiplicativeLR(opt, _Halving())])
        for _ in range(3):
            opt.step()
            chained.step()
        state = chained.state_dict()
        assert [type(s) for s in state["_schedulers"]] == [dict, dict]
        assert state["_schedulers"][1]["lr_lambdas"] == [{"factor": 0.5}]
        pickle.dumps(state)
        opt2 = _optimizer(m)
        again = S.ChainedScheduler([S.ExponentialLR(opt2, gamma=0.9),
                                    S.MultiplicativeLR(opt2, _Halving())])
        again._schedulers[1].lr_lambdas[0].factor = 0.25
        again.load_state_dict(state)
        assert again._schedulers[1].lr_lambdas[0].factor == 0.5
        assert again._schedulers[0].last_epoch == 3
        assert "_schedulers" in state  # load_state_dict leaves the caller's dict whole


def test_reduce_on_plateau_is_a_scheduler_and_takes_tensor_metrics():
    opt = _optimizer(fastnn)
    plateau = fastnn.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    assert isinstance(plateau, fastnn.optim.lr_scheduler.LRScheduler)
    plateau.step(fastnn.tensor(1.0))
    plateau.step(fastnn.tensor(2.0))
    assert plateau.get_last_lr() == [0.05] and not plateau.in_cooldown


def test_the_old_base_class_name_is_kept_like_torch():
    for m in (torch, fastnn):
        S = m.optim.lr_scheduler
        assert issubclass(S._LRScheduler, S.LRScheduler)
        assert S._LRScheduler.__name__ == "_LRScheduler"
