"""Arguments PyTorch programs pass that fastnn had no name for: layers' device= and dtype=,
BCEWithLogitsLoss's weight and pos_weight, F.normalize, F.cosine_similarity and
nn.CosineSimilarity. Each against a hand-computed value, and against torch where installed."""
import inspect

import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn.nn import functional as F

try:
    import torch
except ImportError:  # the comparisons need PyTorch
    torch = None

LAYERS = {"Linear": (4, 3), "Conv2d": (2, 3, 3), "BatchNorm1d": (3,), "BatchNorm2d": (3,),
          "Embedding": (5, 3), "LayerNorm": (3,), "GroupNorm": (1, 3)}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layers_take_device_and_dtype(name):
    layer = getattr(nn, name)(*LAYERS[name], device="cpu", dtype=fastnn.float64)
    assert {p.dtype for p in layer.parameters()} == {fastnn.float64}
    assert all(b.dtype in (fastnn.float64, fastnn.int64) for b in layer.buffers())
    with pytest.raises(AssertionError, match="not compiled with CUDA"):
        getattr(nn, name)(*LAYERS[name], device="cuda")
    if torch is not None:  # the same parameters, in the same order and kinds
        ours = [(k, p.kind) for k, p in inspect.signature(getattr(nn, name)).parameters.items()]
        theirs = [(k, p.kind) for k, p in
                  inspect.signature(getattr(torch.nn, name)).parameters.items()]
        assert ours == theirs


def test_bce_with_logits_weights_by_formula():
    x = fastnn.tensor([[2.0, -1.0, 0.5]], requires_grad=True)
    y = fastnn.tensor([[1.0, 0.0, 1.0]])
    w, pw = fastnn.tensor([[0.5, 2.0, 1.0]]), fastnn.tensor([3.0, 1.0, 0.25])
    loss = F.binary_cross_entropy_with_logits(x, y, w, pos_weight=pw, reduction="sum")
    xs, ys = x.detach().numpy().astype(np.float64), y.numpy()
    softplus = np.log1p(np.exp(xs))
    want = (w.numpy() * (pw.numpy() * ys * (softplus - xs) + (1 - ys) * softplus)).sum()
    assert abs(float(loss) - want) < 1e-5
    loss.backward()
    sig = 1 / (1 + np.exp(-xs))
    grad = w.numpy() * (sig * (pw.numpy() * ys + 1 - ys) - pw.numpy() * ys)
    np.testing.assert_allclose(x.grad.numpy(), grad, rtol=1e-5, atol=1e-6)
    module = nn.BCEWithLogitsLoss(weight=w, pos_weight=pw)
    assert sorted(module.state_dict()) == ["pos_weight", "weight"]


def test_normalize_and_cosine_similarity_by_formula():
    a = fastnn.tensor([[3.0, 4.0], [1e-13, 0.0]])
    np.testing.assert_allclose(F.normalize(a).numpy(), [[0.6, 0.8], [0.1, 0.0]], rtol=1e-6)
    b = fastnn.tensor([[4.0, 3.0], [1e-9, 1e-9]])
    # each norm clamped at eps on its own: the tiny pair compares by direction
    np.testing.assert_allclose(F.cosine_similarity(a, b).numpy(), [24 / 25, 1e-22 / 1e-16],
                               rtol=1e-5)
    np.testing.assert_allclose(nn.CosineSimilarity(dim=0)(a, b).numpy(),
                               F.cosine_similarity(a, b, dim=0).numpy())


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize("kwargs", [{}, {"pos_weight": 1}, {"weight": 1},
                                    {"weight": 1, "pos_weight": 1}])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_matches_torch(kwargs, reduction):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((4, 3)) * 10).astype(np.float32)
    y = (rng.random((4, 3)) > 0.5).astype(np.float32)
    extra = {"weight": rng.random((4, 3)).astype(np.float32),
             "pos_weight": np.array([1.0, 2.0, 0.5], np.float32)}
    results = []
    for lib in (torch, fastnn):
        xt = lib.tensor(x, requires_grad=True)
        given = {k: lib.from_numpy(extra[k].copy()) for k in kwargs}
        loss = lib.nn.BCEWithLogitsLoss(reduction=reduction, **given)(xt, lib.from_numpy(y))
        loss.sum().backward()
        results.append((loss.detach().numpy(), xt.grad.numpy()))
    for theirs, ours in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=2e-6, atol=1e-6)


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize("shapes,kwargs", [(((4, 5), (4, 5)), {}), (((4, 5), (1, 5)), {}),
                                           (((4, 5), (4, 5)), {"dim": 0}),
                                           (((4, 5), (4, 5)), {"dim": -1, "eps": 0.5})])
