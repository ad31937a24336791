"""torch.utils.swap_tensors, torch.__future__'s module-conversion switches, Module.bfloat16 and
Tensor.module_load, as the swap_tensors recipe uses them; fastnn against torch when installed."""
import weakref

import pytest

import fastnn

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional peer
    torch = None


def _recipe(lib):
    nn, found = lib.nn, []
    t1, t2 = lib.arange(2), lib.arange(3)
    lib.utils.swap_tensors(t1, t2)
    found += [repr(t1), repr(t2)]
    a, b = lib.ones(2, requires_grad=True), lib.zeros(3)
    lib.utils.swap_tensors(a, b)
    found += [repr(a), repr(b), a.requires_grad, b.is_leaf]
    p, q = nn.Parameter(lib.ones(2)), lib.zeros(2)
    lib.utils.swap_tensors(p, q)
    found += [type(p).__name__, type(q).__name__, repr(q)]
    held = weakref.ref(p)
    with pytest.raises(RuntimeError, match="Cannot swap t1 because it has weakref"):
        lib.utils.swap_tensors(p, q)
    del held
    mod = nn.Linear(1, 2, bias=False)
    optimizer = lib.optim.SGD(mod.parameters())
    mod.weight = nn.Parameter(2 * mod.weight)
    found.append(optimizer.param_groups[0]["params"][0] is mod.weight)
    found.append(lib.__future__.get_swap_module_params_on_conversion())
    lib.__future__.set_swap_module_params_on_conversion(True)
    try:
        m = nn.Linear(3, 5)
        w = m.weight
        m.bfloat16()
        found += [m.weight is w, str(w.dtype), str(m.bias.dtype)]
    finally:
        lib.__future__.set_swap_module_params_on_conversion(False)
    lib.__future__.set_overwrite_module_params_on_conversion(True)
    try:
        m = nn.Linear(3, 5)
        w = m.weight
        m.double()
        found += [m.weight is w, str(w.dtype), str(m.weight.dtype), type(m.weight).__name__,
                  m.weight.requires_grad, lib.__future__.get_overwrite_module_params_on_conversion()]
    finally:
        lib.__future__.set_overwrite_module_params_on_conversion(False)
    x = lib.ones(3)
    loaded = x.module_load(lib.zeros(3))
    found += [repr(loaded), repr(x), loaded is x]
    other = lib.full((3,), 2.0, requires_grad=True)
    assigned = x.module_load(other, assign=True)
    found += [repr(assigned), assigned is other]
    return [str(v).replace("torch.", "").replace("fastnn.", "") for v in found]


def test_swap_tensors_recipe_as_torch():
    mine = _recipe(fastnn)
    assert mine[:2] == ["tensor([0, 1, 2])", "tensor([0, 1])"]
    if torch is not None:
        assert mine == _recipe(torch)


def test_swap_tensors_refuses_different_slots():
    buffer = fastnn.nn.Buffer(fastnn.ones(2))  # (a Buffer has a `persistent` slot)
    with pytest.raises(RuntimeError, match="different slots"):
        fastnn.utils.swap_tensors(buffer, fastnn.zeros(2))
