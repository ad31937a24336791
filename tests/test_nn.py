"""Modules, the optimizer and checkpoints, with PyTorch's names, keys and update rule."""
import numpy as np
import pytest

import fastnn
from fastnn import nn
from conftest import HAS_TORCH, requires_torch


def d2l_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def test_linear_has_torch_shapes_and_default_init():
    layer = nn.Linear(784, 256)
    assert layer.weight.shape == (256, 784) and layer.bias.shape == (256,)
    bound = 1 / np.sqrt(784)
    assert np.abs(layer.weight._data).max() <= bound and np.abs(layer.bias._data).max() <= bound
    assert layer.weight._data.std() == pytest.approx(bound / np.sqrt(3), rel=0.05)
    assert nn.Linear(3, 2, bias=False).bias is None


def test_state_dict_keys_match_pytorch_sequential():
    net = d2l_mlp()
    assert list(net.state_dict()) == ["1.weight", "1.bias", "3.weight", "3.bias"]
    assert [n for n, _ in net.named_parameters()] == list(net.state_dict())
    assert isinstance(net[1], nn.Linear) and len(net) == 4


def test_custom_module_registers_in_order():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 512)
            self.fc2 = nn.Linear(512, 10)

        def forward(self, x):
            return self.fc2(fastnn.relu(self.fc1(x)))

    net = Net()
    assert list(net.state_dict()) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    for batch in (1, 2, 200):
        assert net(fastnn.randn(batch, 784)).shape == (batch, 10)
    assert "fc1" in repr(net) and "in_features=784" in repr(net)


def test_load_state_dict_round_trip_and_wrong_shape():
    a, b = d2l_mlp(), d2l_mlp()
    b.load_state_dict(a.state_dict())
    x = fastnn.randn(5, 1, 28, 28)
    np.testing.assert_array_equal(a(x).data, b(x).data)
    bad = dict(a.state_dict())
    bad["1.weight"] = fastnn.zeros(10, 10)
    with pytest.raises(RuntimeError, match="size mismatch for 1.weight"):
        b.load_state_dict(bad)
    with pytest.raises(RuntimeError, match="Missing key\\(s\\) in state_dict: \"1.bias\""):
        b.load_state_dict({"1.weight": a.state_dict()["1.weight"]})


def test_apply_zero_grad_train_eval():
    net = d2l_mlp()
    net.apply(lambda m: nn.init.normal_(m.weight, std=0.01) if isinstance(m, nn.Linear) else None)
    assert net[1].weight._data.std() == pytest.approx(0.01, rel=0.05)
    net(fastnn.randn(2, 784)).sum().backward()
    assert net[1].weight.grad is not None
    net.zero_grad()
    assert net[1].weight.grad is None
    net.eval()
    assert not net.training and not net[1].training
    net.train()
    assert net[3].training


def test_flatten_keeps_the_batch_dimension():
    assert nn.Flatten()(fastnn.randn(7, 1, 28, 28)).shape == (7, 784)


@pytest.mark.parametrize("momentum,dampening,weight_decay,nesterov",
                         [(0.0, 0.0, 0.0, False), (0.9, 0.0, 0.0, False), (0.9, 0.1, 1e-2, False),
                          (0.9, 0.0, 1e-2, True)])
def test_sgd_follows_torch_update_rule(momentum, dampening, weight_decay, nesterov, backend_name):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((4, 3)).astype(np.float32)
    grads = [rng.standard_normal((4, 3)).astype(np.float32) for _ in range(5)]
    w = nn.Parameter(w0.copy())
    opt = fastnn.optim.SGD([w], lr=0.1, momentum=momentum, dampening=dampening,
                           weight_decay=weight_decay, nesterov=nesterov)
    expected, buf = w0.astype(np.float64), None
    for g in grads:
        w.grad = fastnn.tensor(g)
        opt.step()
        d = g + weight_decay * expected
        if momentum:
            buf = d if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        expected = expected - 0.1 * d
    np.testing.assert_allclose(w._data, expected, rtol=1e-5, atol=1e-6)
    if HAS_TORCH:
        import torch
        tw = torch.nn.Parameter(torch.tensor(w0))
        topt = torch.optim.SGD([tw], lr=0.1, momentum=momentum, dampening=dampening,
                               weight_decay=weight_decay, nesterov=nesterov)
        for g in grads:
            tw.grad = torch.tensor(g)
            topt.step()
        np.testing.assert_allclose(w._data, tw.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_save_load_round_trip(tmp_path):
    net = d2l_mlp()
    path = tmp_path / "model.safetensors"
    fastnn.save(net.state_dict(), path)
    loaded = fastnn.load(path)
    assert set(loaded) == set(net.state_dict())
    other = d2l_mlp()
    other.load_state_dict(loaded)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[k].data, v._data)
    assert not list(tmp_path.glob(".tmp-*")), "the temporary file was left behind"


@pytest.mark.parametrize("payload", [b"", b"garbage" * 10, b"\xff" * 8 + b"{}",
                                     (2**40).to_bytes(8, "little") + b"{"])
def test_garbage_checkpoint_raises(tmp_path, payload):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(payload)
    with pytest.raises(fastnn.serialization.CheckpointError, match="not a valid"):
        fastnn.load(path)


@requires_torch
def test_checkpoint_loads_into_the_same_pytorch_model(tmp_path):
    import torch
    from safetensors.torch import load_file

    net = d2l_mlp()
    fastnn.save(net.state_dict(), tmp_path / "m.safetensors")
    tnet = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 256), torch.nn.ReLU(),
                               torch.nn.Linear(256, 10))
    tnet.load_state_dict(load_file(tmp_path / "m.safetensors"))
    x = np.random.default_rng(0).random((8, 1, 28, 28), dtype=np.float32)
    np.testing.assert_allclose(net(fastnn.tensor(x))._data,
                               tnet(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
