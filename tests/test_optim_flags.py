"""torch's keyword flags on the optimizers (maximize, foreach, fused, capturable, differentiable,
Adam's decoupled_weight_decay): accepted with torch's names and defaults, kept in param_groups
as torch keeps them, and maximize / decoupled_weight_decay computed as torch does. foreach and
fused select torch's implementation only; capturable=True on CPU tensors fails at step() with
torch's error, and differentiable=True (a step autograd records) is refused."""
import inspect

import numpy as np
import pytest

import fastnn

try:
    import torch
except ImportError:  # the comparisons need PyTorch
    torch = None

NAMES = ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop"]
CASES = [("SGD", dict(lr=0.1, maximize=True)),
         ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True, foreach=False)),
         ("SGD", dict(lr=0.1, weight_decay=0.1, maximize=True, fused=True)),
         ("Adam", dict(lr=0.1, maximize=True, amsgrad=True)),
         ("Adam", dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)),
         ("AdamW", dict(lr=0.1, maximize=True, fused=True)),
         ("Adagrad", dict(lr=0.1, maximize=True, foreach=True)),
         ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, maximize=True))]


@pytest.mark.parametrize("name", NAMES)
def test_flags_are_accepted(name):
    params = inspect.signature(getattr(fastnn.optim, name)).parameters
    for flag in ("maximize", "foreach", "differentiable"):
        assert params[flag].default in (False, None)
    w = fastnn.nn.Parameter(fastnn.ones(3))
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        getattr(fastnn.optim, name)([w], differentiable=True)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop"])
def test_capturable_fails_at_step_as_torchs(name):
    w = fastnn.nn.Parameter(fastnn.ones(3))
    optimizer = getattr(fastnn.optim, name)([w], capturable=True)
    w.grad = fastnn.ones(3)
    with pytest.raises(AssertionError, match="capturable=True, params and state_steps"):
        optimizer.step()


def test_maximize_climbs():
    w = fastnn.nn.Parameter(fastnn.zeros(2))
    optimizer = fastnn.optim.SGD([w], lr=0.5, maximize=True)
    w.grad = fastnn.tensor([1.0, -2.0])
    optimizer.step()
    np.testing.assert_array_equal(w.detach().numpy(), [0.5, -1.0])


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{sorted(k)}" for n, k in CASES])
def test_updates_and_param_groups_match_torch(name, kwargs):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(7).astype(np.float32)
    grads = [rng.standard_normal(7).astype(np.float32) for _ in range(3)]
    results = []
    for lib in (torch, fastnn):
        w = lib.nn.Parameter(lib.from_numpy(w0.copy()))
        optimizer = getattr(lib.optim, name)([w], **kwargs)
        for g in grads:
            w.grad = lib.from_numpy(g.copy())
            optimizer.step()
        results.append((w.detach().numpy().copy(), sorted(optimizer.param_groups[0])))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-5, atol=1e-6)
    assert results[1][1] == results[0][1]
