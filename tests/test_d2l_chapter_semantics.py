"""Semantics that d2l's chapters (run cell by cell on fastnn and on torch) depend on: nested
data holding tensors, loading a checkpoint into lazy layers, jit.script's module with save and
load, and torch's answers from torch.cuda on a machine without CUDA. The expected values are
torch 2.13's; where torch is installed the same calls are also run on it."""
import io
import zipfile

import numpy as np
import pytest

import fastnn
from fastnn import nn

try:
    import torch
except ImportError:  # torch is an optional test peer
    torch = None

# data -> (shape, dtype name, values) as torch gives them, or (error class, message)
NESTED = {
    "one-element tensors as numbers": (
        lambda t: [t.tensor([1.]), t.tensor([2.])], ((2,), "float32", [1.0, 2.0])),
    "a tensor in a deeper position is read as rows": (
        lambda t: [[1., 2.], t.tensor([2., 5.])], ((2, 2), "float32", [[1., 2.], [2., 5.]])),
    "int64 tensor with a Python float": (
        lambda t: (t.tensor(1), 2.5), ((2,), "float32", [1.0, 2.5])),
    "float16 tensor with a Python int": (
        lambda t: [t.tensor(1.5, dtype=t.float16), 2], ((2,), "float16", [1.5, 2.0])),
    "int32 tensors keep int32": (
        lambda t: [t.tensor(1, dtype=t.int32), t.tensor(2, dtype=t.int32)],
        ((2,), "int32", [1, 2])),
    "float64 tensor with a Python int": (
        lambda t: [t.tensor(1., dtype=t.float64), 2], ((2,), "float64", [1.0, 2.0])),
    "bool tensor with a Python int": (
        lambda t: [t.tensor(True), 1], ((2,), "int64", [1, 1])),
    "a many-element tensor where a number belongs": (
        lambda t: [t.tensor([1., 3.]), t.tensor([2., 4.])],
        ("ValueError", "only one element tensors can be converted to Python scalars")),
    "ragged lists": (
        lambda t: [[1, 2], [3]], ("ValueError", "expected sequence of length 2 at dim 1 (got 1)")),
    "ragged with a tensor row": (
        lambda t: [[1., 2.], t.tensor([2.])],
        ("ValueError", "expected sequence of length 2 at dim 1 (got 1)")),
    "a number where a row belongs": (lambda t: [[1], 2], ("TypeError", "not a sequence")),
    "empty rows": (lambda t: [[], []], ((2, 0), "float32", [[], []])),
}


def _read(lib, make):
    try:
        r = lib.tensor(make(lib))
    except (TypeError, ValueError) as e:
        return type(e).__name__, str(e)
    return tuple(r.shape), str(r.dtype).split(".")[-1], r.tolist()


@pytest.mark.parametrize("case", list(NESTED))
def test_nested_data_is_read_as_torch_reads_it(case):
    make, expected = NESTED[case]
    assert _read(fastnn, make) == expected
    if torch is not None:
        assert _read(torch, make) == expected


def test_d2l_gradient_approximation_builds_a_vector_from_one_element_tensors():
    """d2l's multivariable-calculus cell: torch.tensor([exp(x)/..., exp(y)/...]) with x of
    shape (1,) and y 0-d is a vector of 2 numbers, so epsilon.dot(...) works."""
    x, y = fastnn.tensor([0.]), fastnn.log(fastnn.tensor(2.))
    grad = fastnn.tensor([fastnn.exp(x) / (fastnn.exp(x) + fastnn.exp(y)),
                          fastnn.exp(y) / (fastnn.exp(x) + fastnn.exp(y))])
    assert grad.shape == (2,)
    np.testing.assert_allclose(grad.numpy(), [1 / 3, 2 / 3], rtol=1e-6)
    assert float(fastnn.tensor([0.01, -0.03]).dot(grad)) == pytest.approx(0.01 / 3 - 0.02)


def test_nested_plain_numbers_keep_numpy_speed_path_values():
    big = [float(i) for i in range(1000)]
    assert fastnn.tensor(big).tolist() == big
    assert fastnn.tensor([[True, False]]).dtype == fastnn.bool


# --- lazy layers loaded from a checkpoint ------------------------------------------------------
def _lazy_net(lib):
    return lib.nn.Sequential(lib.nn.LazyLinear(8), lib.nn.ReLU(), lib.nn.LazyBatchNorm1d(),
                             lib.nn.LazyLinear(3))


