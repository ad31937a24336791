"""OneCycleLR's state_dict has torch's keys and layouts (_schedule_phases as dicts,
_anneal_func_type, use_beta1), so a scheduler saved by either library resumes in the other
on the same learning rates."""
import pytest

import fastnn

torch = pytest.importorskip("torch")


def _scheduler(lib, **kw):
    p = lib.nn.Parameter(lib.ones(2))
    opt = lib.optim.SGD([p], lr=0.1, momentum=0.9)
    return opt, lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=12, **kw)


@pytest.mark.parametrize("kw", [{}, {"anneal_strategy": "linear", "three_phase": True}])
def test_state_dict_keys_and_resuming_across_libraries(kw):
    ours_opt, ours = _scheduler(fastnn, **kw)
    theirs_opt, theirs = _scheduler(torch, **kw)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    for _ in range(4):
        theirs_opt.step()
        theirs.step()
    state = theirs.state_dict()
    assert ours.state_dict()["_schedule_phases"] == state["_schedule_phases"]
    ours.load_state_dict(state)
    ours_opt.param_groups[0].update(theirs_opt.param_groups[0] | {"params":
                                                                  ours_opt.param_groups[0]["params"]})
    for _ in range(6):
        ours_opt.step()
        ours.step()
        theirs_opt.step()
        theirs.step()
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr())
        assert ours_opt.param_groups[0]["momentum"] == pytest.approx(
            theirs_opt.param_groups[0]["momentum"])
