"""fastnn.hub (torch.hub's load_state_dict_from_url in torch's cache folder) and torchvision's
weight enums on the resnet builders. Downloads come from file:// URLs written here (no network
in tests); the weight files are written by torch.save when torch is installed, so the reader
meets torch's format, as with download.pytorch.org's files."""
import hashlib
import os
import warnings

import numpy as np
import pytest

import fastnn
from fastnn.data import models

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional test peer
    torch = None


@pytest.fixture
def hub_dir(tmp_path):
    previous = fastnn.hub._hub_dir
    fastnn.hub.set_dir(tmp_path / "hub")
    yield tmp_path / "hub"
    fastnn.hub._hub_dir = previous


def _save(state, path):
    if torch is not None:  # torch's own writer, as the published files
        torch.save({k: torch.from_numpy(v.numpy().copy()) for k, v in state.items()}, path)
    else:
        fastnn.save(state, path)


def _named_by_hash(tmp_path, stem, state):
    raw = tmp_path / "raw.pth"
    _save(state, raw)
    digest = hashlib.sha256(raw.read_bytes()).hexdigest()
    path = tmp_path / f"{stem}-{digest[:8]}.pth"
    os.replace(raw, path)
    return path, digest


def test_get_dir_follows_torch_home(monkeypatch):
    previous = fastnn.hub._hub_dir
    fastnn.hub._hub_dir = None
    try:
        monkeypatch.setenv("TORCH_HOME", "/some/where")
        assert fastnn.hub.get_dir() == "/some/where/hub"
        monkeypatch.delenv("TORCH_HOME")
        monkeypatch.setenv("XDG_CACHE_HOME", "/cache")
        assert fastnn.hub.get_dir() == "/cache/torch/hub"
    finally:
        fastnn.hub._hub_dir = previous


def test_download_once_then_read_the_cache(tmp_path, hub_dir, capsys):
    state = {"w": fastnn.arange(6.0).reshape(2, 3), "b": fastnn.ones(3)}
    path, _ = _named_by_hash(tmp_path, "tiny", state)
    loaded = fastnn.hub.load_state_dict_from_url(path.as_uri(), check_hash=True,
                                                 progress=False)
    assert 'Downloading: "file://' in capsys.readouterr().err
    cached = hub_dir / "checkpoints" / path.name
    assert cached.is_file()
    np.testing.assert_array_equal(loaded["w"].numpy(), state["w"].numpy())
    os.remove(path)  # the second call reads the cache
    again = fastnn.hub.load_state_dict_from_url(path.as_uri(), check_hash=True)
    np.testing.assert_array_equal(again["b"].numpy(), np.ones(3, np.float32))
    assert capsys.readouterr().err == ""


def test_hash_prefix_is_checked_on_download_and_in_the_cache(tmp_path, hub_dir):
    path, digest = _named_by_hash(tmp_path, "tiny", {"w": fastnn.zeros(4)})
    wrong = tmp_path / "tiny-00000000.pth"
    wrong.write_bytes(path.read_bytes())
    with pytest.raises(RuntimeError, match=f'invalid hash value \\(expected "00000000", got '
                                           f'"{digest}"\\)'):
        fastnn.hub.load_state_dict_from_url(wrong.as_uri(), check_hash=True, progress=False)
    assert not (hub_dir / "checkpoints" / wrong.name).exists()
    assert not (hub_dir / "checkpoints" / (wrong.name + ".partial")).exists()
    fastnn.hub.load_state_dict_from_url(path.as_uri(), check_hash=True, progress=False)
    cached = hub_dir / "checkpoints" / path.name
    cached.write_bytes(cached.read_bytes()[:-10])  # truncated in the cache
    with pytest.raises(RuntimeError, match="invalid hash value"):
        fastnn.hub.load_state_dict_from_url(path.as_uri(), check_hash=True)


def test_resnet_weights_enum_loads_through_the_hub(tmp_path, hub_dir):
    fastnn.manual_seed(7)
    source = models.resnet18()
    path, _ = _named_by_hash(tmp_path, "resnet18", source.state_dict())
    weights = models.ResNet18_Weights.IMAGENET1K_V1
    published = weights.value.url
    weights.value.url = path.as_uri()
    try:
        for given in (weights, "IMAGENET1K_V1", "ResNet18_Weights.DEFAULT"):
            fastnn.manual_seed(0)
            model = models.resnet18(weights=given, progress=False)
            for (name, ours), theirs in zip(model.state_dict().items(),
                                            source.state_dict().values()):
                np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=name)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            models.resnet18(pretrained=True, progress=False)
        assert [str(w.message)[:40] for w in caught] == [
            "The parameter 'pretrained' is deprecated", "Arguments other than a weight enum or `N"]
    finally:
        weights.value.url = published
    assert published == "https://download.pytorch.org/models/resnet18-f37072fd.pth"
    with pytest.raises(ValueError, match="The parameter 'num_classes' expected value 1000 but "
                                         "got 10 instead."):
        models.resnet18(weights="DEFAULT", num_classes=10)
    with pytest.raises(KeyError):
        models.resnet18(weights="IMAGENET1K_V9")
    with pytest.raises(TypeError, match="expected ResNet18_Weights but received "
                                        "ResNet50_Weights"):
        models.resnet18(weights=models.ResNet50_Weights.DEFAULT)


def test_weights_transforms_preset():
    from PIL import Image
    preset = models.ResNet50_Weights.IMAGENET1K_V2.transforms()
    assert preset.resize_size == [232] and preset.crop_size == [224]
    img = Image.fromarray(np.full((300, 400, 3), 255, np.uint8))
    out = preset(img)
    assert tuple(out.shape) == (3, 224, 224)
    expected = (1 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(out.numpy()[:, 100, 100], expected, rtol=1e-5)
    batch = preset(fastnn.ones(2, 3, 256, 300))
    assert tuple(batch.shape) == (2, 3, 224, 224)
