"""datasets.CIFAR10 / CIFAR100 (fastnn/data/cifar.py) on batches written here in the
published layout (the real files cannot be fetched offline): the subclasses below swap in
these files' MD5s, so the same checks run. Items, .data/.targets/.classes, the MD5 and shape
checks, the unpickler's refusal of anything but arrays, and download=True from a file URL."""
import hashlib
import os
import pickle
import tarfile

import numpy as np
import pytest

from fastnn.data import datasets, transforms


def _md5(path):
    return hashlib.md5(open(path, "rb").read(), usedforsecurity=False).hexdigest()


def _write_batches(folder, names, per_batch=7, label_key="labels", classes=10, seed=0):
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    written = {}
    for name in names:
        entry = {"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                 label_key: rng.integers(0, classes, per_batch).tolist(),
                 "batch_label": name}
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump(entry, f, protocol=2)
        written[name] = entry
    return written


def _fake_cifar10(root):
    base = os.path.join(root, "cifar-10-batches-py")
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    written = _write_batches(base, names)
    with open(os.path.join(base, "batches.meta"), "wb") as f:
        pickle.dump({"label_names": [f"class{i}" for i in range(10)]}, f, protocol=2)

    class Local(datasets.CIFAR10):
        train_list = [[n, _md5(os.path.join(base, n))] for n in names[:5]]
        test_list = [["test_batch", _md5(os.path.join(base, "test_batch"))]]
        meta = dict(datasets.CIFAR10.meta, md5=_md5(os.path.join(base, "batches.meta")))

    return Local, written


def test_reads_the_batches_as_torchvision_lays_them_out(tmp_path):
    Local, written = _fake_cifar10(str(tmp_path))
    train = Local(tmp_path, train=True)
    test = Local(tmp_path, train=False, transform=transforms.ToTensor(),
                 target_transform=lambda y: y + 100)
    assert len(train) == 35 and len(test) == 7
    assert train.data.shape == (35, 32, 32, 3) and train.data.dtype == np.uint8
    first = written["data_batch_1"]
    np.testing.assert_array_equal(train.data[0], first["data"][0].reshape(3, 32, 32)
                                  .transpose(1, 2, 0))
    assert train.targets[:7] == first["labels"]
    assert train.classes[3] == "class3" and train.class_to_idx["class9"] == 9
    img, label = train[2]
    assert type(img).__name__ == "Image" and img.size == (32, 32) and img.mode == "RGB"
    assert label == first["labels"][2]
    x, y = test[0]
    assert tuple(x.shape) == (3, 32, 32) and y == written["test_batch"]["labels"][0] + 100
    np.testing.assert_allclose(x.numpy(), written["test_batch"]["data"][0].reshape(3, 32, 32)
                               / 255, atol=1e-7)
    assert "Split: Test" in repr(test)


def test_missing_or_altered_files_are_refused(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted. You can use "
                                           "download=True to download it"):
        datasets.CIFAR10(tmp_path / "none")
    Local, _ = _fake_cifar10(str(tmp_path))
    path = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    raw = bytearray(path.read_bytes())
    raw[-40] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        Local(tmp_path)


def test_the_unpickler_takes_arrays_only(tmp_path):
    Local, _ = _fake_cifar10(str(tmp_path))
    path = tmp_path / "cifar-10-batches-py" / "test_batch"

    class Hostile:
        def __reduce__(self):
            return (os.system, ("echo owned > " + str(tmp_path / "owned"),))

    path.write_bytes(pickle.dumps({"data": Hostile(), "labels": [0]}, protocol=2))

    class Matching(Local):
        test_list = [["test_batch", _md5(path)]]

    with pytest.raises(pickle.UnpicklingError, match="posix.system|os.system"):
        Matching(tmp_path, train=False)
    assert not (tmp_path / "owned").exists()


def test_batches_of_the_wrong_shape_or_labels_are_refused(tmp_path):
    Local, _ = _fake_cifar10(str(tmp_path))
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    for entry, message in (({"data": np.zeros((2, 100), np.uint8), "labels": [0, 1]},
                            "not a CIFAR batch"),
                           ({"data": np.zeros((2, 3072), np.uint8), "labels": [0, 10]},
                            "labels outside 0..9")):
        path.write_bytes(pickle.dumps(entry, protocol=2))

        class Matching(Local):
            test_list = [["test_batch", _md5(path)]]

        with pytest.raises(RuntimeError, match=message):
            Matching(tmp_path, train=False)


def test_cifar100_fine_labels(tmp_path):
    base = tmp_path / "cifar-100-python"
    written = _write_batches(str(base), ["train", "test"], label_key="fine_labels",
                             classes=100)
    with open(base / "meta", "wb") as f:
        pickle.dump({"fine_label_names": [f"c{i}" for i in range(100)]}, f, protocol=2)

    class Local(datasets.CIFAR100):
        train_list = [["train", _md5(base / "train")]]
        test_list = [["test", _md5(base / "test")]]
        meta = dict(datasets.CIFAR100.meta, md5=_md5(base / "meta"))

    data = Local(tmp_path)
    assert data.targets == written["train"]["fine_labels"] and len(data.classes) == 100


def test_download_fetches_checks_and_extracts_the_archive(tmp_path):
    source = tmp_path / "source"
    Local, written = _fake_cifar10(str(source))
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source / "cifar-10-batches-py", arcname="cifar-10-batches-py")

    class Remote(Local):
        url = archive.as_uri()
        tgz_md5 = _md5(archive)

    root = tmp_path / "root"
    data = Remote(root, download=True)
    assert len(data) == 35 and data.targets[:7] == written["data_batch_1"]["labels"]

    class Tampered(Remote):
        tgz_md5 = "0" * 32

    with pytest.raises(RuntimeError, match="MD5"):
        Tampered(tmp_path / "other", download=True)
    assert not (tmp_path / "other" / "cifar-10-python.tar.gz").exists()
