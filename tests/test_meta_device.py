"""The meta device (fastnn/meta.py), as the "Reasoning about Shapes" and "Tips for loading an
nn.Module" recipes use it: factories and layers on device="meta" or inside
`with fastnn.device("meta")`, shapes through whole networks without data (of sizes no memory
could hold), torch's printing and errors, Module.to / to_empty / load_state_dict(assign=True),
set_default_device, and backward giving meta gradients. Each case runs on torch too when it is
installed and the two must agree."""
import numpy as np
import pytest

import fastnn

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional peer
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def _shapes_through_networks(lib):
    nn, F = lib.nn, lib.nn.functional
    found = []
    t = lib.rand(2, 3, 10, 10, device="meta")
    conv = nn.Conv2d(3, 5, 2, device="meta")
    found += [repr(conv(t)), repr(t)]
    # 2**10 x 3 x 2**16 x 2**16 floats: 52 TB if it had data
    huge = conv(lib.rand(2 ** 10, 3, 2 ** 16, 2 ** 16, device="meta"))
    found += [tuple(huge.shape), str(huge.device), huge.is_meta, repr(huge)]
    with lib.device("meta"):
        net = nn.Sequential(nn.Conv2d(3, 6, 5), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(6, 16, 5), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1),
                            nn.Flatten(), nn.Linear(16, 120), nn.ReLU(), nn.Dropout(0.5),
                            nn.Linear(120, 10))
        mlp = nn.Sequential(nn.Linear(4096, 4096), nn.LayerNorm(4096), nn.GELU(),
                            nn.Linear(4096, 10))
        x = lib.randn(100000, 3, 64, 64)
    shapes = []
    for layer in net:
        layer.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape)))
    logits = net(x)
    labels = lib.randint(0, 10, (100000,), device="meta")
    loss = F.cross_entropy(logits, labels)
    found += [shapes, repr(loss), str(net[1].running_mean.device), repr(net[0].weight)]
    found += [sum(p.numel() for p in mlp.parameters()),
              repr(mlp(lib.randn(8, 4096, device="meta")))]
    with lib.device("meta"):
        emb = nn.Embedding(50000, 64)
        enc = nn.TransformerEncoderLayer(d_model=64, nhead=4, batch_first=True)
        lstm = nn.LSTM(32, 48, num_layers=2, batch_first=True)
    tokens = lib.randint(0, 50000, (4, 16), device="meta")
    found += [tuple(enc(emb(tokens)).shape), str(tokens.dtype)]
    out, (h, c) = lstm(lib.randn(4, 7, 32, device="meta"))
    found += [tuple(out.shape), tuple(h.shape), tuple(c.shape), str(out.device)]
    return found


def _tensor_ops(lib):
    found = []
    a, b = lib.randn(5, 3, 4, device="meta"), lib.randn(5, 4, 2, device="meta")
    found += [tuple((a @ b).shape), str(lib.bmm(a, b).device), tuple(lib.cat([a, a], 1).shape),
              tuple(lib.stack([a, a]).shape), tuple(a.view(15, 4).shape),
              tuple(a.permute(2, 0, 1).shape), tuple(a[1:, 0].shape),
              tuple(a.transpose(0, 1).contiguous().shape), str(a.softmax(-1).device),
              tuple(a.mean(dim=1).shape), repr(a.max()), tuple(a.argmax(dim=1).shape),
              str(a.double().dtype), a.float().is_meta, tuple(a.expand(2, 5, 3, 4).shape),
              str(lib.zeros_like(a).device), str(lib.ones_like(a, device="cpu").device),
              str(a.new_zeros(2).device), repr(lib.arange(10, device="meta")),
              repr(lib.where(a > 0, a, 0.0)), repr(a.sum(dim=(0, 2), keepdim=True)),
              repr((a * 2 + 1).exp().clamp(0, 1)), repr(lib.zeros(3, dtype=lib.int32,
                                                                  device="meta"))]
    cpu = lib.ones(2, 3)
    moved = cpu.to("meta")
    found += [repr(moved), str(cpu.device)]
    for bad in (lambda: moved.cpu(), lambda: moved.tolist(), lambda: moved.numpy(),
                lambda: a.item(), lambda: lib.zeros(1, device="meta").item()):
        try:
            bad()
            found.append("no error")
        except Exception as exc:  # torch's types and first words
            found.append((type(exc).__name__, str(exc)[:30]))
    moved.add_(1)  # writes into a meta tensor do nothing and raise nothing
    moved[0] = 5
    found.append(repr(moved))
    return found


