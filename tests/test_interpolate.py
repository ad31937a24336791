"""F.interpolate's modes against torch (values and gradients): nearest, nearest-exact, linear,
bilinear and trilinear with and without align_corners, area; sizes and scale factors, with and
without recompute_scale_factor; the Upsample layers; torch's errors."""
import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn.nn import functional as F
from gradcheck import check_op

try:
    import torch
except ImportError:
    torch = None

RNG = np.random.default_rng(0)
X3, X4, X5 = (RNG.standard_normal(s) for s in ((2, 3, 5), (2, 2, 4, 5), (1, 2, 3, 2, 4)))

CASES = [
    ("nearest_size", X4, dict(size=(7, 3), mode="nearest")),
    ("nearest_scale", X4, dict(scale_factor=2, mode="nearest")),
    ("nearest_exact", X4, dict(size=(6, 9), mode="nearest-exact")),
    ("linear", X3, dict(size=8, mode="linear")),
    ("linear_align", X3, dict(size=8, mode="linear", align_corners=True)),
    ("bilinear_up", X4, dict(scale_factor=2, mode="bilinear")),
    ("bilinear_odd", X4, dict(scale_factor=1.7, mode="bilinear")),
    ("bilinear_recompute", X4, dict(scale_factor=1.7, mode="bilinear",
                                    recompute_scale_factor=True)),
    ("bilinear_down_align", X4, dict(size=(3, 2), mode="bilinear", align_corners=True)),
    ("bilinear_to_one", X4, dict(size=(1, 1), mode="bilinear", align_corners=True)),
    ("trilinear", X5, dict(size=(4, 3, 5), mode="trilinear")),
    ("area", X4, dict(size=(2, 3), mode="area")),
]


@pytest.mark.parametrize("name,x,kwargs", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(name, x, kwargs):
    check_op(lambda t: F.interpolate(t, **kwargs), [x],
             torch_fn=(lambda t: torch.nn.functional.interpolate(t, **kwargs))
             if torch is not None else None)


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("build", [
    lambda n: n.Upsample(scale_factor=2, mode="bilinear"),
    lambda n: n.Upsample(size=(5, 5), mode="bilinear", align_corners=True),
    lambda n: n.UpsamplingBilinear2d(scale_factor=2),
    lambda n: n.UpsamplingNearest2d(size=(3, 8)),
])
def test_upsample_layers(build):
    ours, theirs = build(nn), build(torch.nn)
    assert repr(ours) == repr(theirs)
    x = X4.astype(np.float32)
    np.testing.assert_allclose(ours(fastnn.tensor(x)).numpy(),
                               theirs(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)


def test_errors():
    with pytest.raises(NotImplementedError, match="Got 3D input, but bilinear mode needs 4D"):
        F.interpolate(fastnn.zeros(1, 2, 3), size=4, mode="bilinear")
    with pytest.raises(ValueError, match="align_corners option can only be set with the "
                                         "interpolating modes"):
        F.interpolate(fastnn.zeros(1, 2, 3, 3), size=4, mode="nearest", align_corners=True)
    with pytest.raises(ValueError, match="only one of size or scale_factor should be defined"):
        F.interpolate(fastnn.zeros(1, 2, 3, 3))
