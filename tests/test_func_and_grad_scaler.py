"""torch.func (functional_call, grad, vmap, jacrev, vjp, stack_module_state) and
torch.amp.GradScaler: the per-sample-gradient, model-ensembling and mixed-precision recipes."""
import warnings

import numpy as np
import pytest

import fastnn
from fastnn.func import functional_call, grad, grad_and_value, jacrev, stack_module_state, vjp, vmap


def _model():
    fastnn.manual_seed(0)
    return fastnn.nn.Sequential(fastnn.nn.Linear(4, 3), fastnn.nn.ReLU(), fastnn.nn.Linear(3, 2))


def test_functional_call_swaps_and_restores():
    m = fastnn.nn.Linear(3, 2)
    before = m.weight.detach().clone()
    ones = {"weight": fastnn.ones(2, 3), "bias": fastnn.ones(2)}
    out = functional_call(m, ones, fastnn.ones(1, 3))
    assert out.tolist() == [[4.0, 4.0]]
    assert fastnn.equal(m.weight, before) and isinstance(m.weight, fastnn.nn.Parameter)
    with pytest.raises(RuntimeError, match="Unexpected key\\(s\\): 'zz'.\n\tMissing key\\(s\\): 'bias'."):
        functional_call(m, {"weight": fastnn.ones(2, 3), "zz": fastnn.ones(1)},
                        (fastnn.ones(1, 3),), strict=True)
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        functional_call(m, ({"weight": ones["weight"]}, {"weight": ones["weight"]}),
                        (fastnn.ones(1, 3),))


def test_functional_call_follows_tied_weights():
    class Tied(fastnn.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = fastnn.nn.Linear(2, 2, bias=False)
            self.b = fastnn.nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.a(x) + self.b(x)
    t = Tied()
    assert functional_call(t, {"a.weight": fastnn.ones(2, 2)}, (fastnn.ones(1, 2),)).tolist() == \
        [[4.0, 4.0]]
    with pytest.raises(ValueError, match="which are tied"):
        functional_call(t, {"a.weight": fastnn.ones(2, 2), "b.weight": fastnn.zeros(2, 2)},
                        (fastnn.ones(1, 2),))


def test_per_sample_gradients_match_one_backward_per_sample():
    model = _model()
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss_fn(params, sample, target):
        out = functional_call(model, params, (sample.unsqueeze(0),))
        return fastnn.nn.functional.cross_entropy(out, target.unsqueeze(0))
    data, targets = fastnn.randn(5, 4), fastnn.tensor([0, 1, 0, 1, 1])
    per_sample = vmap(grad(loss_fn), in_dims=(None, 0, 0))(params, data, targets)
    assert {k: tuple(v.shape) for k, v in per_sample.items()} == {
        "0.weight": (5, 3, 4), "0.bias": (5, 3), "2.weight": (5, 2, 3), "2.bias": (5, 2)}
    for i in range(5):
        model.zero_grad()
        loss_fn(dict(model.named_parameters()), data[i], targets[i]).backward()
        for name, param in model.named_parameters():
            np.testing.assert_allclose(per_sample[name][i].numpy(), param.grad.numpy(),
                                       rtol=1e-5, atol=1e-6)


def test_grad_forms():
    x = fastnn.tensor([1.0, 2.0])
    assert grad(lambda v: (v ** 2).sum())(x).tolist() == [2.0, 4.0]
    g, value = grad_and_value(lambda v: (v ** 2).sum())(x)
    assert g.tolist() == [2.0, 4.0] and value.item() == 5.0
    gx, gy = grad(lambda a, b: (a * b).sum(), argnums=(0, 1))(x, fastnn.tensor([3.0, 4.0]))
    assert gx.tolist() == [3.0, 4.0] and gy.tolist() == [1.0, 2.0]
    g, aux = grad(lambda v: ((v ** 2).sum(), v * 2), has_aux=True)(x)
    assert aux.tolist() == [2.0, 4.0] and not aux.requires_grad
    with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a scalar Tensor"):
        grad(lambda v: v * 2)(x)
    assert grad(grad(lambda v: (v ** 3).sum()))(fastnn.tensor(2.0)).item() == 12.0
    np.testing.assert_allclose(fastnn.func.hessian(lambda v: (v ** 3).sum())(
        fastnn.tensor([1.0, 2.0])).numpy(), [[6.0, 0.0], [0.0, 12.0]])


def test_vmap_dims_and_errors():
    a = fastnn.arange(6.0).reshape(2, 3)
    assert vmap(lambda r: r.sum(0), in_dims=1)(a).tolist() == [3.0, 5.0, 7.0]
    assert vmap(lambda r: r * 2, out_dims=1)(a).shape == (3, 2)
    assert vmap(fastnn.dot)(fastnn.ones(3, 2), fastnn.ones(3, 2)).tolist() == [2.0, 2.0, 2.0]
    assert vmap(vmap(fastnn.mul))(fastnn.ones(2, 3), fastnn.ones(2, 3)).shape == (2, 3)
    first, second = vmap(lambda r: (r, r * 2))(fastnn.ones(2))
    assert second.tolist() == [2.0, 2.0]
    with pytest.raises(ValueError, match="same size in the mapped dimension"):
        vmap(fastnn.add)(fastnn.ones(3), fastnn.ones(4))
    w = fastnn.tensor([1.0, 2.0], requires_grad=True)
    vmap(lambda r: (r * w).sum())(fastnn.ones(3, 2)).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]  # gradients flow through the mapped calls
    fastnn.manual_seed(0)
    same = vmap(lambda r: fastnn.rand(2) + r, randomness="same")(fastnn.zeros(3, 2))
    assert fastnn.equal(same[0], same[1]) and fastnn.equal(same[1], same[2])


