"""Small parts of torch's API that ported programs print or call: return types
(torch.return_types.max(...)), torch.Size slices, Module.get_submodule / get_parameter /
get_buffer, shared modules listed once, Sequential slices keeping names, ParameterList and
ParameterDict printing, 0-d tensors through save/load, and mean()'s dtype message."""
import io
import pickle

import numpy as np
import pytest

import fastnn
from conftest import requires_torch
from fastnn import nn


def test_return_types_are_named_tuples_that_print_like_torch():
    x = fastnn.tensor([[1., 5.], [4., 2.]])
    r = x.max(1)
    values, indices = r
    assert isinstance(r, tuple) and type(r) is fastnn.return_types.max
    assert r.values is values and r[1] is indices
    assert repr(r).startswith("fastnn.return_types.max(\nvalues=tensor([5., 4.]),\nindices=")
    again = pickle.loads(pickle.dumps(r))
    assert type(again) is fastnn.return_types.max
    np.testing.assert_array_equal(again.indices.numpy(), [1, 0])
    assert type(fastnn.sort(x)).__name__ == "sort" and type(x.topk(1)).__name__ == "topk"
    assert type(fastnn.linalg.svd(x)).__name__ == "linalg_svd"


def test_size_slices_and_sums_stay_sizes():
    s = fastnn.zeros(2, 3, 4).shape
    assert isinstance(s[1:], fastnn.Size) and s[1:] == (3, 4)
    assert repr(s[1:]) == "fastnn.Size([3, 4])"
    assert isinstance(s[:1] + (5,), fastnn.Size) and isinstance(s[0], int)


def test_get_submodule_parameter_and_buffer_with_torchs_errors():
    m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    assert m.get_submodule("0") is m[0] and m.get_submodule("") is m
    assert m.get_parameter("0.bias") is m[0].bias
    assert m.get_buffer("1.running_mean") is m[1].running_mean
    with pytest.raises(AttributeError, match="Sequential has no attribute `2`"):
        m.get_submodule("2")
    with pytest.raises(AttributeError, match="`running_mean` is not an nn.Parameter"):
        m.get_parameter("1.running_mean")
    with pytest.raises(AttributeError, match="`weight` is not a buffer"):
        m.get_buffer("1.weight")