def test_lazy_layers_take_their_shapes_from_load_state_dict():
    fastnn.manual_seed(0)
    net, x = _lazy_net(fastnn), fastnn.randn(4, 5)
    net(x)
    buf = io.BytesIO()
    fastnn.save(net.state_dict(), buf)
    buf.seek(0)
    clone = _lazy_net(fastnn)
    assert str(clone.load_state_dict(fastnn.load(buf))) == "<All keys matched successfully>"
    assert [tuple(p.shape) for p in clone.parameters()] == [(8, 5), (8,), (8,), (8,), (3, 8),
                                                           (3,)]
    assert type(clone[0]).__name__ == "LazyLinear"  # as torch: lazy until the first call
    assert "LazyLinear(in_features=0, out_features=8" in repr(clone)
    net.eval(), clone.eval()
    np.testing.assert_array_equal(clone(x).detach().numpy(), net(x).detach().numpy())
    assert [type(m).__name__ for m in clone] == ["Linear", "ReLU", "BatchNorm1d", "Linear"]
    assert clone[0].in_features == 5


def test_lazy_conv_loads_a_conv_state_dict():
    conv = nn.Conv2d(2, 4, 3)
    lazy = nn.LazyConv2d(4, 3)
    lazy.load_state_dict(conv.state_dict())
    x = fastnn.randn(1, 2, 5, 5)
    np.testing.assert_array_equal(lazy(x).detach().numpy(), conv(x).detach().numpy())
    assert type(lazy) is nn.Conv2d and lazy.in_channels == 2


def test_lazy_load_still_reports_mismatched_keys():
    with pytest.raises(RuntimeError, match="Missing key"):
        nn.LazyLinear(3).load_state_dict({"weight": fastnn.zeros(3, 2)})


# --- jit.script / save / load -----------------------------------------------------------------
class _MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.out = nn.Sequential(nn.ReLU(), nn.Linear(8, 2))

    def forward(self, x):
        return self.out(self.hidden(x))


def test_script_returns_a_script_module_sharing_the_parameters():
    net = _MLP()
    scripted = fastnn.jit.script(net)
    assert type(scripted).__name__ == "RecursiveScriptModule"
    assert isinstance(scripted, fastnn.jit.ScriptModule) and isinstance(scripted, nn.Module)
    assert type(net) is _MLP  # the original is left as it was
    assert scripted.hidden.weight is net.hidden.weight
    assert scripted.original_name == "_MLP" and scripted.out[1].original_name == "Linear"
    assert repr(scripted).splitlines()[:3] == [
        "RecursiveScriptModule(", "  original_name=_MLP",
        "  (hidden): RecursiveScriptModule(original_name=Linear)"]
    x = fastnn.randn(3, 4)
    np.testing.assert_array_equal(scripted(x).detach().numpy(), net(x).detach().numpy())
    scripted.eval()
    assert net.training and not scripted.training


def test_script_module_saves_and_loads(tmp_path):
    net = _MLP()
    scripted = fastnn.jit.script(net)
    x = fastnn.randn(3, 4)
    scripted.save(str(tmp_path / "mlp"))
    loaded = fastnn.jit.load(str(tmp_path / "mlp"))
    assert isinstance(loaded, fastnn.jit.ScriptModule)
    np.testing.assert_array_equal(loaded(x).detach().numpy(), net(x).detach().numpy())
    buf = io.BytesIO()
    fastnn.jit.save(scripted, buf, _extra_files={"note.txt": "hi"})
    buf.seek(0)
    extra = {"note.txt": ""}
    again = fastnn.jit.load(buf, _extra_files=extra)
    assert extra == {"note.txt": "hi"}
    np.testing.assert_array_equal(again(x).detach().numpy(), net(x).detach().numpy())


def test_jit_load_refuses_a_torchscript_zip_with_a_message(tmp_path):
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("model/constants.pkl", b"")
    with pytest.raises(RuntimeError, match="no TorchScript interpreter"):
        fastnn.jit.load(str(path))
    with pytest.raises(AttributeError, match="has no attribute 'save'"):
        fastnn.jit.save(_MLP(), io.BytesIO())


