"""torch.nn.utils.weight_norm / remove_weight_norm, get_total_norm, clip_grads_with_norm_ and
the deprecated clip_grad_norm, torch.compile (eager) and get_rng_state/set_rng_state."""
import warnings

import numpy as np
import pytest

import fastnn
from conftest import requires_torch
from gradcheck import raised

try:
    import torch
except ImportError:
    torch = None


def _weight_norm_story(m, layer_kind, dim):
    rng = np.random.default_rng(0)
    layer = m.nn.Linear(4, 3) if layer_kind == "linear" else m.nn.Conv2d(2, 3, 3)
    with m.no_grad():
        for p in layer.parameters():
            p.copy_(m.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
    m.nn.utils.weight_norm(layer, dim=dim)
    keys = list(layer.state_dict())
    shapes = {k: tuple(v.shape) for k, v in layer.state_dict().items()}
    x = m.tensor(rng.standard_normal((2, 4) if layer_kind == "linear" else (2, 2, 5, 5))
                 .astype(np.float32))
    opt = m.optim.SGD(layer.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        (layer(x) ** 2).sum().backward()
        opt.step()
    out = layer(x).detach().numpy()
    grads = [p.grad.numpy() for p in layer.parameters()]
    m.nn.utils.remove_weight_norm(layer)
    after = (list(layer.state_dict()), layer(x).detach().numpy())
    return keys, shapes, out, grads, after


@requires_torch
@pytest.mark.parametrize("kind", ["linear", "conv"])
@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_trains_and_removes_as_torchs(kind, dim):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch deprecates the hook API in favour of
        theirs = _weight_norm_story(torch, kind, dim)  # parametrizations.weight_norm
    ours = _weight_norm_story(fastnn, kind, dim)
    assert ours[0] == theirs[0] and ours[1] == theirs[1] and ours[4][0] == theirs[4][0]
    # three SGD steps on (layer(x) ** 2).sum() grow the values to ~50: an element near 0 that
    # cancels carries float32 rounding of that scale, so the absolute bound follows the scale
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-4,
                               atol=1e-5 * max(1.0, np.abs(theirs[2]).max()))
    for got, want in zip(ours[3], theirs[3]):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * max(1.0, np.abs(want).max()))
    np.testing.assert_allclose(ours[4][1], theirs[4][1], rtol=1e-4,
                               atol=1e-5 * max(1.0, np.abs(theirs[4][1]).max()))


@requires_torch
def test_weight_norm_errors_are_torchs():
    def errors(m):
        layer = m.nn.Linear(2, 2)
        return raised([lambda: m.nn.utils.remove_weight_norm(layer),
                       lambda: m.nn.utils.weight_norm(m.nn.utils.weight_norm(layer))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = errors(torch)
    assert [e.split(" in ")[0] for e in errors(fastnn)] == [e.split(" in ")[0] for e in theirs]


@requires_torch
def test_total_norm_and_clipping_in_two_halves_match_torch():
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal(s).astype(np.float32) for s in [(3, 4), (4,), (2, 2, 2)]]
    results = []
    for m in (fastnn, torch):
        params = [m.nn.Parameter(m.zeros(*g.shape)) for g in grads]
        for p, g in zip(params, grads):
            p.grad = m.tensor(g)
        norms = [float(m.nn.utils.get_total_norm([p.grad for p in params], t))
                 for t in (1.0, 2.0, float("inf"))]
        total = m.nn.utils.get_total_norm([p.grad for p in params])
        m.nn.utils.clip_grads_with_norm_(params, 1.5, total)
        with pytest.warns(FutureWarning, match="clip_grad_norm_"):
            again = float(m.nn.utils.clip_grad_norm(params, 1.0))
        results.append((norms, [p.grad.numpy() for p in params], again))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-5)
    for got, want in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(got, want, rtol=1e-5)
    assert results[0][2] == pytest.approx(results[1][2], rel=1e-5)


def test_compile_runs_the_same_module_and_keeps_torchs_checkpoint_keys():
    net = fastnn.nn.Sequential(fastnn.nn.Linear(3, 2), fastnn.nn.ReLU())
    compiled = fastnn.compile(net, mode="reduce-overhead")
    x = fastnn.randn(4, 3)
    np.testing.assert_array_equal(compiled(x).detach().numpy(), net(x).detach().numpy())
    assert list(compiled.state_dict()) == ["_orig_mod.0.weight", "_orig_mod.0.bias"]
    assert compiled._orig_mod is net and compiled.training
    assert fastnn.compile(lambda v: v * 2)(3) == 6
    assert fastnn.compile(mode="max-autotune")(lambda v: v + 1)(1) == 2
    with pytest.raises(RuntimeError, match="Unrecognized mode=fast"):
        fastnn.compile(net, mode="fast")
    assert net.compile() is None


def test_rng_state_restores_the_stream():
    fastnn.manual_seed(3)
    state = fastnn.get_rng_state()
    first = fastnn.rand(5).numpy()
    fastnn.set_rng_state(state)
    np.testing.assert_array_equal(fastnn.rand(5).numpy(), first)
    assert state.dtype == fastnn.uint8 and state.ndim == 1
    with pytest.raises(TypeError, match="RNG state must be a torch.ByteTensor"):
        fastnn.set_rng_state(fastnn.zeros(3))
    with pytest.raises(RuntimeError, match="Expected an RNG state from get_rng_state"):
        fastnn.set_rng_state(fastnn.zeros(3, dtype=fastnn.uint8))
