"""Lazy layers as d2l builds its models: the optimizer is made before the first batch, and
the parameters it holds are materialised in place by that batch."""
import inspect

import numpy as np
import pytest

import fastnn
from fastnn import nn
from conftest import requires_torch
from test_porting import compare

try:
    import torch
except ImportError:
    torch = None

LAZY = ["LazyLinear", "LazyConv1d", "LazyConv2d", "LazyBatchNorm1d", "LazyBatchNorm2d",
        "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyInstanceNorm1d", "LazyInstanceNorm2d"]


def test_optimizer_made_before_the_first_batch_trains_the_materialised_parameters():
    net = nn.Sequential(nn.LazyConv2d(6, kernel_size=5, padding=2), nn.LazyBatchNorm2d(),
                        nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(), nn.LazyLinear(12),
                        nn.LazyBatchNorm1d(), nn.ReLU(), nn.LazyLinear(3))
    held = list(net.parameters())
    assert all(isinstance(p, nn.UninitializedParameter) for p in held)
    optimizer = fastnn.optim.SGD(net.parameters(), lr=0.1)
    x, y = fastnn.randn(4, 2, 8, 8), fastnn.tensor([0, 1, 2, 1])
    losses = []
    for _ in range(5):
        loss = nn.functional.cross_entropy(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert [p is q for p, q in zip(held, net.parameters())] == [True] * len(held)
    assert [type(m).__name__ for m in net] == ["Conv2d", "BatchNorm2d", "Sigmoid", "AvgPool2d",
                                               "Flatten", "Linear", "BatchNorm1d", "ReLU",
                                               "Linear"]
    assert tuple(net[0].weight.shape) == (6, 2, 5, 5) and net[0].in_channels == 2
    assert net[5].in_features == 6 * 4 * 4 and tuple(net[6].running_mean.shape) == (12,)
    assert all(type(p) is nn.Parameter for p in net.parameters())
    assert losses[-1] < losses[0]


def test_default_initialisation_after_materialising():
    layer = nn.LazyLinear(50)
    layer(fastnn.randn(2, 400))
    bound = 1 / 400 ** 0.5
    w = layer.weight.detach().numpy()
    assert w.shape == (50, 400) and np.abs(w).max() <= bound and w.std() > bound / 3
    norm = nn.LazyBatchNorm1d()
    norm(fastnn.randn(4, 3))
    assert norm.weight.detach().numpy().tolist() == [1, 1, 1]
    assert norm.bias.detach().numpy().tolist() == [0, 0, 0]


def test_dtype_and_unbatched_conv():
    layer = nn.LazyLinear(3, dtype=fastnn.float64)
    assert layer(fastnn.randn(2, 4, dtype=fastnn.float64)).dtype == fastnn.float64
    conv = nn.LazyConv2d(4, 3)
    assert tuple(conv(fastnn.randn(5, 8, 8)).shape) == (4, 6, 6) and conv.in_channels == 5


@requires_torch
@pytest.mark.parametrize("name", LAZY)
def test_signatures_and_reprs_are_torchs(name):
    ours, theirs = getattr(nn, name), getattr(torch.nn, name)
    assert list(inspect.signature(ours).parameters) == list(inspect.signature(theirs).parameters)
    args = (4, 3) if "Conv" in name else (4,) if "Linear" in name else ()
    assert repr(ours(*args)) == repr(theirs(*args))


@requires_torch
@pytest.mark.parametrize("name,args,shape", [
    ("LazyConvTranspose2d", (4, 3), (2, 6, 5, 5)),
    ("LazyConvTranspose2d", (4, 3, 2, 1, 1, 2), (2, 6, 5, 5)),
    ("LazyConvTranspose1d", (4, 3), (2, 6, 7)),
    ("LazyInstanceNorm2d", (), (2, 3, 4, 4)), ("LazyInstanceNorm1d", (), (2, 3, 5))])
def test_transposed_and_instance_norm_layers_materialise_as_torchs(name, args, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    seen = []
    for module in (fastnn, torch):
        layer = getattr(module.nn, name)(*args)
        layer(module.tensor(x))
        seen.append((type(layer).__name__, repr(layer),
                     {k: tuple(v.shape) for k, v in layer.state_dict().items()}))
    assert seen[0] == seen[1]


SOFTMAX_REGRESSION = """
import torch
from torch import nn

# d2l's concise softmax regression: a LazyLinear, the optimizer made before any data
net = nn.Sequential(nn.Flatten(), nn.LazyLinear(10))
optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
X, y = torch.tensor(IMAGES), torch.tensor(LABELS)
net(X[:1])
with torch.no_grad():
    net[1].weight.copy_(torch.linspace(-0.01, 0.01, 10 * 784).reshape(10, 784))
    net[1].bias.zero_()
losses = []
for epoch in range(3):
    loss = nn.CrossEntropyLoss()(net(X), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
result = {"losses": losses, "weight": net[1].weight}
"""


@requires_torch
def test_d2l_softmax_regression_ports_by_its_imports():
    rng = np.random.default_rng(0)
    compare(SOFTMAX_REGRESSION, rtol=1e-4, atol=1e-6,
            IMAGES=rng.random((16, 1, 28, 28), dtype=np.float32),
            LABELS=rng.integers(0, 10, 16))