# --- torch.cuda without CUDA --------------------------------------------------------------------
CUDA_CALLS = {
    "synchronize": (lambda t: t.cuda.synchronize(), "AssertionError",
                    "Torch not compiled with CUDA enabled"),
    "get_device_properties": (lambda t: t.cuda.get_device_properties(0), "AssertionError",
                              "Torch not compiled with CUDA enabled"),
    "Event": (lambda t: t.cuda.Event(enable_timing=True), "RuntimeError",
              "Tried to instantiate dummy base class Event"),
    "Stream": (lambda t: t.cuda.Stream(), "RuntimeError",
               "torch.cuda.Stream requires CUDA support"),
    "tensor.cuda(1)": (lambda t: t.ones(2).cuda(1), "RuntimeError",
                       "Cannot access accelerator device when none is available."),
}


@pytest.mark.parametrize("name", list(CUDA_CALLS))
def test_cuda_calls_fail_as_on_torchs_cpu_build(name):
    call, cls, message = CUDA_CALLS[name]
    for lib in (fastnn, torch) if torch is not None else (fastnn,):
        with pytest.raises(Exception) as info:
            call(lib)
        assert (type(info.value).__name__, str(info.value)) == (cls, message)


def test_cuda_stream_none_is_a_context_that_does_nothing():
    with fastnn.cuda.stream(None):
        y = fastnn.ones(2) * 2
    assert y.tolist() == [2.0, 2.0]


# --- NumPy's argument names, accepted as torch's parser accepts them -------------------------
AXIS_CALLS = {
    "stack": lambda t, x: t.stack([x, x], axis=1),
    "cat": lambda t, x: t.cat([x, x], axis=1),
    "argmax": lambda t, x: t.argmax(x, axis=1),
    "amax keepdims": lambda t, x: t.amax(x, axis=0, keepdims=True),
    "softmax": lambda t, x: t.softmax(x, axis=1),
    "logsumexp": lambda t, x: t.logsumexp(x, axis=1),
    "unsqueeze": lambda t, x: t.unsqueeze(x, axis=0),
    "method max": lambda t, x: x.max(axis=1, keepdims=True).values,
    "method argmax": lambda t, x: x.argmax(axis=0),
    "method std": lambda t, x: x.std(axis=1),
    "method cumprod": lambda t, x: x.cumprod(axis=1),
    "method all": lambda t, x: (x > 0).all(axis=1),
}


@pytest.mark.parametrize("name", list(AXIS_CALLS))
def test_axis_and_keepdims_are_dim_and_keepdim(name):
    x = fastnn.tensor([[1.0, 3.0, 2.0], [4.0, 0.5, 6.0]])
    mine = AXIS_CALLS[name](fastnn, x)
    if torch is not None:
        theirs = AXIS_CALLS[name](torch, torch.tensor(x.numpy()))
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6)
        assert mine.shape == tuple(theirs.shape)


def test_axis_with_dim_is_refused():
    with pytest.raises(TypeError, match="multiple values for argument 'dim'"):
        fastnn.stack([fastnn.ones(2)], dim=0, axis=0)


def test_setitem_drops_the_values_leading_ones_as_torch():
    """d2l's sequence chapter: multistep_preds[i] = model(x.reshape(1, -1)), a (1, 1) output
    written into one element."""
    x = fastnn.zeros(5)
    x[2] = fastnn.ones(1, 1) * 3
    x[0:2] = fastnn.ones(1, 1, 2) * 7
    assert x.tolist() == [7, 7, 3, 0, 0]
    w = fastnn.ones(1, 1, requires_grad=True)
    y = fastnn.zeros(4)
    y[1] = w * 2
    y.sum().backward()
    assert y.tolist() == [0, 2, 0, 0] and w.grad.tolist() == [[2.0]]
    with pytest.raises(RuntimeError):
        x[0:2] = fastnn.ones(2, 1, 2)


@pytest.mark.parametrize("device", ["cpu", "cuda", "meta"])
def test_default_backend_for_device_as_torch(device):
    def answer(lib):
        try:
            return lib.distributed.get_default_backend_for_device(device)
        except ValueError as e:
            return "ValueError", str(e)
    mine = answer(fastnn)
    assert mine == {"cpu": "gloo", "cuda": "nccl"}.get(
        device, ("ValueError", f"Default backend not registered for device : {device}"))
    if torch is not None:
        assert mine == answer(torch)
    assert not fastnn.distributed.is_torchelastic_launched()
