"""Fashion-MNIST files are verified before use; the loader batches them."""
import gzip
import struct

import numpy as np
import pytest

from fastnn.data import DataLoader, DatasetNotFoundError, FashionMNIST, IDXError, to_float_images
from fastnn.data import fashion_mnist, idx


def write_idx(path, array, magic, compress=True):
    raw = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    raw += array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return raw


@pytest.fixture(scope="module")
def train_set():
    try:
        return FashionMNIST(train=True, download=False)
    except DatasetNotFoundError:
        pytest.skip("Fashion-MNIST is not installed (make data)")


def test_real_dataset_loads_and_verifies(train_set):
    assert len(train_set) == 60000
    assert train_set.images.shape == (60000, 28, 28) and train_set.images.dtype == np.uint8
    assert train_set.labels.dtype == np.int64 and set(np.unique(train_set.labels)) == set(range(10))
    test = FashionMNIST(train=False, download=False)
    assert len(test) == 10000


def test_items_are_pil_images_without_a_transform_as_torchvision(train_set):
    """torchvision's item is (PIL image of mode "L", int): np.array(img) is the uint8 pixels
    and ToTensor() the [0, 1] floats (fastnn used to return the floats without a transform)."""
    from fastnn.data import transforms
    image, label = train_set[7]
    assert type(image).__module__.startswith("PIL.") and image.mode == "L"
    assert image.size == (28, 28) and isinstance(label, int)
    np.testing.assert_array_equal(np.array(image), train_set.images[7])
    tensor = transforms.ToTensor()(image)
    assert tuple(tensor.shape) == (1, 28, 28)
    np.testing.assert_array_equal(tensor.numpy()[0], train_set.images[7] / np.float32(255))


def test_normalization_constants_are_the_training_set_statistics(train_set):
    scaled = train_set.images.astype(np.float64) / 255
    assert abs(scaled.mean() - fashion_mnist.MEAN) < 5e-4
    assert abs(scaled.std() - fashion_mnist.STD) < 5e-4


def test_dataloader_normalize_standardises_each_batch(train_set):
    stats = (fashion_mnist.MEAN, fashion_mnist.STD)
    x, _ = next(iter(DataLoader(train_set, batch_size=512, normalize=stats)))
    expected = (train_set.images[:512, None] / 255 - stats[0]) / stats[1]
    np.testing.assert_allclose(x._data, expected, rtol=1e-5, atol=1e-5)
    # over the whole set the standardised pixels have mean 0 and std 1
    whole = to_float_images(train_set.images, stats)
    assert abs(whole.mean()) < 2e-3 and abs(whole.std() - 1) < 2e-3
    with pytest.raises(ValueError, match="std must be positive"):
        to_float_images(train_set.images[:2], (0.5, 0.0))


def test_idx_parse_checks_magic_dims_and_length(tmp_path):
    images = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
    raw = write_idx(tmp_path / "x.gz", images, idx.MAGIC_IMAGES)
    np.testing.assert_array_equal(idx.parse(raw, "x", idx.MAGIC_IMAGES, (28, 28)), images)
    with pytest.raises(IDXError, match="wrong magic number"):
        idx.parse(raw, "x", idx.MAGIC_LABELS)
    with pytest.raises(IDXError, match="truncated"):
        idx.parse(raw[:-5], "x", idx.MAGIC_IMAGES, (28, 28))
    with pytest.raises(IDXError, match="trailing data|truncated"):
        idx.parse(raw + b"\0", "x", idx.MAGIC_IMAGES, (28, 28))
    with pytest.raises(IDXError, match="dimensions"):
        idx.parse(raw, "x", idx.MAGIC_IMAGES, (32, 32))
    with pytest.raises(IDXError, match="too short"):
        idx.parse(b"\0\0", "x", idx.MAGIC_IMAGES)


def _fake_dataset_dir(tmp_path, corrupt=None):
    """A directory holding small, well-formed files under the real names."""
    for key, (stem, magic, tail, count, _) in fashion_mnist.FILES.items():
        shape = (5,) + tuple(tail)
        path = tmp_path / (stem + ".gz")
        write_idx(path, np.zeros(shape), magic)
        if corrupt == key:
            data = gzip.decompress(path.read_bytes())
            path.write_bytes(gzip.compress(data[:-3]))
        if corrupt == key + "-magic":
            data = gzip.decompress(path.read_bytes())
            path.write_bytes(gzip.compress(b"\x00\x00\x08\x99" + data[4:]))
        if corrupt == key + "-gzip":
            path.write_bytes(path.read_bytes()[:20])
    return tmp_path