def test_jacrev_vjp_and_ensembles():
    jac = jacrev(fastnn.sin)(fastnn.tensor([0.0, 1.0]))
    np.testing.assert_allclose(jac.numpy(), np.diag(np.cos([0.0, 1.0])), rtol=1e-6)
    j1 = jacrev(lambda a, b: a * b, argnums=1)(fastnn.tensor([1.0, 2.0]), fastnn.tensor([3.0, 4.0]))
    assert j1.tolist() == [[1.0, 0.0], [0.0, 2.0]]
    out, fn = vjp(fastnn.sin, fastnn.tensor([0.0, 1.0]))
    np.testing.assert_allclose(fn(fastnn.ones(2))[0].numpy(), np.cos([0.0, 1.0]), rtol=1e-6)
    models = [fastnn.nn.Linear(2, 2) for _ in range(3)]
    params, buffers = stack_module_state(models)
    assert params["weight"].shape == (3, 2, 2) and params["weight"].requires_grad
    base = fastnn.nn.Linear(2, 2)
    x = fastnn.ones(4, 2)
    out = vmap(lambda p, b: functional_call(base, (p, b), (x,)), in_dims=(0, 0))(params, buffers)
    np.testing.assert_allclose(out[1].detach().numpy(), models[1](x).detach().numpy(), rtol=1e-6)


def _sgd_model():
    fastnn.manual_seed(0)
    model = fastnn.nn.Linear(2, 1)
    return model, fastnn.optim.SGD(model.parameters(), lr=0.1)


def test_grad_scaler_scales_unscales_and_steps():
    scaler = fastnn.amp.GradScaler("cpu")
    model, opt = _sgd_model()
    loss = model(fastnn.ones(3, 2)).sum()
    scaled = scaler.scale(loss)
    assert scaled.item() == pytest.approx(loss.item() * 65536.0)
    scaled.backward()
    scaler.unscale_(opt)
    assert model.weight.grad.tolist() == [[3.0, 3.0]]
    with pytest.raises(RuntimeError, match="already been called on this optimizer"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    scaler.update()
    assert scaler.state_dict() == {"scale": 65536.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                                   "growth_interval": 2000, "_growth_tracker": 1}


def test_grad_scaler_skips_non_finite_steps_and_adapts_the_scale():
    scaler = fastnn.amp.GradScaler("cpu", init_scale=4.0, growth_interval=2)
    model, opt = _sgd_model()
    scales = []
    for step in range(4):
        opt.zero_grad()
        scaler.scale(model(fastnn.ones(3, 2)).sum()).backward()
        if step == 2:
            model.weight.grad[0, 0] = float("inf")
            before = model.weight.detach().clone()
        result = scaler.step(opt)
        if step == 2:
            assert result is None and fastnn.equal(before, model.weight)  # skipped
        scaler.update()
        scales.append(scaler.get_scale())
    assert scales == [4.0, 8.0, 4.0, 4.0]  # grown after 2 clean steps, halved after inf
    restored = fastnn.amp.GradScaler("cpu")
    restored.load_state_dict(scaler.state_dict())
    assert restored.get_scale() == 4.0
    with pytest.raises(RuntimeError, match="source state dict is empty"):
        restored.load_state_dict({})


def test_grad_scaler_on_cuda_disables_itself_as_torch_does_without_cuda():
    with pytest.warns(UserWarning, match="CUDA is not available.  Disabling"):
        scaler = fastnn.amp.GradScaler()
    assert not scaler.is_enabled() and scaler.get_scale() == 1.0
    loss = fastnn.tensor(2.0)
    assert scaler.scale(loss) is loss
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        legacy = fastnn.cuda.amp.GradScaler()
        cpu_legacy = fastnn.cpu.amp.GradScaler()
    assert [w.category for w in record] == [FutureWarning, UserWarning, FutureWarning]
    assert not legacy.is_enabled() and cpu_legacy.is_enabled()


def test_jacrev_over_a_parameter_dict_as_in_the_ntk_tutorial():
    net = fastnn.nn.Linear(3, 2)
    params = {k: v.detach() for k, v in net.named_parameters()}

    def single(p, x):
        return functional_call(net, p, (x.unsqueeze(0),)).squeeze(0)
    x = fastnn.randn(4, 3)
    jac = vmap(jacrev(single), (None, 0))(params, x)
    assert {k: tuple(v.shape) for k, v in jac.items()} == {"weight": (4, 2, 2, 3),
                                                          "bias": (4, 2, 2)}
    np.testing.assert_allclose(jac["bias"][0].numpy(), np.eye(2))
    np.testing.assert_allclose(jac["weight"][1, 0, 0].numpy(), x[1].numpy())  # d y0 / d W[0]
    by_params, by_input = jacrev(single, argnums=(0, 1))(params, x[0])
    assert isinstance(by_params, dict)
    np.testing.assert_allclose(by_input.numpy(), net.weight.detach().numpy())


def test_vmap_refuses_random_ops_by_default_as_torch():
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(lambda r: r + fastnn.randn(2))(fastnn.ones(3, 2))
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(lambda r: fastnn.nn.functional.dropout(r, 0.5))(fastnn.ones(3, 2))
    assert vmap(lambda r: r + fastnn.randn(2), randomness="different")(fastnn.ones(3, 2)).shape \
        == (3, 2)
    fastnn.randn(2)  # outside vmap again
