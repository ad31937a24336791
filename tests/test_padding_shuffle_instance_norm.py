"""Padding layers, PixelShuffle / PixelUnshuffle and InstanceNorm1d/2d against torch: values,
gradients, reprs, running statistics; and the fast-neural-style block that uses all three."""
import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn.nn import functional as F
from conftest import requires_torch
from gradcheck import check_op
from test_porting import compare

try:
    import torch
except ImportError:
    torch = None

LAYERS = [
    ("ConstantPad2d", (1, 3.5), (2, 3, 4, 5)), ("ConstantPad1d", ((1, 2), 0.0), (2, 3, 4)),
    ("ZeroPad2d", ((1, 0, 2, 1),), (2, 3, 4, 5)), ("ZeroPad1d", (2,), (3, 4)),
    ("ReflectionPad2d", (2,), (2, 3, 4, 5)), ("ReflectionPad1d", ((1, 2),), (2, 3, 4)),
    ("ReplicationPad2d", ((1, 2, 3, 4),), (2, 3, 4, 5)), ("ReplicationPad1d", (1,), (2, 3, 4)),
    ("CircularPad2d", (1,), (2, 3, 4, 5)), ("CircularPad1d", (1,), (3, 4)),
    ("PixelShuffle", (2,), (2, 8, 3, 4)), ("PixelUnshuffle", (2,), (2, 2, 4, 6)),
    ("PixelShuffle", (3,), (9, 2, 2)),
    ("InstanceNorm2d", (3,), (2, 3, 4, 5)), ("InstanceNorm1d", (3, 1e-5, 0.1, True), (2, 3, 6)),
    ("InstanceNorm2d", (3,), (3, 4, 5)),
]


@requires_torch
@pytest.mark.parametrize("name,args,shape", LAYERS)
def test_layers_match_torch(name, args, shape):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    if any(True for _ in theirs.parameters()):
        ours.load_state_dict({k: fastnn.tensor(v.detach().numpy())
                              for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    tx, fx = torch.tensor(x, requires_grad=True), fastnn.tensor(x, requires_grad=True)
    tout, fout = theirs(tx), ours(fx)
    weights = rng.standard_normal(tuple(tout.shape)).astype(np.float32)
    (tout * torch.tensor(weights)).sum().backward()
    (fout * fastnn.tensor(weights)).sum().backward()
    np.testing.assert_allclose(fout.detach().numpy(), tout.detach().numpy(), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_instance_norm_gradient_by_finite_differences():
    x = np.random.default_rng(1).standard_normal((2, 2, 3, 3))
    w, b = np.array([0.5, 2.0]), np.array([0.1, -0.3])
    check_op(lambda a, c, e: F.instance_norm(a, weight=c, bias=e), [x, w, b],
             torch_fn=(lambda a, c, e: torch.nn.functional.instance_norm(a, weight=c, bias=e))
             if torch is not None else None)


@requires_torch
def test_instance_norm_running_statistics_match_torch():
    ours = nn.InstanceNorm2d(3, track_running_stats=True, momentum=0.3)
    theirs = torch.nn.InstanceNorm2d(3, track_running_stats=True, momentum=0.3)
    rng = np.random.default_rng(2)
    for _ in range(3):
        x = rng.standard_normal((4, 3, 5, 5)).astype(np.float32) * 2 + 1
        ours(fastnn.tensor(x))
        theirs(torch.tensor(x))
    np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-5)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, 3, 5, 5)).astype(np.float32)
    np.testing.assert_allclose(ours(fastnn.tensor(x)).numpy(),
                               theirs(torch.tensor(x)).numpy(), rtol=1e-4, atol=1e-5)


def test_pixel_shuffle_round_trip_and_error():
    x = fastnn.randn(2, 12, 3, 5)
    assert np.array_equal(F.pixel_unshuffle(F.pixel_shuffle(x, 2), 2).numpy(), x.numpy())
    with pytest.raises(RuntimeError, match=r"input.size\(-3\)=5 is not divisible by 4"):
        F.pixel_shuffle(fastnn.zeros(1, 5, 2, 2), 2)


STYLE_BLOCK = """
import torch

class ConvLayer(torch.nn.Module):
    # pytorch/examples fast_neural_style's layers, small
    def __init__(self, in_channels, out_channels, kernel_size, stride):
        super().__init__()
        self.reflection_pad = torch.nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x):
        return self.conv2d(self.reflection_pad(x))

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = ConvLayer(3, 4, kernel_size=3, stride=1)
        self.in1 = torch.nn.InstanceNorm2d(4, affine=True)
        self.up = torch.nn.Conv2d(4, 12, 3, padding=1)
        self.shuffle = torch.nn.PixelShuffle(2)
        self.relu = torch.nn.ReLU()

    def forward(self, x):
        return self.shuffle(self.up(self.relu(self.in1(self.conv1(x)))))

net = Net()
with torch.no_grad():
    for p in net.parameters():
        p.copy_(torch.linspace(-0.2, 0.3, p.numel()).reshape(p.shape))
optimizer = torch.optim.Adam(net.parameters(), 1e-2)
x = torch.tensor(IMAGE)
losses = []
for _ in range(3):
    optimizer.zero_grad()
    loss = torch.nn.MSELoss()(net(x), torch.zeros(2, 3, 12, 12))
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
result = {"losses": losses, "out": net(x)}
"""


@requires_torch
def test_fast_neural_style_block_ports_by_its_imports():
    image = np.random.default_rng(3).standard_normal((2, 3, 6, 6)).astype(np.float32)
    compare(STYLE_BLOCK, rtol=1e-4, atol=1e-5, IMAGE=image)
