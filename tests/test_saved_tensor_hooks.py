"""torch.autograd.graph's saved-tensor hooks (the "Hooks for autograd saved tensors"
tutorial): what pack_hook receives and what backward does with unpack_hook's results,
grad_fn._saved_* attributes, save_on_cpu, disable_saved_tensors_hooks; and torch.save keeping
requires_grad and Parameter types, which the tutorial's save-to-disk hooks rely on."""
import os

import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn.autograd import graph

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional peer
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def test_saved_attributes_name_the_inputs_and_the_result():
    a = fastnn.tensor([0.5, -1.0, 2.0], requires_grad=True)
    b = fastnn.ones(3, requires_grad=True)
    y = a * b
    assert y.grad_fn._saved_self is a and y.grad_fn._saved_other is b
    e = fastnn.exp(a)
    assert e.grad_fn._saved_result.equal(e) and e.grad_fn._saved_result is not e
    assert a.pow(2).grad_fn._saved_exponent == 2
    inner = (a * 2) * (a * 2)
    assert inner.grad_fn._saved_self.grad_fn.name() == "MulBackward0"
    with pytest.raises(AttributeError, match="no attribute '_saved_foo'"):
        e.grad_fn._saved_foo
    e.sum().backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        e.grad_fn._saved_result


@requires_torch
def test_pack_and_unpack_see_what_torchs_see():
    def run(lib):
        log = []
        a = lib.ones(3, requires_grad=True)
        b = lib.ones(3, requires_grad=True) * 2
        with lib.autograd.graph.saved_tensors_hooks(
                lambda x: (log.append(("pack", x.tolist(), x.requires_grad)), x)[1],
                lambda x: (log.append(("unpack", x.tolist())), x)[1]):
            y = a * b
        y.sum().backward()
        return log, a.grad.tolist()
    assert run(fastnn) == run(torch)


def test_unpack_results_are_what_backward_uses():
    x = fastnn.tensor([1.0, -2.0, 3.0], requires_grad=True)
    with graph.saved_tensors_hooks(lambda t: t * 4, lambda t: t / 4):
        y = fastnn.pow(x, 2)
    y.sum().backward()
    assert x.grad.equal(2 * x)
    storage = []

    def pack(t):
        storage.append(t)
        return len(storage) - 1  # any object: an index into a list
    x.grad = None
    with graph.saved_tensors_hooks(pack, lambda i: storage[i]):
        y = x * x
    y.sum().backward()
    assert x.grad.equal(2 * x) and len(storage) == 2
    # unpack's result really is used: a hook that changes the values changes the gradient
    x.grad = None
    with graph.saved_tensors_hooks(lambda t: t, lambda t: t * 10):
        y = x * x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 20 * x.detach().numpy())


def test_unpack_runs_at_every_access_and_must_give_a_tensor(tmp_path):
    def pack(t):
        name = str(tmp_path / f"saved{len(os.listdir(tmp_path))}")
        fastnn.save(t, name)
        return name

    def unpack(name):
        t = fastnn.load(name)
        os.remove(name)
        return t
    x = fastnn.ones(5, requires_grad=True)
    with graph.saved_tensors_hooks(pack, unpack):
        y = x.pow(2)
    first = y.grad_fn._saved_self
    assert first.equal(x) and first.requires_grad  # torch.load keeps requires_grad
    with pytest.raises(FileNotFoundError):
        y.grad_fn._saved_self
    with graph.saved_tensors_hooks(lambda t: t, lambda t: "not a tensor"):
        z = x * x
    with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor"):
        z.sum().backward()