def test_a_shared_module_is_listed_once_but_saved_under_both_names():
    shared = nn.Linear(2, 2)
    m = nn.Sequential(shared, nn.ReLU(), shared)
    assert [name for name, _ in m.named_modules()] == ["", "0", "1"]
    assert len(list(m.named_modules(remove_duplicate=False))) == 4
    assert list(m.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(list(m.parameters())) == 2


def test_sequential_slices_keep_the_childrens_names():
    m = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    tail = m[1:]
    assert list(tail._modules) == ["1", "2"] and tail[1] is m[2]


@requires_torch
@pytest.mark.parametrize("build", [
    lambda nn, t: nn.ParameterList([nn.Parameter(t.ones(2, 3)), t.ones(2)]),
    lambda nn, t: nn.ParameterDict({"a": nn.Parameter(t.ones(2, 3)),
                                    "b": nn.Parameter(t.ones(2, dtype=t.float64))}),
    lambda nn, t: nn.ParameterList(),
    lambda nn, t: nn.Sequential(nn.Linear(1, 1), nn.ParameterList([nn.Parameter(t.ones(1))])),
])
def test_parameter_containers_print_as_torchs(build):
    import torch

    mine = repr(build(nn, fastnn)).replace("fastnn.", "torch.")
    assert mine == repr(build(torch.nn, torch))


def test_zero_dim_tensors_come_back_zero_dim_so_batchnorm_checkpoints_load():
    bn = nn.BatchNorm1d(3)
    bn(fastnn.ones(4, 3))
    for tree in (bn.state_dict(), {"model": bn.state_dict(), "epoch": 1}):
        buf = io.BytesIO()
        fastnn.save(tree, buf)
        buf.seek(0)
        loaded = fastnn.load(buf)
        state = loaded.get("model", loaded)
        assert state["num_batches_tracked"].shape == ()
        assert str(nn.BatchNorm1d(3).load_state_dict(state)) == "<All keys matched successfully>"


def test_mean_of_integers_names_the_dtype_as_torch():
    with pytest.raises(RuntimeError, match="Input dtype must be either a floating point or "
                                           "complex dtype. Got: Long"):
        fastnn.tensor([1, 2]).mean()


@requires_torch
@pytest.mark.parametrize("name", ["float32", "float64", "float16", "bfloat16"])
def test_finfo_matches_torch(name):
    import torch

    mine, theirs = fastnn.finfo(getattr(fastnn, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(mine, field) == getattr(theirs, field), field
    assert repr(mine) == repr(theirs)


@requires_torch
@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_matches_torch(name):
    import torch

    mine, theirs = fastnn.iinfo(getattr(fastnn, name)), torch.iinfo(getattr(torch, name))
    assert (mine.bits, mine.max, mine.min, mine.dtype) == (theirs.bits, theirs.max, theirs.min,
                                                           theirs.dtype)
    assert repr(mine) == repr(theirs)
    with pytest.raises(TypeError):
        fastnn.iinfo(fastnn.float32)


def test_absent_accelerators_answer_as_on_torchs_cpu_build():
    # pytorch/examples (mnist_forward_forward) choose the device this way
    assert not fastnn.xpu.is_available() and not fastnn.backends.mps.is_available()
    assert fastnn.xpu.device_count() == 0 == fastnn.mps.device_count()
    fastnn.xpu.empty_cache(), fastnn.mps.manual_seed(0)  # no-ops, as torch's
    with pytest.raises(AssertionError, match="Torch not compiled with XPU enabled"):
        fastnn.xpu.synchronize()
    with pytest.raises(RuntimeError, match=r"Cannot execute emptyCache\(\) without MPS"):
        fastnn.mps.empty_cache()
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        fastnn.cuda.synchronize()


def test_apply_map_and_the_conjugate_transposes():
    x = fastnn.arange(4.0).reshape(2, 2)
    assert x.H.numpy().tolist() == [[0.0, 2.0], [1.0, 3.0]] and x.mH.shape == (2, 2)
    assert x.apply_(lambda v: v * 10).numpy().tolist() == [[0.0, 10.0], [20.0, 30.0]]
    assert x.map_(fastnn.ones(2), lambda a, b: a + b).numpy().tolist() == [[1.0, 11.0],
                                                                            [21.0, 31.0]]
    with pytest.raises(RuntimeError, match="tensor.H is only supported on matrices"):
        fastnn.ones(2, 2, 2).H
    with pytest.raises(RuntimeError, match="apply_ is only implemented"):
        (fastnn.ones(2, requires_grad=True) * 1).apply_(lambda v: v)


def test_remainder_by_a_negative_divisor_gives_positive_zero():
    out = fastnn.tensor([0.0, 3.0]) % -5
    assert not np.signbit(out.numpy()[0]) and out.numpy().tolist() == [0.0, -2.0]


def test_state_dict_hooks_extra_state_and_metadata_as_torch():
    m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    log = []
    m.register_state_dict_pre_hook(lambda mod, prefix, keep_vars: log.append(("pre", prefix)))
    m[0].register_state_dict_post_hook(
        lambda mod, sd, prefix, local: log.append(("post", prefix, len(sd))))
    state = m.state_dict()
    assert log == [("pre", ""), ("post", "0.", 2)]
    assert state._metadata[""] == {"version": 1} and "1" in state._metadata

    def rename(module, sd, prefix, local, strict, missing, unexpected, errors):
        if prefix + "old_weight" in sd:
            sd[prefix + "weight"] = sd.pop(prefix + "old_weight")

    m[0].register_load_state_dict_pre_hook(rename)
    renamed = dict(state)
    renamed["0.old_weight"] = renamed.pop("0.weight")
    m.register_load_state_dict_post_hook(lambda mod, keys: log.append(("loaded", len(keys[0]))))
    assert str(m.load_state_dict(renamed)) == "<All keys matched successfully>"
    assert log[-1] == ("loaded", 0) and len(log) == 3  # loading ran no save hooks

    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin, self.count = nn.Linear(1, 1), 5

        def get_extra_state(self):
            return {"count": self.count}

        def set_extra_state(self, state):
            self.count = state["count"]

    saved = Counter().state_dict()
    assert list(saved) == ["_extra_state", "lin.weight", "lin.bias"]
    other = Counter()
    other.count = 0
    other.load_state_dict(saved)
    assert other.count == 5
    assert Counter().share_memory() is not None
    assert nn.Linear(2, 2).to_empty(device="cpu").weight.shape == (2, 2)


def test_replacing_a_child_or_parameter_keeps_its_place_as_torch():
    # transfer learning's surgery: replace the stem, then rebuild from children() in order
    torch = pytest.importorskip("torch")
    orders = []
    for lib in (torch, fastnn):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.stem = lib.nn.Conv2d(3, 4, 3)
                self.body = lib.nn.ReLU()
                self.head = lib.nn.Linear(4, 2)
                self.scale = lib.nn.Parameter(lib.ones(1))
                self.shift = lib.nn.Parameter(lib.zeros(1))

        net = Net()
        net.stem = lib.nn.Conv2d(1, 4, 3)
        net.scale = lib.nn.Parameter(lib.ones(2))
        net.body = None
        orders.append(([name for name, _ in net.named_children()],
                       [name for name, _ in net.named_parameters()], list(net.state_dict()),
                       net.body))
    assert orders[0] == orders[1]


@pytest.mark.parametrize("assign", [
    lambda lib, net: setattr(net, "weight", lib.ones(2, 2)),
    lambda lib, net: setattr(net, "weight", 3),
    lambda lib, net: setattr(net, "act", "relu"),
    lambda lib, net: setattr(net, "act", lib.ones(1)),
])
def test_only_a_parameter_or_module_replaces_one_as_torch(assign):
    torch = pytest.importorskip("torch")
    messages = []
    for lib in (torch, fastnn):
        net = lib.nn.Linear(2, 2)
        net.act = lib.nn.ReLU()
        with pytest.raises(TypeError) as error:
            assign(lib, net)
        messages.append(str(error.value).replace("torch", "fastnn"))
        assert isinstance(net.weight, lib.nn.Parameter) and isinstance(net.act, lib.nn.ReLU)
    assert messages[0] == messages[1]
