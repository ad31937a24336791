"""Issue 10's layers, functional forms, losses, containers and module hooks against torch: the
same constructor arguments, state_dict keys, reprs, outputs and gradients (inputs and
parameters), in float64 where the layer allows it so differences are not rounding."""
import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")

R = np.random.default_rng(3)


def _x(*shape, positive=False):
    x = R.standard_normal(shape)
    return (np.abs(x) + 0.1 if positive else x).astype(np.float32)


# name -> (constructor taking the module (torch or fastnn.nn), input arrays, call(layer, *xs))
LAYERS = {
    "ELU": (lambda nn: nn.ELU(0.7), [_x(3, 4)], None),
    "GELU": (lambda nn: nn.GELU(), [_x(3, 4)], None),
    "GELU tanh": (lambda nn: nn.GELU(approximate="tanh"), [_x(3, 4)], None),
    "SiLU": (lambda nn: nn.SiLU(), [_x(3, 4)], None),
    "Softplus": (lambda nn: nn.Softplus(beta=2.0, threshold=5.0), [_x(3, 4) * 4], None),
    "Hardtanh": (lambda nn: nn.Hardtanh(-0.5, 0.8), [_x(3, 4)], None),
    "ReLU6": (lambda nn: nn.ReLU6(), [_x(3, 4) * 5], None),
    "PReLU": (lambda nn: nn.PReLU(3), [_x(2, 3, 4)], None),
    "PReLU single": (lambda nn: nn.PReLU(), [_x(2, 3)], None),
    "LogSigmoid": (lambda nn: nn.LogSigmoid(), [_x(3, 4) * 10], None),
    "Softmin": (lambda nn: nn.Softmin(dim=1), [_x(3, 4)], None),
    "BatchNorm1d 2-D": (lambda nn: nn.BatchNorm1d(4), [_x(6, 4)], None),
    "BatchNorm1d 3-D": (lambda nn: nn.BatchNorm1d(3), [_x(4, 3, 5)], None),
    "LayerNorm": (lambda nn: nn.LayerNorm(5), [_x(3, 5)], None),
    "LayerNorm 2 dims": (lambda nn: nn.LayerNorm([2, 5]), [_x(3, 2, 5)], None),
    "GroupNorm": (lambda nn: nn.GroupNorm(2, 4), [_x(3, 4, 2, 3)], None),
    "Unflatten": (lambda nn: nn.Unflatten(1, (2, 3)), [_x(4, 6)], None),
    "ZeroPad2d": (lambda nn: nn.ZeroPad2d((1, 0, 2, 1)), [_x(1, 2, 3, 3)], None),
    "Upsample": (lambda nn: nn.Upsample(scale_factor=2), [_x(1, 2, 3, 3)], None),
    "Upsample size": (lambda nn: nn.Upsample(size=(5, 4)), [_x(1, 1, 3, 3)], None),
    "MaxPool1d": (lambda nn: nn.MaxPool1d(2), [_x(2, 3, 8)], None),
    "AvgPool1d": (lambda nn: nn.AvgPool1d(3, stride=2), [_x(2, 3, 9)], None),
    "AdaptiveMaxPool2d": (lambda nn: nn.AdaptiveMaxPool2d((2, 3)), [_x(2, 3, 5, 7)], None),
    "Embedding": (lambda nn: nn.Embedding(6, 3, padding_idx=1),
                  [np.array([[0, 1, 5], [1, 2, 2]])], None),
    "Identity": (lambda nn: nn.Identity(54, unused="x"), [_x(2, 3)], None),
}

LOSSES = {
    "BCELoss": (lambda nn: nn.BCELoss(), [1 / (1 + np.exp(-_x(4, 3))), (_x(4, 3) > 0) * 1.0]),
    "BCELoss sum weight": (lambda nn: nn.BCELoss(weight=None, reduction="sum"),
                           [1 / (1 + np.exp(-_x(5))), R.random(5)]),
    "SmoothL1Loss": (lambda nn: nn.SmoothL1Loss(beta=0.5), [_x(4, 3), _x(4, 3)]),
    "HuberLoss": (lambda nn: nn.HuberLoss(delta=0.7, reduction="sum"), [_x(4, 3), _x(4, 3)]),
    "KLDivLoss": (lambda nn: nn.KLDivLoss(reduction="batchmean"),
                  [np.log(R.dirichlet(np.ones(4), 3)), R.dirichlet(np.ones(4), 3)]),
    "KLDivLoss log target": (lambda nn: nn.KLDivLoss(reduction="sum", log_target=True),
                             [np.log(R.dirichlet(np.ones(4), 3)),
                              np.log(R.dirichlet(np.ones(4), 3))]),
}