def _modules_and_checkpoints(lib, tmp_path):
    nn = lib.nn
    found = []

    class Some(nn.Module):
        def __init__(self):
            super().__init__()
            self.linears = nn.ModuleList([nn.Linear(1, 1) for _ in range(10)])

    real = Some()
    path = str(tmp_path / f"{lib.__name__}.pth")
    lib.save(real.state_dict(), path)
    state = lib.load(path, mmap=True)
    with lib.device("meta"):
        empty = Some()
    found.append(repr(empty.linears[0].weight))
    found.append(str(empty.load_state_dict(state, assign=True)))
    weight = empty.linears[3].weight
    found += [str(weight.device), weight.requires_grad, type(weight).__name__,
              lib.equal(empty.linears[3].bias, real.linears[3].bias)]
    layer = nn.Linear(3, 2, device="meta")
    found.append(repr(layer.weight))
    layer.to_empty(device="cpu")
    layer.reset_parameters()
    found += [str(layer.weight.device), tuple(layer(lib.ones(1, 3)).shape)]
    to_meta = nn.Linear(2, 2).to("meta")
    found += [str(to_meta.weight.device), to_meta.weight.requires_grad]
    try:
        to_meta.to("cpu")
        found.append("no error")
    except NotImplementedError as exc:
        found.append(str(exc)[:40])
    found.append(str(lib.get_default_device()))
    lib.set_default_device("meta")
    try:
        found += [str(lib.zeros(3).device), str(lib.get_default_device()),
                  str(nn.Linear(2, 2).weight.device)]
    finally:
        lib.set_default_device(None)  # (torch's "cpu" would leave its device mode installed)
    found.append(str(lib.zeros(3).device))
    w = lib.randn(3, 4, device="meta", requires_grad=True)
    (w * 2).sum().backward()
    found += [repr(w.grad), repr(w.grad.shape)]
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).to("meta")
    model(lib.randn(16, 4, device="meta")).sum().backward()
    found.append([repr(p.grad) for p in model.parameters()])
    return found


def _normalised(found):
    return [str(v).replace("torch.", "").replace("fastnn.", "") for v in found]


@pytest.mark.parametrize("case", [_shapes_through_networks, _tensor_ops])
def test_meta_shapes_and_printing(case):
    mine = _normalised(case(fastnn))
    if torch is not None:
        assert mine == _normalised(case(torch))


@pytest.mark.parametrize("lib", ["fastnn", "torch"])
def test_meta_modules_and_checkpoints(lib, tmp_path):
    if lib == "torch" and torch is None:
        pytest.skip("torch is not installed")
    mine = _normalised(_modules_and_checkpoints(fastnn, tmp_path))
    if lib == "torch":
        assert mine == _normalised(_modules_and_checkpoints(torch, tmp_path))


def test_meta_tensor_holds_no_data():
    huge = fastnn.empty(1 << 20, 1 << 20, device="meta")  # 4 TiB of float32 if it had data
    assert huge.is_meta and huge.shape == (1 << 20, 1 << 20)
    assert huge._data.base is not None and huge._data.strides == (0, 0)
    doubled = (huge * 2).t() @ huge
    assert doubled.is_meta and doubled.shape == (1 << 20, 1 << 20)


def test_meta_op_without_a_shape_rule_refuses_large_inputs_by_name():
    """An op with no shape rule runs on zeros of small meta inputs, and names itself instead
    of allocating for large ones."""
    small = fastnn.randn(4, 5, device="meta")
    assert small.cumsum(0).is_meta and small.cumsum(0).shape == (4, 5)
    large = fastnn.randn(1 << 12, 1 << 12, device="meta")
    assert large.cumsum(0).shape == large.shape  # (a NumPy function with a shape rule)
    with pytest.raises(NotImplementedError, match="sort has no shape rule for the meta"):
        large.sort(0)


def test_cpu_tensors_are_untouched_by_the_meta_device():
    """After meta tensors exist, the CPU path computes as before (Function.apply checks for
    meta inputs only once one has been made)."""
    fastnn.empty(2, device="meta")
    x = fastnn.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
    y = fastnn.nn.functional.relu(x @ x).sum()
    y.backward()
    assert not y.is_meta and y.item() == pytest.approx(np.maximum(
        np.array([[1.0, -2.0], [3.0, 4.0]]) @ np.array([[1.0, -2.0], [3.0, 4.0]]), 0).sum())
    assert x.grad.device.type == "cpu"
