"""RMSNorm, LocalResponseNorm, Unfold/Fold (F.unfold, F.fold), Bilinear, RReLU, the in-place
functional activations and the *_with_indices pooling names, against torch and finite
differences."""
import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn.nn import functional as F
from conftest import requires_torch
from gradcheck import check_op

try:
    import torch
except ImportError:
    torch = None

RNG = np.random.default_rng(4)
X = RNG.standard_normal((2, 3, 5, 4))
W4 = RNG.uniform(0.5, 1.5, 4)
COLS = RNG.standard_normal((2, 3 * 4, 8))

CASES = {
    "rms_norm": (lambda F_, x, w: F_.rms_norm(x, (4,), w, 1e-5), [X, W4]),
    "rms_norm_two_dims": (lambda F_, x: F_.rms_norm(x, (5, 4), eps=1e-6), [X]),
    "local_response_norm": (lambda F_, x: F_.local_response_norm(x, 2, alpha=0.5, k=2.0), [X]),
    "local_response_norm_3": (lambda F_, x: F_.local_response_norm(x[:, :, 0], 3), [X]),
    "unfold": (lambda F_, x: F_.unfold(x, (2, 3), padding=1, stride=(2, 1)), [X]),
    "unfold_dilated": (lambda F_, x: F_.unfold(x, 2, dilation=2), [X]),
    "fold": (lambda F_, c: F_.fold(c, (4, 5), (2, 2), stride=(2, 1)), [COLS]),
    "bilinear": (lambda F_, a, b, w, bias: F_.bilinear(a, b, w, bias),
                 [X[0, 0, :, :3], X[1, 1, :, :2], RNG.standard_normal((4, 3, 2)),
                  RNG.standard_normal(4)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients(name):
    fn, arrays = CASES[name]
    check_op(lambda *t: fn(F, *t), arrays, rtol=3e-2,
             torch_fn=(lambda *t: fn(torch.nn.functional, *t)) if torch is not None else None)


def test_fold_of_unfold_counts_overlaps():
    x = fastnn.ones(1, 1, 4, 4)
    counts = F.fold(F.unfold(x, 2), (4, 4), 2).numpy()[0, 0]
    assert counts.tolist() == [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]]


@requires_torch
@pytest.mark.parametrize("name,args,shape", [
    ("RMSNorm", (4,), (2, 3, 4)), ("LocalResponseNorm", (2,), (2, 5, 3)),
    ("Unfold", (2,), (2, 3, 4, 4)), ("Fold", ((3, 3), 2), (2, 8, 4)),
])
def test_modules_match_torch(name, args, shape):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    x = RNG.standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(ours(fastnn.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


@requires_torch
def test_bilinear_layer_matches_torch():
    theirs, ours = torch.nn.Bilinear(3, 2, 4), nn.Bilinear(3, 2, 4)
    assert repr(ours) == repr(theirs)
    bound = 1 / np.sqrt(3)
    assert np.abs(ours.weight.detach().numpy()).max() <= bound
    ours.load_state_dict({k: fastnn.tensor(v.detach().numpy())
                          for k, v in theirs.state_dict().items()})
    a, b = RNG.standard_normal((5, 3)).astype(np.float32), RNG.standard_normal((5, 2)).astype(
        np.float32)
    np.testing.assert_allclose(ours(fastnn.tensor(a), fastnn.tensor(b)).detach().numpy(),
                               theirs(torch.tensor(a), torch.tensor(b)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_rrelu_and_in_place_functional_forms():
    layer = nn.RReLU(0.1, 0.3)
    x = fastnn.tensor([-2.0, -1.0, 3.0])
    layer.eval()
    assert np.allclose(layer(x).numpy(), [-0.4, -0.2, 3.0])
    layer.train()
    fastnn.manual_seed(0)
    slopes = (layer(fastnn.full((2000,), -1.0)).numpy() * -1)
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.03
    for fn, args, want in [(F.relu_, (), [0.0, 2.0]), (F.leaky_relu_, (0.5,), [-0.5, 2.0]),
                           (F.hardtanh_, (-0.5, 1.0), [-0.5, 1.0]),
                           (F.threshold_, (1.0, 7.0), [7.0, 2.0])]:
        y = fastnn.tensor([-1.0, 2.0])
        assert fn(y, *args) is y and y.tolist() == want
    values, indices = F.max_pool2d_with_indices(fastnn.arange(16.0).reshape(1, 1, 4, 4), 2)
    assert indices.numpy().ravel().tolist() == [5, 7, 13, 15]