def _run(m, make, arrays, float64=True):
    nn = m.nn
    layer = make(nn)
    tensors = []
    for a in arrays:
        a = np.asarray(a)
        if a.dtype.kind == "f":
            t = m.tensor(a.astype(np.float64 if float64 else np.float32), requires_grad=True)
        else:
            t = m.tensor(a)
        tensors.append(t)
    return layer, tensors


def _compare(name, make, arrays, float64=True, loss=False):
    tlayer, tx = _run(torch, make, arrays, float64)
    flayer, fx = _run(fastnn, make, arrays, float64)
    if float64:
        tlayer, flayer = tlayer.double(), flayer.double()
    state = {k: v.detach().numpy() for k, v in tlayer.state_dict().items()}
    assert list(state) == list(flayer.state_dict()), name
    flayer.load_state_dict(state)
    assert repr(flayer) == repr(tlayer), name
    tout, fout = tlayer(*tx), flayer(*fx)
    rtol, atol = (1e-6, 1e-7) if float64 else (1e-5, 1e-6)
    np.testing.assert_allclose(fout.detach().numpy(), tout.detach().numpy(), rtol=rtol,
                               atol=atol, err_msg=name)
    weights = R.standard_normal(tuple(tout.shape))
    tout.backward(torch.tensor(weights, dtype=tout.dtype))
    fout.backward(fastnn.tensor(weights.astype(fout.detach().numpy().dtype)))
    for t, f in zip(tx, fx):
        if t.grad is not None:
            np.testing.assert_allclose(f.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol,
                                       err_msg=name)
    for (key, tp), fp in zip(tlayer.named_parameters(), flayer.parameters()):
        np.testing.assert_allclose(fp.grad.numpy(), tp.grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"{name} {key}")


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(name):
    make, arrays, _ = LAYERS[name]
    _compare(name, make, arrays, float64=name not in ("MaxPool1d", "AvgPool1d", "BatchNorm1d 2-D",
                                                      "BatchNorm1d 3-D"))


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_matches_torch(name):
    make, arrays = LOSSES[name]
    _compare(name, make, arrays)


def test_batchnorm1d_running_stats_and_eval_match_torch():
    x = _x(8, 3)
    layers = [torch.nn.BatchNorm1d(3), fastnn.nn.BatchNorm1d(3)]
    for layer, m in zip(layers, (torch, fastnn)):
        for _ in range(3):
            layer(m.tensor(x))
        layer.eval()
    outs = [layer(m.tensor(x[:2])).detach().numpy() for layer, m in zip(layers, (torch, fastnn))]
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layers[1].running_var.numpy(), layers[0].running_var.numpy(),
                               rtol=1e-6)


def test_functional_forms_match_torch():
    x = _x(4, 6)
    cases = [
        lambda F, t: F.relu6(t * 5), lambda F, t: F.elu(t, 0.5), lambda F, t: F.gelu(t),
        lambda F, t: F.silu(t), lambda F, t: F.hardtanh(t, -0.2, 0.3),
        lambda F, t: F.softplus(t), lambda F, t: F.logsigmoid(t),
        lambda F, t: F.layer_norm(t, (6,)), lambda F, t: F.softmin(t, dim=0),
        lambda F, t: F.group_norm(t.reshape(2, 4, 3), 2),
        lambda F, t: F.interpolate(t.reshape(1, 2, 2, 6), scale_factor=(2, 1)),
        lambda F, t: F.max_pool1d(t.reshape(2, 2, 6), 3, stride=2),
        lambda F, t: F.avg_pool1d(t.reshape(2, 2, 6), 2),
        lambda F, t: F.adaptive_max_pool2d(t.reshape(1, 1, 4, 6), 3),
        lambda F, t: F.leaky_relu(t * 1, 0.3, inplace=True),
        lambda F, t: F.relu(t * 1, inplace=True),
        lambda F, t: F.dropout(t * 1, 0.5, training=False, inplace=True),
        lambda F, t: F.embedding(F.one_hot(t.argmax(1), 6), t),
    ]
    for i, case in enumerate(cases):
        tt = torch.tensor(x.astype(np.float64), requires_grad=True)
        ft = fastnn.tensor(x.astype(np.float64), requires_grad=True)
        tout, fout = case(torch.nn.functional, tt), case(fastnn.nn.functional, ft)
        np.testing.assert_allclose(fout.detach().numpy(), tout.detach().numpy(), rtol=1e-6,
                                   atol=1e-7, err_msg=str(i))
        tout.sum().backward()
        fout.sum().backward()
        np.testing.assert_allclose(ft.grad.numpy(), tt.grad.numpy(), rtol=1e-6, atol=1e-7,
                                   err_msg=str(i))