def test_hooks_apply_to_user_functions_and_modules():
    class MyMul(fastnn.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * b, g * a
    seen = []
    a = fastnn.tensor([2.0], requires_grad=True)
    b = fastnn.tensor([3.0], requires_grad=True)
    with graph.saved_tensors_hooks(lambda t: (seen.append(t.tolist()), t)[1], lambda t: t * 10):
        out = MyMul.apply(a, b)
    out.backward()
    assert seen == [[2.0], [3.0]] and a.grad.tolist() == [30.0] and b.grad.tolist() == [20.0]

    class SaveToCpu(nn.Module):
        def __init__(self, module):
            super().__init__()
            self.module = module

        def forward(self, *args):
            with graph.save_on_cpu(pin_memory=True):
                return self.module(*args)
    fastnn.manual_seed(0)
    plain = nn.Sequential(nn.Linear(10, 20), nn.Linear(20, 20), nn.Linear(20, 3))
    wrapped = nn.Sequential(plain[0], SaveToCpu(plain[1]), plain[2])
    x = fastnn.randn(4, 10)
    wrapped(x).sum().backward()
    expected = plain[1].weight.grad.clone()
    plain.zero_grad()
    plain(x).sum().backward()
    assert plain[1].weight.grad.equal(expected)
    assert isinstance(plain(x).grad_fn, graph.Node)


def test_disable_saved_tensors_hooks():
    with graph.disable_saved_tensors_hooks("no hooks in here"):
        with pytest.raises(RuntimeError, match="no hooks in here"):
            with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
        w = fastnn.ones(2, requires_grad=True)
        (w * w).sum().backward()  # saving tensors still works
        assert w.grad.tolist() == [2.0, 2.0]


def test_save_keeps_requires_grad_and_parameters(tmp_path):
    path = str(tmp_path / "t.pt")
    x = fastnn.ones(3, requires_grad=True)
    fastnn.save(x, path)
    assert fastnn.load(path).requires_grad
    fastnn.save({"a": x * 2, "b": fastnn.ones(2)}, path)
    loaded = fastnn.load(path)
    assert loaded["a"].requires_grad and not loaded["b"].requires_grad
    layer = nn.Linear(2, 1)
    fastnn.save([layer.weight, {"bias": layer.bias}], path)
    weight, rest = fastnn.load(path)
    assert isinstance(weight, nn.Parameter) and isinstance(rest["bias"], nn.Parameter)
    fastnn.save(layer.state_dict(), path)  # a state dict stays a plain safetensors file
    assert all(not v.requires_grad and type(v) is fastnn.Tensor
               for v in fastnn.load(path).values())


def test_node_post_hooks_metadata_and_multi_grad_hooks():
    x = fastnn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = fastnn.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = x * w
    seen = []

    def post(grad_inputs, grad_outputs):
        seen.append(([g.tolist() for g in grad_inputs], [g.tolist() for g in grad_outputs]))
        return grad_inputs[0] * 10, grad_inputs[1]
    handle = y.grad_fn.register_hook(post)
    y.grad_fn.metadata["tag"] = "mul"
    assert y.grad_fn.metadata == {"tag": "mul"}
    y.sum().backward()
    assert seen == [([[0.5, -1.0, 2.0], [1.0, 2.0, 3.0]], [[1.0, 1.0, 1.0]])]
    assert x.grad.tolist() == [5.0, -10.0, 20.0] and w.grad.tolist() == [1.0, 2.0, 3.0]
    handle.remove()
    calls = []
    a = fastnn.tensor([1.0, 2.0], requires_grad=True)
    b = fastnn.tensor([3.0], requires_grad=True)
    c = fastnn.tensor([4.0], requires_grad=True)
    multi = graph.register_multi_grad_hook(
        (a, b, c), lambda grads: calls.append([None if g is None else g.tolist() for g in grads]))
    (a.sum() * 2 + b * 3).sum().backward()
    (b * 5).sum().backward()
    assert calls == [[[2.0, 2.0], [3.0], None], [None, [5.0], None]]
    multi.remove()
    a.sum().backward()
    assert len(calls) == 2
    firsts = []
    graph.register_multi_grad_hook((a, b), lambda g: firsts.append(g.tolist()), mode="any")
    (a.sum() + b.sum()).backward()
    assert len(firsts) == 1
    with pytest.raises(ValueError, match="Expects mode to be one of"):
        graph.register_multi_grad_hook((a,), print, mode="some")
