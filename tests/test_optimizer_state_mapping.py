"""optimizer.state is torch's defaultdict keyed by the parameters (optimizer.state[p] worked
only by id before, and raised torch's ambiguous-bool error for a tensor key); state_dict()
holds tensors, as torch's; param_groups carry torch's keys (foreach, capturable,
differentiable) for every optimizer."""
import copy
import pickle

import pytest

import fastnn


def _stepped(name="Adam", **kw):
    p = fastnn.nn.Parameter(fastnn.ones(2))
    opt = getattr(fastnn.optim, name)([p], **kw)
    (p * p).sum().backward()
    opt.step()
    return p, opt


def test_state_is_keyed_by_the_parameter():
    p, opt = _stepped()
    assert p in opt.state and sorted(opt.state[p]) == ["exp_avg", "exp_avg_sq", "step"]
    assert list(opt.state) == [p] and list(opt.state.keys())[0] is p
    for param, state in opt.state.items():
        assert param is p and "exp_avg" in state
    other = fastnn.nn.Parameter(fastnn.ones(1))
    assert opt.state[other] == {}  # defaultdict(dict), as torch's
    assert len(copy.deepcopy(opt).state) == len(pickle.loads(pickle.dumps(opt)).state) == 2


def test_state_dict_holds_tensors_and_round_trips():
    p, opt = _stepped()
    sd = opt.state_dict()
    assert isinstance(sd["state"][0]["exp_avg"], fastnn.Tensor)
    before = opt.state[p]["exp_avg"].copy()
    opt.load_state_dict(sd)
    assert (opt.state[p]["exp_avg"] == before).all()
    (p * p).sum().backward()
    opt.step()


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam", "Adam", "SGD"])
def test_param_group_keys_match_torch(name):
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(1))], lr=0.1)
    ours = getattr(fastnn.optim, name)([fastnn.nn.Parameter(fastnn.ones(1))], lr=0.1)
    assert set(theirs.defaults) <= set(ours.defaults) | {"fused"}