def test_truncated_file_raises(tmp_path):
    root = _fake_dataset_dir(tmp_path, corrupt="train-images")
    with pytest.raises(IDXError, match="truncated"):
        FashionMNIST(root, train=True, download=False)


def test_wrong_magic_raises(tmp_path):
    root = _fake_dataset_dir(tmp_path, corrupt="train-images-magic")
    with pytest.raises(IDXError, match="wrong magic number"):
        FashionMNIST(root, train=True, download=False)


def test_damaged_gzip_raises(tmp_path):
    root = _fake_dataset_dir(tmp_path, corrupt="test-images-gzip")
    with pytest.raises(IDXError, match="damaged or truncated"):
        FashionMNIST(root, train=False, download=False)


def test_well_formed_but_wrong_data_fails_the_checksum(tmp_path, monkeypatch):
    root = _fake_dataset_dir(tmp_path)
    # the item count check comes first; make the count right so the checksum is what fails
    monkeypatch.setitem(fashion_mnist.FILES, "test-labels",
                        fashion_mnist.FILES["test-labels"][:3] + (5,) +
                        fashion_mnist.FILES["test-labels"][4:])
    with pytest.raises(IDXError, match="SHA-256"):
        fashion_mnist.load_file("test-labels", root, download=False)


def test_missing_files_name_every_way_to_get_them(tmp_path, monkeypatch):
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", str(tmp_path / "none"))
    monkeypatch.setattr(fashion_mnist, "cache_dir", lambda spec=None: tmp_path / "cache")
    monkeypatch.delenv("FASTNN_DATA", raising=False)
    with pytest.raises(DatasetNotFoundError) as info:
        FashionMNIST(tmp_path / "empty", download=False)
    text = str(info.value)
    assert "apt-get install -y dataset-fashion-mnist" in text
    assert "FASTNN_DATA" in text and fashion_mnist.MIRROR in text


def test_dataloader_batches(train_set):
    loader = DataLoader(train_set, batch_size=256, shuffle=True, seed=3)
    assert len(loader) == 235
    batches = list(loader)
    x, y = batches[0]
    assert x.shape == (256, 1, 28, 28) and x.dtype == np.float32
    assert 0.0 <= x._data.min() and x._data.max() <= 1.0
    assert y.shape == (256,) and y.dtype == np.int64
    assert batches[-1][0].shape[0] == 60000 - 234 * 256
    assert len(DataLoader(train_set, batch_size=256, drop_last=True)) == 234
    # the same seed gives the same order; a new epoch gives a new one
    again = DataLoader(train_set, batch_size=256, shuffle=True, seed=3)
    np.testing.assert_array_equal(next(iter(again))[1]._data, y._data)
    np.testing.assert_raises(AssertionError, np.testing.assert_array_equal,
                             next(iter(loader))[1]._data, y._data)


def _write_idx(path, magic, array):
    import gzip
    import struct
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", n) for n in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_mnist_reads_torchvisions_layout_with_transforms(tmp_path):
    """MNIST has the same format and checks (without a pinned digest); a synthetic copy in
    torchvision's ROOT/MNIST/raw layout loads, and items come as torchvision's."""
    from fastnn.data import datasets, idx, transforms
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 60000), ("t10k", 10000)):
        _write_idx(raw / f"{split}-images-idx3-ubyte.gz", idx.MAGIC_IMAGES,
                   rng.integers(0, 256, (n, 28, 28)))
        _write_idx(raw / f"{split}-labels-idx1-ubyte.gz", idx.MAGIC_LABELS,
                   rng.integers(0, 10, n))
    test = datasets.MNIST(tmp_path, train=False, download=False,
                          transform=transforms.Compose([transforms.ToTensor(),
                                                        transforms.Normalize((0.1307,),
                                                                             (0.3081,))]))
    image, label = test[3]
    assert len(test) == 10000 and tuple(image.shape) == (1, 28, 28) and isinstance(label, int)
    expected = (test.images[3] / np.float32(255) - np.float32(0.1307)) / np.float32(0.3081)
    np.testing.assert_allclose(image.numpy()[0], expected, rtol=1e-6)
    _write_idx(raw / "t10k-labels-idx1-ubyte.gz", idx.MAGIC_LABELS, rng.integers(0, 10, 9999))
    with pytest.raises(idx.IDXError, match="9999 items, expected 10000"):
        datasets.MNIST(tmp_path, train=False, download=False)
