"""F.affine_grid and F.grid_sample (the spatial transformer tutorial's two calls): values and
both gradients against torch in every mode, padding and align_corners, against finite
differences, torch's errors and warnings, and the tutorial's network ported by imports."""
import warnings

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from conftest import requires_torch
from gradcheck import check_op, raised
from test_porting import compare

try:
    import torch
except ImportError:
    torch = None

MODES = [(mode, padding, corners, dims)
         for dims in (2, 3) for mode in ("bilinear", "nearest", "bicubic")
         for padding in ("zeros", "border", "reflection") for corners in (False, True)
         if not (mode == "bicubic" and dims == 3)]


def _case(rng, dims, dtype, spatial=None, out=None):
    spatial = spatial or ((5, 7) if dims == 2 else (4, 5, 6))
    out = out or ((4, 6) if dims == 2 else (3, 4, 5))
    x = rng.standard_normal((2, 3) + spatial).astype(dtype)
    # beyond [-1, 1] as well, so padding and reflection are exercised
    grid = rng.uniform(-1.6, 1.6, (2,) + out + (dims,)).astype(dtype)
    return x, grid


@requires_torch
@pytest.mark.parametrize("mode,padding,corners,dims", MODES)
def test_grid_sample_matches_torch_values_and_both_gradients(mode, padding, corners, dims):
    rng = np.random.default_rng(hash((mode, padding, corners, dims)) % 2**32)
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 2e-5)):
        x, grid = _case(rng, dims, dtype)
        ours = [fastnn.tensor(a, requires_grad=True) for a in (x, grid)]
        theirs = [torch.tensor(a, requires_grad=True) for a in (x, grid)]
        kwargs = dict(mode=mode, padding_mode=padding, align_corners=corners)
        out = F.grid_sample(*ours, **kwargs)
        want = torch.nn.functional.grid_sample(*theirs, **kwargs)
        weights = rng.standard_normal(tuple(want.shape)).astype(dtype)
        (out * fastnn.tensor(weights)).sum().backward()
        (want * torch.tensor(weights)).sum().backward()
        assert out.dtype == fastnn.float64 if dtype == np.float64 else fastnn.float32
        scale = 1 + np.abs(want.detach().numpy()).max()
        np.testing.assert_allclose(out.detach().numpy(), want.detach().numpy(),
                                   atol=tol * scale)
        for got, expected in zip(ours, theirs):
            np.testing.assert_allclose(got.grad.numpy(), expected.grad.numpy(),
                                       atol=tol * 10 * scale)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
def test_grid_sample_gradients_match_finite_differences(mode, padding):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 2, 4, 5))
    # positions kept off integer coordinates and edges, where the derivative jumps
    grid = rng.uniform(-1.3, 1.3, (1, 3, 2, 2))
    check_op(lambda a, g: F.grid_sample(a, g, mode=mode, padding_mode=padding,
                                        align_corners=False),
             [x, grid])


