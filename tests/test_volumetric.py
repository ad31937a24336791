"""3-D layers (Conv3d, ConvTranspose3d, Max/Avg/Adaptive pooling, BatchNorm3d,
InstanceNorm3d, 3-D padding) and F.pad over any number of dimensions: values and gradients
against torch, reprs, and gradients against finite differences without torch."""
import warnings

import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn.autograd import gradcheck

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional peer
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def F(lib):
    return lib.nn.functional


CASES = {
    "conv3d_bias": (lambda L, x, w, b: F(L).conv3d(x, w, b),
                    [(2, 3, 5, 6, 7), (4, 3, 3, 2, 3), (4,)]),
    "conv3d_strided_padded_dilated": (
        lambda L, x, w: F(L).conv3d(x, w, None, (2, 1, 2), (1, 2, 1), (1, 2, 1)),
        [(2, 3, 6, 7, 8), (4, 3, 3, 3, 2)]),
    "conv3d_groups": (lambda L, x, w: F(L).conv3d(x, w, groups=2),
                      [(1, 4, 4, 5, 5), (6, 2, 2, 3, 3)]),
    "conv3d_same": (lambda L, x, w: F(L).conv3d(x, w, padding="same"),
                    [(1, 2, 5, 5, 5), (3, 2, 3, 3, 3)]),
    "conv3d_unbatched": (lambda L, x, w: F(L).conv3d(x, w), [(2, 4, 4, 4), (3, 2, 2, 2, 2)]),
    "conv_transpose3d": (lambda L, x, w, b: F(L).conv_transpose3d(x, w, b, 2, 1, 1),
                         [(2, 4, 3, 4, 5), (4, 3, 3, 3, 3), (3,)]),
    "conv_transpose3d_dilated_groups": (
        lambda L, x, w: F(L).conv_transpose3d(x, w, None, (1, 2, 1), (0, 1, 1), 0, 2, (2, 1, 1)),
        [(1, 4, 3, 4, 4), (4, 2, 2, 3, 3)]),
    "max_pool3d": (lambda L, x: F(L).max_pool3d(x, 2), [(2, 3, 6, 7, 8)]),
    "max_pool3d_padded": (lambda L, x: F(L).max_pool3d(x, 3, 1, 1), [(1, 2, 5, 5, 5)]),
    "max_pool3d_ceil": (lambda L, x: F(L).max_pool3d(x, 2, 2, ceil_mode=True),
                        [(1, 2, 5, 5, 5)]),
    "avg_pool3d": (lambda L, x: F(L).avg_pool3d(x, (2, 3, 2), (1, 2, 2)), [(2, 3, 6, 7, 8)]),
    "avg_pool3d_padded": (lambda L, x: F(L).avg_pool3d(x, 3, 2, 1), [(1, 2, 6, 7, 8)]),
    "adaptive_avg_pool3d": (lambda L, x: F(L).adaptive_avg_pool3d(x, (2, 3, 4)),
                            [(2, 3, 5, 7, 9)]),
    "adaptive_max_pool3d": (lambda L, x: F(L).adaptive_max_pool3d(x, (3, 2, 2)),
                            [(2, 3, 5, 7, 9)]),
    "batch_norm3d": (lambda L, x: L.nn.BatchNorm3d(3)(x), [(2, 3, 4, 5, 6)]),
    "instance_norm3d": (lambda L, x: L.nn.InstanceNorm3d(3, affine=True)(x), [(2, 3, 4, 5, 6)]),
    "pad_constant_3d": (lambda L, x: F(L).pad(x, (1, 2, 0, 1, 2, 1), value=0.5),
                        [(2, 3, 4, 5, 6)]),
    "pad_crop": (lambda L, x: F(L).pad(x, (-1, 2, 1, -2)), [(2, 3, 5, 6)]),
    "pad_reflect_3d": (lambda L, x: F(L).pad(x, (1, 1, 2, 1, 1, 2), mode="reflect"),
                       [(2, 3, 4, 5, 6)]),
    "pad_replicate_3d": (lambda L, x: L.nn.ReplicationPad3d((1, 2, 2, 1, 1, 1))(x),
                         [(2, 3, 4, 5, 6)]),
    "pad_circular_3d": (lambda L, x: L.nn.CircularPad3d(1)(x), [(2, 3, 4, 5, 6)]),
    "pad_zero_3d": (lambda L, x: L.nn.ZeroPad3d((1, 0, 0, 1, 2, 2))(x), [(1, 2, 3, 4, 5)]),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    fn, shapes = CASES[name]
    rng = np.random.default_rng(len(name))
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    found = []
    for lib in (fastnn, torch):
        lib.manual_seed(0)
        tensors = [lib.tensor(a, requires_grad=True) for a in arrays]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn(lib, *tensors)
        weights = np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(np.float32)
        (out * lib.tensor(weights)).sum().backward()
        found.append([out.detach().numpy()] + [t.grad.numpy() for t in tensors])
    for ours, theirs in zip(*found):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


@requires_torch
def test_reprs_match_torch():
    def reprs(lib):
        nn_ = lib.nn
        return [repr(m) for m in (
            nn_.Conv3d(3, 4, 3, padding=1), nn_.Conv3d(2, 2, (1, 2, 3), stride=2, bias=False),
            nn_.ConvTranspose3d(2, 3, 2, stride=2), nn_.MaxPool3d(2), nn_.AvgPool3d(2),
            nn_.BatchNorm3d(4), nn_.InstanceNorm3d(3), nn_.AdaptiveAvgPool3d((1, 2, 2)),
            nn_.AdaptiveMaxPool3d(1), nn_.ReflectionPad3d(1), nn_.ZeroPad3d((1, 1, 2, 2, 0, 0)),
            nn_.ConstantPad3d(1, 2.0))]
    assert reprs(fastnn) == reprs(torch)


def test_gradients_without_torch():
    rng = np.random.default_rng(3)
    x = fastnn.tensor(rng.standard_normal((1, 2, 4, 4, 4)), requires_grad=True)
    w = fastnn.tensor(rng.standard_normal((2, 2, 2, 2, 2)))
    assert gradcheck(lambda a: fastnn.nn.functional.pad(a, (1, 0, 0, 1, 1, 1), value=0.3), (x,))
    assert gradcheck(lambda a: fastnn.nn.functional.pad(a, (1, 1, 2, 1, 1, 2), mode="reflect"),
                     (x,))
    # the convolution and pooling kernels compute in float32 (too coarse for float64 finite
    # differences): a directional derivative at float32 step sizes instead
    xs, ws = x.detach().float(), w.detach().float()
    direction = fastnn.tensor(rng.standard_normal((1, 2, 4, 4, 4)).astype(np.float32))
    xr = xs.clone().requires_grad_(True)
    (fastnn.nn.functional.conv3d(xr, ws) ** 2).sum().backward()
    h = 1e-2
    plus = (fastnn.nn.functional.conv3d(xs + h * direction, ws) ** 2).sum().item()
    minus = (fastnn.nn.functional.conv3d(xs - h * direction, ws) ** 2).sum().item()
    expected = (plus - minus) / (2 * h)
    assert abs((xr.grad * direction).sum().item() - expected) < 1e-2 * max(1.0, abs(expected))


def test_a_small_3d_cnn_trains():
    fastnn.manual_seed(0)
    net = nn.Sequential(nn.Conv3d(1, 4, 3, padding=1), nn.BatchNorm3d(4), nn.ReLU(),
                        nn.MaxPool3d(2), nn.Conv3d(4, 8, 3), nn.AdaptiveAvgPool3d(1),
                        nn.Flatten(), nn.Linear(8, 2))
    rng = np.random.default_rng(0)
    x = fastnn.tensor(rng.standard_normal((8, 1, 8, 8, 8)).astype(np.float32))
    y = fastnn.tensor((x.numpy().mean(axis=(1, 2, 3, 4)) > 0).astype(np.int64))
    opt = fastnn.optim.Adam(net.parameters(), lr=0.01)
    losses = []
    for _ in range(30):
        loss = nn.functional.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_pad_errors_as_torch():
    x = fastnn.ones(2, 3)
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        fastnn.nn.functional.pad(x, (1, 2, 3))
    with pytest.raises(RuntimeError, match="Padding length should be less than or equal to two "
                                           "times the input dimension"):
        fastnn.nn.functional.pad(x, (1, 1, 1, 1, 1, 1))


@requires_torch
def test_lazy_3d_layers_take_their_channels_from_the_first_input():
    shapes = {}
    for lib in (fastnn, torch):
        lib.manual_seed(0)
        layers = [lib.nn.LazyConv3d(4, 3), lib.nn.LazyConvTranspose3d(4, 2, stride=2),
                  lib.nn.LazyBatchNorm3d(), lib.nn.LazyInstanceNorm3d(affine=True)]
        x = lib.ones(2, 3, 5, 5, 5)
        for layer in layers:
            layer(x)
        shapes[lib.__name__] = [(type(layer).__name__, tuple(layer.weight.shape))
                                for layer in layers]
    assert shapes["fastnn"] == shapes["torch"]