def test_cosine_similarity_and_normalize_match_torch(shapes, kwargs):
    rng = np.random.default_rng(1)
    x1, x2 = (rng.standard_normal(s).astype(np.float32) for s in shapes)
    x1[0] *= 1e-9  # a row below eps: clamped norm, gradient through the unclamped one
    results = []
    for lib in (torch, fastnn):
        t1, t2 = lib.tensor(x1, requires_grad=True), lib.tensor(x2, requires_grad=True)
        sim = lib.nn.functional.cosine_similarity(t1, t2, **kwargs)
        unit = lib.nn.functional.normalize(t2, dim=kwargs.get("dim", 1))
        (sim.sum() + (unit * unit.detach() * 3).sum()).backward()
        results.append([sim.detach().numpy(), unit.detach().numpy(), t1.grad.numpy(),
                        t2.grad.numpy()])
    for theirs, ours in zip(*results):
        scale = max(1.0, float(np.abs(theirs).max()))
        np.testing.assert_allclose(ours / scale, theirs / scale, rtol=1e-5, atol=1e-6)


LEGACY = [({"size_average": False}, "sum"), ({"reduce": False}, "none"),
          ({"size_average": True}, "mean"), ({"size_average": False, "reduce": True}, "sum")]


@pytest.mark.parametrize("kwargs,reduction", LEGACY)
@pytest.mark.parametrize("name", ["CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss",
                                  "BCEWithLogitsLoss", "BCELoss", "SmoothL1Loss"])
def test_legacy_size_average_and_reduce_choose_the_reduction(name, kwargs, reduction):
    """torch's deprecated arguments still decide the reduction (they had been ignored, so
    size_average=False averaged instead of summing), with torch's warning."""
    with pytest.warns(UserWarning, match=f"please use reduction='{reduction}' instead"):
        assert getattr(nn, name)(**kwargs).reduction == reduction


@pytest.mark.parametrize("kwargs,reduction", LEGACY)
def test_legacy_arguments_of_the_functional_losses(kwargs, reduction):
    x = fastnn.tensor([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]])
    y = fastnn.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    for fn in (F.mse_loss, F.l1_loss, F.binary_cross_entropy_with_logits):
        with pytest.warns(UserWarning):
            got = fn(x, y, **kwargs)
        np.testing.assert_allclose(got.numpy(), fn(x, y, reduction=reduction).numpy())


def test_regression_losses_broadcast_a_target_of_another_size_with_torchs_warning():
    pred, target = fastnn.tensor([[1.0], [2.0]]), fastnn.tensor([0.0, 1.0])
    with pytest.warns(UserWarning, match=r"Using a target size \(fastnn.Size\(\[2\]\)\) that is "
                                         r"different to the input size"):
        loss = F.mse_loss(pred, target)
    assert float(loss) == pytest.approx(((1 - 0) ** 2 + (1 - 1) ** 2 + 4 + 1) / 4)
    with pytest.raises(ValueError, match=r"Target size \(fastnn.Size\(\[2\]\)\) must be the same"):
        F.binary_cross_entropy_with_logits(pred, target)


def test_mse_and_l1_take_per_element_weights():
    x, y = fastnn.tensor([1.0, 2.0, 3.0]), fastnn.zeros(3)
    w = fastnn.tensor([1.0, 2.0, 3.0])
    assert float(F.mse_loss(x, y, weight=w)) == pytest.approx(36 / 6)  # sum(w e^2) / sum(w)
    assert float(F.l1_loss(x, y, weight=w, reduction="sum")) == pytest.approx(14.0)
    with pytest.raises(ValueError, match="Weights and input must have the same size."):
        F.mse_loss(x, y, weight=fastnn.ones(2))


@pytest.mark.parametrize("a,b,clash", [((3, 2), (3,), (2, 3, 1)), ((2, 3, 4), (5, 6, 4), (3, 6, 1)),
                                        ((4, 1, 3), (2, 5), (3, 5, 2))])
def test_shapes_that_do_not_broadcast_raise_torchs_error(a, b, clash):
    x, y = fastnn.randn(*a), fastnn.randn(*b)
    message = (rf"The size of tensor a \({clash[0]}\) must match the size of tensor b "
               rf"\({clash[1]}\) at non-singleton dimension {clash[2]}")
    for op in (lambda: x + y, lambda: x - y, lambda: x * y, lambda: x / y, lambda: x == y,
               lambda: x < y, lambda: fastnn.maximum(x, y), lambda: fastnn.where(x > 0, x, y)):
        with pytest.raises(RuntimeError, match=message):
            op()