@requires_torch
@pytest.mark.parametrize("corners", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 3, 4, 5), (1, 1, 1, 6), (3, 2, 7, 1)])
def test_affine_grid_matches_torch_and_passes_the_gradient_to_theta(size, corners):
    rng = np.random.default_rng(4)
    d = len(size) - 2
    theta = rng.standard_normal((size[0], d, d + 1)).astype(np.float32)
    ours = fastnn.tensor(theta, requires_grad=True)
    theirs = torch.tensor(theta, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the unit-size warning, checked below
        grid = F.affine_grid(ours, size, align_corners=corners)
        want = torch.nn.functional.affine_grid(theirs, size, align_corners=corners)
    assert tuple(grid.shape) == tuple(want.shape)
    np.testing.assert_allclose(grid.detach().numpy(), want.detach().numpy(), atol=1e-6)
    weights = rng.standard_normal(tuple(want.shape)).astype(np.float32)
    (grid * fastnn.tensor(weights)).sum().backward()
    (want * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_identity_theta_samples_the_image_back():
    rng = np.random.default_rng(5)
    x = fastnn.tensor(rng.standard_normal((2, 3, 6, 5)).astype(np.float32))
    theta = fastnn.tensor(np.tile(np.eye(2, 3, dtype=np.float32), (2, 1, 1)))
    for corners in (False, True):
        grid = F.affine_grid(theta, x.size(), align_corners=corners)
        for mode in ("bilinear", "nearest", "bicubic"):
            out = F.grid_sample(x, grid, mode=mode, align_corners=corners)
            np.testing.assert_allclose(out.numpy(), x.numpy(), atol=1e-5)


def test_size_one_zero_channels_and_empty_grids():
    x = fastnn.ones(1, 2, 1, 1)
    out = F.grid_sample(x, fastnn.zeros(1, 3, 3, 2), align_corners=False)
    np.testing.assert_allclose(out.numpy(), np.ones((1, 2, 3, 3)))
    assert F.grid_sample(fastnn.ones(2, 0, 3, 3), fastnn.zeros(2, 2, 2, 2),
                         align_corners=False).shape == (2, 0, 2, 2)
    assert F.grid_sample(fastnn.ones(2, 1, 3, 3), fastnn.zeros(2, 0, 4, 2),
                         align_corners=True).shape == (2, 1, 0, 4)


def test_align_corners_none_warns_as_torch_and_means_false():
    x = fastnn.ones(1, 1, 3, 3)
    theta = fastnn.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        grid = F.affine_grid(theta, (1, 1, 3, 3))
    np.testing.assert_allclose(grid.numpy(),
                               F.affine_grid(theta, (1, 1, 3, 3), align_corners=False).numpy())
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.grid_sample(x, grid)
    with pytest.warns(UserWarning, match="unit-size grids"):
        F.affine_grid(theta, (1, 1, 1, 3), align_corners=True)


ERROR_CASES = [
    lambda m: m.nn.functional.grid_sample(m.rand(2, 3, 4, 4), m.rand(2, 5, 5, 3),
                                          align_corners=False),
    lambda m: m.nn.functional.grid_sample(m.rand(2, 3, 4, 4), m.rand(3, 5, 5, 2),
                                          align_corners=False),
    lambda m: m.nn.functional.grid_sample(m.rand(2, 3, 4, 4), m.rand(2, 5, 2),
                                          align_corners=False),
    lambda m: m.nn.functional.grid_sample(m.rand(2, 3, 4, 4), m.rand(2, 5, 5, 2).double(),
                                          align_corners=False),
    lambda m: m.nn.functional.grid_sample(m.rand(2, 3, 0, 4), m.rand(2, 5, 5, 2),
                                          align_corners=False),
    lambda m: m.nn.functional.grid_sample(m.ones(2, 3, 4, 4, dtype=m.int32),
                                          m.ones(2, 5, 5, 2, dtype=m.int32), align_corners=False),
    lambda m: m.nn.functional.grid_sample(m.rand(1, 1, 4, 4, 4), m.rand(1, 2, 2, 2, 3),
                                          mode="bicubic", align_corners=False),
    lambda m: m.nn.functional.grid_sample(m.rand(1, 1, 4, 4), m.rand(1, 2, 2, 2),
                                          mode="area", align_corners=False),
    lambda m: m.nn.functional.grid_sample(m.rand(1, 1, 4, 4), m.rand(1, 2, 2, 2),
                                          padding_mode="circular", align_corners=False),
    lambda m: m.nn.functional.grid_sample(m.rand(2, 3, 4), m.rand(2, 5, 2),
                                          align_corners=False),
    lambda m: m.nn.functional.grid_sample(m.rand(2, 3, 4, 4, 4, 4), m.rand(2, 5, 5, 2, 2, 4),
                                          align_corners=False),
    lambda m: m.nn.functional.grid_sample(m.rand(2, 3, 4, 4), m.rand(2, 5, 5, 1, 2),
                                          align_corners=False),
    lambda m: m.nn.functional.affine_grid(m.rand(2, 3, 3), (2, 1, 4, 4), align_corners=False),
    lambda m: m.nn.functional.affine_grid(m.rand(2, 2, 3), (2, 1, 4, 4, 4),
                                          align_corners=False),
    lambda m: m.nn.functional.affine_grid(m.rand(2, 2, 3), (2, 4, 4), align_corners=False),
    lambda m: m.nn.functional.affine_grid(m.ones(2, 2, 3, dtype=m.int64), (2, 1, 4, 4),
                                          align_corners=False),
    lambda m: m.nn.functional.affine_grid(m.rand(2, 2, 3), (2, 1, 0, 4), align_corners=False),
]


@requires_torch
def test_errors_are_torchs():
    assert raised([lambda c=c: c(fastnn) for c in ERROR_CASES]) == \
        raised([lambda c=c: c(torch) for c in ERROR_CASES])


STN_PROGRAM = """
import torch
from torch import nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)
        self.localization = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=7), nn.MaxPool2d(2, stride=2), nn.ReLU(True),
            nn.Conv2d(8, 10, kernel_size=5), nn.MaxPool2d(2, stride=2), nn.ReLU(True))
        self.fc_loc = nn.Sequential(nn.Linear(10 * 3 * 3, 32), nn.ReLU(True),
                                    nn.Linear(32, 3 * 2))
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

    def stn(self, x):
        xs = self.localization(x)
        xs = xs.view(-1, 10 * 3 * 3)
        theta = self.fc_loc(xs).view(-1, 2, 3)
        grid = F.affine_grid(theta, x.size(), align_corners=False)
        return F.grid_sample(x, grid, align_corners=False)

    def forward(self, x):
        x = self.stn(x)
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1)


model = Net()
model.load_state_dict({k: torch.from_numpy(v) for k, v in INIT.items()})
model.eval()  # dropout off: both libraries see the same network
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
data, target = torch.from_numpy(IMAGES), torch.from_numpy(LABELS)
losses = []
for step in range(3):  # a fourth step crosses a max-pool switch: chaotic
    optimizer.zero_grad()
    loss = F.nll_loss(model(data), target)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
with torch.no_grad():
    transformed = model.stn(data)
result = {"losses": losses, "transformed": transformed, "theta_bias": model.fc_loc[2].bias}
"""


@requires_torch
def test_the_spatial_transformer_tutorial_ports_by_changing_its_imports():
    rng = np.random.default_rng(6)
    shapes = {name: tuple(p.shape) for name, p in _torch_stn_state().items()}
    init = {name: (rng.standard_normal(s) * 0.1).astype(np.float32)
            for name, s in shapes.items()}
    init["fc_loc.2.weight"][:] = 0
    init["fc_loc.2.bias"][:] = [1, 0, 0, 0, 1, 0]
    inputs = dict(INIT=init, IMAGES=rng.random((16, 1, 28, 28)).astype(np.float32),
                  LABELS=rng.integers(0, 10, 16))
    ours = compare(STN_PROGRAM, rtol=1e-3, atol=5e-4, **inputs)
    assert ours["losses"][-1] < ours["losses"][0]
    # the localisation net learnt something: theta moved off the identity
    assert np.abs(ours["theta_bias"] - [1, 0, 0, 0, 1, 0]).max() > 0


def _torch_stn_state():
    namespace = {}
    source = STN_PROGRAM.split("model = Net()")[0]
    exec(source, namespace)
    return namespace["Net"]().state_dict()