def test_one_hot_and_its_errors_match_torch():
    for m in (torch, fastnn):
        assert m.nn.functional.one_hot(m.tensor([0, 3, 1]), 5).tolist() == [
            [1, 0, 0, 0, 0], [0, 0, 0, 1, 0], [0, 1, 0, 0, 0]]
        assert m.nn.functional.one_hot(m.tensor([2, 0])).shape == (2, 3)
        with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
            m.nn.functional.one_hot(m.tensor([0, 3]), 3)


def test_containers_register_like_torch():
    def build(nn):
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.blocks = nn.ModuleList([nn.Linear(3, 3) for _ in range(2)])
                self.blocks.append(nn.ReLU())
                self.heads = nn.ModuleDict({"a": nn.Linear(3, 2), "b": nn.Linear(3, 1)})
                self.scales = nn.ParameterList([nn.Parameter(nn.init.ones_(
                    nn.Parameter(torch_or_fastnn(nn).empty(3)))) for _ in range(2)])
                self.register_module("extra", nn.Identity())

            def forward(self, x):
                for block in self.blocks:
                    x = block(x)
                return self.heads["a"](x * self.scales[0]) + self.heads["b"](x).sum()
        return Net()

    def torch_or_fastnn(nn):
        return torch if nn is torch.nn else fastnn
    tnet, fnet = build(torch.nn), build(fastnn.nn)
    assert list(fnet.state_dict()) == list(tnet.state_dict())
    assert repr(fnet.blocks) == repr(tnet.blocks)
    assert [n for n, _ in fnet.named_modules()] == [n for n, _ in tnet.named_modules()]
    assert len(fnet.blocks[:2]) == 2 and list(fnet.heads.keys()) == ["a", "b"]
    fnet.load_state_dict({k: v.detach().numpy() for k, v in tnet.state_dict().items()})
    x = _x(2, 3)
    np.testing.assert_allclose(fnet(fastnn.tensor(x)).detach().numpy(),
                               tnet(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_module_hooks_fire_like_torch():
    seen = {}
    for m in (torch, fastnn):
        m.manual_seed(0)
        net = m.nn.Sequential(m.nn.Linear(3, 4), m.nn.ReLU(), m.nn.Linear(4, 2))
        log = seen.setdefault(m.__name__, [])
        handles = [
            net[0].register_forward_hook(lambda mod, a, o: log.append(("fwd", tuple(o.shape)))),
            net[1].register_forward_pre_hook(lambda mod, a: log.append(("pre", len(a)))),
            net[2].register_full_backward_hook(lambda mod, gi, go: log.append(
                ("bwd", [tuple(g.shape) for g in gi], [tuple(g.shape) for g in go]))),
            net[2].register_forward_hook(lambda mod, a, o: o * 2),  # replaces the output
        ]
        out = net(m.ones(5, 3, requires_grad=True))
        out.sum().backward()
        log.append(("out", round(float(out.sum()), 3) != 0))
        for h in handles:
            h.remove()
        net(m.ones(5, 3)).sum()
    assert seen["fastnn"] == seen["torch"]


LABELS = np.array([2, -100, 0, 3, 3])
CE_CASES = {
    "weights": dict(weight=np.array([0.5, 2.0, 1.0, 3.0]), target=np.array([2, 1, 0, 3, 3])),
    "ignore default -100": dict(target=LABELS),
    "ignore_index 3 weights sum": dict(ignore_index=3, target=np.array([2, 1, 0, 3, 3]),
                                       weight=np.array([0.5, 2.0, 1.0, 3.0]), reduction="sum"),
    "ignore none": dict(target=LABELS, reduction="none"),
    "probabilities": dict(target=R.dirichlet(np.ones(4), 5)),
    "probabilities weights smoothing": dict(target=R.dirichlet(np.ones(4), 5),
                                            weight=np.array([0.5, 2.0, 1.0, 3.0]),
                                            label_smoothing=0.2),
    "smoothing ignore weights": dict(target=LABELS, weight=np.array([0.5, 2.0, 1.0, 3.0]),
                                     label_smoothing=0.1),
    "spatial": dict(target=np.array([[0, 1], [3, -100]]), shape=(2, 4, 2)),
}


@pytest.mark.parametrize("case", list(CE_CASES))
@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_cross_entropy_and_nll_options_match_torch(case, loss):
    options = dict(CE_CASES[case])
    target, shape = options.pop("target"), options.pop("shape", (5, 4))
    if loss == "nll_loss" and (target.dtype.kind == "f" or "label_smoothing" in options):
        pytest.skip("nll_loss takes class indices and no smoothing")
    x = R.standard_normal(shape)
    results = []
    for m in (torch, fastnn):
        xt = m.tensor(x, requires_grad=True)
        kwargs = {k: (m.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in options.items()}
        inp = m.log_softmax(xt, 1) if loss == "nll_loss" else xt
        out = getattr(m.nn.functional, loss)(inp, m.tensor(target), **kwargs)
        out.sum().backward()
        results.append((out.detach().numpy(), xt.grad.numpy()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-10, atol=1e-12)


def test_cross_entropy_loss_module_keeps_weight_as_a_buffer():
    w = np.array([1.0, 2.0, 3.0], np.float32)
    ours, theirs = fastnn.nn.CrossEntropyLoss(fastnn.tensor(w)), torch.nn.CrossEntropyLoss(
        torch.tensor(w))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
def test_clip_grad_norm_and_value_match_torch(norm_type):
    grads = [R.standard_normal((3, 4)), R.standard_normal(5) * 10]
    results = []
    for m in (torch, fastnn):
        params = [m.nn.Parameter(m.zeros(*g.shape, dtype=m.float64)) for g in grads]
        for p, g in zip(params, grads):
            p.grad = m.tensor(g)
        total = m.nn.utils.clip_grad_norm_(params, max_norm=1.5, norm_type=norm_type)
        clipped = [p.grad.numpy().copy() for p in params]
        m.nn.utils.clip_grad_value_(params, 0.1)
        vector = m.nn.utils.parameters_to_vector(params).detach().numpy()
        results.append((float(total), clipped, [p.grad.numpy() for p in params], vector))
    assert results[1][0] == pytest.approx(results[0][0], rel=1e-12)
    for ours, theirs in zip(results[1][1] + results[1][2], results[0][1] + results[0][2]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_array_equal(results[1][3], results[0][3])


def test_load_state_dict_not_strict_and_buffer_assignment_like_torch():
    outcomes = []
    for m in (torch, fastnn):
        net = m.nn.Sequential(m.nn.Linear(2, 2), m.nn.BatchNorm1d(2))
        state = {k: v for k, v in net.state_dict().items() if not k.startswith("1.running")}
        state["extra"] = m.zeros(1)
        result = net.load_state_dict(state, strict=False)
        net[1].running_mean = m.ones(2)  # still a buffer
        outcomes.append((sorted(result.missing_keys), result.unexpected_keys,
                         "1.running_mean" in net.state_dict(),
                         repr(net.load_state_dict(net.state_dict()))))
        with pytest.raises(TypeError, match="cannot assign 'int' as buffer 'running_var'"):
            net[1].running_var = 3
    assert outcomes[0] == outcomes[1]


def test_orthogonal_trunc_normal_eye_and_dirac_initialisers():
    from fastnn import nn
    w = nn.Parameter(fastnn.empty(6, 4))
    nn.init.orthogonal_(w, gain=2.0)
    np.testing.assert_allclose(w.detach().numpy().T @ w.detach().numpy(), 4 * np.eye(4),
                               atol=1e-5)
    wide = nn.init.orthogonal_(fastnn.empty(3, 2, 4)).numpy().reshape(3, 8)
    np.testing.assert_allclose(wide @ wide.T, np.eye(3), atol=1e-5)
    fastnn.manual_seed(0)
    t = nn.init.trunc_normal_(fastnn.empty(20000), mean=0.5, std=1.0, a=0.0, b=1.0).numpy()
    assert t.min() >= 0.0 and t.max() <= 1.0 and abs(t.mean() - 0.5) < 0.01
    t = nn.init.trunc_normal_(fastnn.empty(20000), std=0.02).numpy()
    assert abs(t.std() - 0.02) < 0.002  # the default bounds (+-2) cut nothing at this scale
    assert nn.init.eye_(fastnn.empty(2, 3)).tolist() == [[1, 0, 0], [0, 1, 0]]
    conv = nn.Conv2d(3, 3, 3, padding=1, bias=False)
    nn.init.dirac_(conv.weight)
    x = fastnn.randn(1, 3, 5, 5)
    np.testing.assert_allclose(conv(x).detach().numpy(), x.numpy(), atol=1e-6)
