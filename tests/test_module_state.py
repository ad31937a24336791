"""Module state as torch keeps it: register_buffer(persistent=...), nn.Buffer, state_dict's
prefix/keep_vars/destination, load_state_dict's report (missing, unexpected, size mismatch)
and assign=True, with torch's messages."""
import numpy as np
import pytest

import fastnn
from conftest import requires_torch

try:
    import torch
except ImportError:
    torch = None


def _story(m):
    out = []

    class Net(m.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("pe", m.ones(3), persistent=False)
            self.steps = m.nn.Buffer(m.zeros(2))
            self.cache = m.nn.Buffer(m.zeros(1), persistent=False)
            self.lin = m.nn.Linear(2, 2)

    net = Net()
    out.append(list(net.state_dict()))
    out.append([name for name, _ in net.named_buffers()])
    out.append(list(net.state_dict(prefix="model.")))
    out.append(isinstance(net.steps, m.nn.Buffer))
    out.append(net.state_dict(keep_vars=True)["lin.weight"].requires_grad)
    out.append(net.state_dict()["lin.weight"].requires_grad)
    net.register_buffer("cache", m.zeros(1))  # registering again makes it persistent
    out.append(list(net.state_dict()))
    for args in [("a.b", None), ("training", None), ("x", 3), ("", None), (1, None)]:
        try:
            net.register_buffer(*args)
        except Exception as error:
            out.append(f"{type(error).__name__}: {error}")
    seq = m.nn.Sequential(m.nn.Linear(4, 2), m.nn.BatchNorm1d(2))
    bad = dict(seq.state_dict())
    bad.pop("0.bias")
    bad["extra"] = m.zeros(1)
    bad["0.weight"] = m.zeros(3, 4)
    for strict in (True, False):
        try:
            seq.load_state_dict(bad, strict=strict)
        except RuntimeError as error:
            out.append(str(error).replace("fastnn.Size", "torch.Size"))
    partial = dict(seq.state_dict())
    partial.pop("0.bias")
    out.append(repr(seq.load_state_dict(partial, strict=False)))
    out.append(repr(seq.load_state_dict(seq.state_dict())))
    fresh = {k: v.clone() + 1 for k, v in net.state_dict().items()}
    net.load_state_dict(fresh, assign=True)
    out.append((type(net.lin.weight).__name__, net.lin.weight.requires_grad,
                float(net.steps.sum()), net.lin.weight is not fresh["lin.weight"]))
    return out


@requires_torch
def test_buffers_and_state_dicts_behave_as_torchs():
    assert _story(fastnn) == _story(torch)


def test_non_persistent_buffers_move_with_the_module_but_stay_out_of_checkpoints():
    class Net(fastnn.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("table", fastnn.arange(4.0), persistent=False)

    net = Net().double()
    assert net.table.dtype == fastnn.float64
    assert list(net.state_dict()) == []
    np.testing.assert_array_equal(net.table.numpy(), [0, 1, 2, 3])
    with pytest.raises(AttributeError, match="cannot assign buffer before Module.__init__"):
        fastnn.nn.Module.__new__(fastnn.nn.Module).register_buffer("x", None)
