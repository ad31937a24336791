"""The engine runs nodes in torch's order: the node created last first (torch's ready queue
takes the highest sequence number), a leaf's gradient right after its last consumer. Hooks
print in that order, and register_multi_grad_hook(mode="any") sees the first gradient torch
computes (found by a probe of torch's node-hook example)."""
import pytest

import fastnn

torch = pytest.importorskip("torch")


def _hook_order(lib):
    seen = []
    x = lib.ones(3, requires_grad=True)
    w = lib.ones(3, requires_grad=True)

    def tag(name):
        def hook(g):
            seen.append(name)
        return hook

    a = x * 2
    a.register_hook(tag("a"))
    b = (x * w).relu()
    b.register_hook(tag("b"))
    c = a.exp()
    c.register_hook(tag("c"))
    res = b + x  # a residual: the branch made later is differentiated first
    res.register_hook(tag("res"))
    d = (c * 3).sin()
    d.register_hook(tag("d"))
    x.register_hook(tag("x"))
    w.register_hook(tag("w"))
    (res.sum() + d.sum() + (a * b).sum()).backward()
    return seen


def test_tensor_hooks_fire_in_torchs_order():
    assert _hook_order(fastnn) == _hook_order(torch)


def _first_gradient(lib):
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = lib.tensor([3.0], requires_grad=True)
    seen = []
    lib.autograd.graph.register_multi_grad_hook((a, b), lambda g: seen.append(g.tolist()),
                                                mode="any")
    (a.sum() + b.sum()).backward()
    (b.sum() * a.sum()).backward()
    return seen


def test_multi_grad_hook_any_sees_torchs_first_gradient():
    assert _first_gradient(fastnn) == _first_gradient(torch)


def test_leaf_gradient_comes_right_after_its_layer():
    """A weight's gradient is accumulated as soon as its layer's backward has run, before the
    layers below it are differentiated (DistributedDataParallel's buckets rely on this)."""
    events = []
    net = fastnn.nn.Sequential(fastnn.nn.Linear(4, 4), fastnn.nn.Tanh(), fastnn.nn.Linear(4, 2))
    net[2].weight.register_post_accumulate_grad_hook(lambda p: events.append("w2"))
    h = net[0](fastnn.ones(3, 4))
    h.register_hook(lambda g: events.append("below"))
    net[2](net[1](h)).sum().backward()
    assert events == ["w2", "below"]
