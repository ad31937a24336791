"""torchvision.models' residual networks (fastnn.data.models): torchvision's sizes and
state-dict names, and, built by the same code on torch, the same initial weights after the
same seed and the same outputs."""
import pathlib

import numpy as np
import pytest

import fastnn
from fastnn.data import models

SOURCE = pathlib.Path(models.__file__).with_name("resnet.py").read_text()


@pytest.mark.parametrize("build, parameters", [
    (models.resnet18, 11_689_512),   # torchvision's counts
    (models.resnet34, 21_797_672),
    (models.resnet50, 25_557_032),
])
def test_torchvisions_parameter_counts(build, parameters):
    assert sum(p.numel() for p in build().parameters()) == parameters


def test_torchvisions_names_and_children():
    model = models.resnet18(num_classes=10)
    keys = list(model.state_dict())
    assert keys[:6] == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean",
                        "bn1.running_var", "bn1.num_batches_tracked"]
    assert "layer2.0.downsample.0.weight" in keys and "layer1.0.downsample.0.weight" not in keys
    assert keys[-2:] == ["fc.weight", "fc.bias"]
    names = [name for name, _ in model.named_children()]
    assert names == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
                     "avgpool", "fc"]
    assert model.fc.in_features == 512 and models.resnet50().fc.in_features == 2048


def test_zero_init_residual():
    # (weights= through fastnn.hub: tests/test_hub_weights.py)
    model = models.resnet18(zero_init_residual=True)
    assert float(model.layer1[0].bn2.weight.abs().sum()) == 0


def test_siamese_networks_surgery():
    # pytorch/examples siamese_network: a one-channel stem and the network without its head
    net = models.resnet18(weights=None)
    net.conv1 = fastnn.nn.Conv2d(1, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3),
                                 bias=False)
    trunk = fastnn.nn.Sequential(*list(net.children())[:-1])
    assert tuple(trunk(fastnn.rand(2, 1, 28, 28)).shape) == (2, 512, 1, 1)


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_the_same_code_on_torch_gives_the_same_weights_and_outputs(name):
    torch = pytest.importorskip("torch")
    namespace = {}
    exec(compile(SOURCE.replace("from fastnn import nn", "from torch import nn")
                 .replace("from fastnn.nn import functional", "from torch.nn import functional"),
                 "resnet_on_torch", "exec"), namespace)
    kwargs = {"num_classes": 7, "width_per_group": 16} if name == "resnet50" else {}
    torch.manual_seed(0)
    theirs = namespace[name](**kwargs).eval()
    fastnn.manual_seed(0)
    ours = getattr(models, name)(**kwargs).eval()
    for (key, a), (_, b) in zip(theirs.state_dict().items(), ours.state_dict().items()):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, atol=1e-6, err_msg=key)
    x = np.random.default_rng(0).standard_normal((2, 3, 40, 40)).astype(np.float32)
    np.testing.assert_allclose(ours(fastnn.from_numpy(x)).detach().numpy(),
                               theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-3, atol=1e-4)