def test_softmax_dtype_and_pad_keywords():
    x = fastnn.tensor([[1.0, 2.0, 3.0]])
    assert F.softmax(x, dim=1, dtype=fastnn.float64).dtype == fastnn.float64
    np.testing.assert_allclose(F.log_softmax(input=x, dim=-1).exp().sum().item(), 1.0, rtol=1e-6)
    assert F.pad(x, pad=(1, 2)).shape == (1, 6)
    assert F.pad(input=x, pad=(1, 0), value=None).numpy().tolist() == [[0.0, 1.0, 2.0, 3.0]]


def test_save_and_load_take_file_objects_and_f():
    import io
    model = nn.Linear(3, 2)
    buffer = io.BytesIO()
    fastnn.save({"epoch": 3, "model": model.state_dict()}, f=buffer)
    buffer.seek(0)
    loaded = fastnn.load(buffer)
    assert loaded["epoch"] == 3
    np.testing.assert_array_equal(loaded["model"]["weight"].numpy(), model.weight.detach().numpy())
    flat = io.BytesIO()
    fastnn.save(model.state_dict(), flat)
    flat.seek(0)
    assert sorted(fastnn.load(flat)) == ["bias", "weight"]
    broken = io.BytesIO(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    with pytest.raises(ValueError, match="not a valid safetensors checkpoint"):
        fastnn.load(broken)


def test_conv1d_by_formula():
    x = fastnn.tensor([[[1.0, 2.0, 3.0, 4.0]]])
    w = fastnn.tensor([[[1.0, 0.0, -1.0]]])
    np.testing.assert_array_equal(F.conv1d(x, w, padding=1).numpy(), [[[-2.0, -2.0, -2.0, 3.0]]])
    layer = nn.Conv1d(1, 2, 3, padding="same", bias=False)
    assert layer.weight.shape == (2, 1, 3) and layer(x).shape == (1, 2, 4)
    assert layer(x[0]).shape == (2, 4)  # unbatched
    with pytest.raises(RuntimeError, match="Expected 2D \\(unbatched\\) or 3D \\(batched\\)"):
        F.conv1d(fastnn.randn(2, 1, 3, 4), w)


CONV1D = [dict(i=3, o=8, k=3, padding=1), dict(i=4, o=8, k=3, stride=2, dilation=2, groups=2,
                                              bias=False),
          dict(i=4, o=6, k=4, padding="same"), dict(i=2, o=3, k=3, padding=2,
                                                    padding_mode="reflect"),
          dict(i=2, o=3, k=2, padding="same", padding_mode="circular")]


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize("case", CONV1D, ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()))
def test_conv1d_matches_torch(case):
    case = dict(case)
    args = (case.pop("i"), case.pop("o"), case.pop("k"))
    theirs, ours = torch.nn.Conv1d(*args, **case), nn.Conv1d(*args, **case)
    ours.load_state_dict({k: fastnn.from_numpy(v.detach().numpy().copy())
                          for k, v in theirs.state_dict().items()})
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(0).standard_normal((2, args[0], 11)).astype(np.float32)
    tx, fx = torch.tensor(x, requires_grad=True), fastnn.tensor(x, requires_grad=True)
    ty, fy = theirs(tx), ours(fx)
    ty.square().sum().backward()
    fy.square().sum().backward()
    np.testing.assert_allclose(fy.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-4,
                               atol=1e-4)


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
def test_weighted_regression_losses_and_broadcast_errors_match_torch():
    rng = np.random.default_rng(2)
    x, y, w = (rng.standard_normal((3, 4)).astype(np.float32) for _ in range(3))
    for name in ("mse_loss", "l1_loss"):
        for reduction in ("mean", "sum", "none"):
            got = getattr(F, name)(fastnn.from_numpy(x), fastnn.from_numpy(y),
                                   reduction=reduction, weight=fastnn.from_numpy(w))
            want = getattr(torch.nn.functional, name)(torch.from_numpy(x), torch.from_numpy(y),
                                                      reduction=reduction,
                                                      weight=torch.from_numpy(w))
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    for a, b in (((3, 2), (3,)), ((4, 1, 3), (2, 5))):
        messages = []
        for lib in (torch, fastnn):
            with pytest.raises(RuntimeError) as caught:
                lib.ones(*a) - lib.ones(*b)
            messages.append(str(caught.value))
        assert messages[0] == messages[1]


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize("args", [((1000, 2), 0.0, 1), (0.0, 1.0), ("a", 1.0, (2,))])
def test_normal_without_a_matching_overload_lists_torchs_signatures(args):
    """d2l's gan chapter calls normal((1000, 2), 0.0, 1) in its MXNet order."""
    messages = []
    for lib in (torch, fastnn):
        with pytest.raises(TypeError) as info:
            lib.normal(*args)
        messages.append(str(info.value))
    assert messages[1] == messages[0]
