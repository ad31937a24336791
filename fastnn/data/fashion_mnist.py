"""Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 60,000 train / 10,000 test 28x28 images.

Where the files are looked for, in order: `root`, $FASTNN_DATA, ~/.cache/fastnn/fashion-mnist,
/usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist package), and finally a
download from the dataset's official mirror into the cache. Each file is verified (magic,
dimensions, length and the SHA-256 of the decompressed bytes) before it is used.
"""
import os
import urllib.request
from pathlib import Path

import numpy as np

from fastnn.data import idx

CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
           "Sneaker", "Bag", "Ankle boot")

# Per-pixel mean and standard deviation of the 60,000 training images scaled to [0, 1] (what
# torchvision recipes pass to transforms.Normalize; tests/test_data.py recomputes them).
MEAN, STD = 0.2860, 0.3530
MIRROR = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"

# SHA-256 of the *decompressed* files: Debian recompresses the .gz files, so the compressed
# bytes differ from the mirror's while the data is identical.
FILES = {
    "train-images": ("train-images-idx3-ubyte", idx.MAGIC_IMAGES, (28, 28), 60000,
                     "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    "train-labels": ("train-labels-idx1-ubyte", idx.MAGIC_LABELS, (), 60000,
                     "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    "test-images": ("t10k-images-idx3-ubyte", idx.MAGIC_IMAGES, (28, 28), 10000,
                    "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    "test-labels": ("t10k-labels-idx1-ubyte", idx.MAGIC_LABELS, (), 10000,
                    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
}


class DatasetNotFoundError(FileNotFoundError):
    pass


class Spec:
    """Where one IDX data set's files live and what they must be: torchvision's folder name
    under a root, the cache folder, Debian's folder, the download mirror and FILES' table."""

    def __init__(self, name, files, cache, debian, mirror):
        self.name, self.files, self.cache, self.debian, self.mirror = (name, files, cache,
                                                                       debian, mirror)


FASHION = Spec("FashionMNIST", FILES, "fashion-mnist", DEBIAN_DIR, MIRROR)


def cache_dir(spec=FASHION):
    return Path(os.path.expanduser(f"~/.cache/fastnn/{spec.cache}"))


def search_dirs(root=None, spec=FASHION):
    dirs = []
    if root is not None:  # the files themselves, or torchvision's ROOT/<Name>/raw layout
        dirs += [Path(root), Path(root) / spec.name / "raw"]
    if os.environ.get("FASTNN_DATA"):
        dirs.append(Path(os.environ["FASTNN_DATA"]))
    dirs.append(cache_dir(spec))
    debian = DEBIAN_DIR if spec is FASHION else spec.debian  # the module's, read at call time
    if debian:
        dirs.append(Path(debian))
    return dirs


def _find(stem, dirs):
    for d in dirs:
        for name in (stem + ".gz", stem):
            if (d / name).is_file():
                return d / name
    return None


def _download(stem, spec=FASHION, timeout=30):
    target = cache_dir(spec) / (stem + ".gz")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".gz.part")
    with urllib.request.urlopen(spec.mirror + stem + ".gz", timeout=timeout) as response, \
            open(tmp, "wb") as f:
        while chunk := response.read(1 << 20):
            f.write(chunk)
    os.replace(tmp, target)
    return target


def _not_found_message(stem, dirs, download_error, spec=FASHION):
    if spec is not FASHION:
        looked = "\n".join(f"  - {d}" for d in dirs)
        return (f"{spec.name} file {stem}(.gz) not found. Looked in:\n{looked}\nand "
                f"downloading from {spec.mirror} failed ({download_error}). Put the four .gz "
                f"files in {cache_dir(spec)}, or pass root=DIR or set FASTNN_DATA=DIR")
    looked = "\n".join(f"  - {d}" for d in dirs)
    return (
        f"Fashion-MNIST file {stem}(.gz) not found. Looked in:\n{looked}\n"
        f"and downloading from {MIRROR} failed ({download_error}).\n"
        "Ways to get the files:\n"
        "  - Debian/Ubuntu: apt-get install -y dataset-fashion-mnist "
        f"(installs them in {DEBIAN_DIR})\n"
        f"  - download the four .gz files from {MIRROR} into {cache_dir()}\n"
        "  - put them in a directory and pass root=DIR or set FASTNN_DATA=DIR"
    )


def load_file(key, root=None, download=True, spec=FASHION):
    """The verified array for one of the spec's file keys (magic, dimensions, count, and the
    SHA-256 of the decompressed bytes where the spec knows it)."""
    stem, magic, tail, count, digest = spec.files[key]
    dirs = search_dirs(root, spec)
    path = _find(stem, dirs)
    if path is None:
        if not download:
            raise DatasetNotFoundError(_not_found_message(stem, dirs, "download disabled", spec))
        try:
            path = _download(stem, spec)
        except OSError as exc:
            raise DatasetNotFoundError(_not_found_message(stem, dirs, exc, spec)) from None
    raw = idx.read_bytes(path)
    array = idx.parse(raw, path, magic, tail)
    if array.shape[0] != count:
        raise idx.IDXError(f"{path}: {array.shape[0]} items, expected {count}")
    if digest is not None:
        found = idx.sha256(raw)
        if found != digest:
            raise idx.IDXError(f"{path}: SHA-256 of the decompressed data is {found}, expected "
                               f"{digest}; the file is altered or not {spec.name}")
    return array


class FashionMNIST:
    """The images (N, 28, 28) uint8 and labels (N,) int64 of the train or test split.

    Items are (image, label) as torchvision's: the image is a PIL image of mode "L" (8-bit
    grayscale), passed through the transform when there is one (ToTensor makes the float
    tensor (1, 28, 28) in [0, 1]), and the label an int, through target_transform. fastnn's
    own DataLoader (fastnn.data.DataLoader) slices .images and .labels in whole batches and
    does not go through __getitem__."""

    classes = CLASSES
    spec = FASHION

    def __init__(self, root=None, train=True, transform=None, target_transform=None,
                 download=True):
        split = "train" if train else "test"
        self.root, self.train = root, train
        self.transform, self.target_transform = transform, target_transform
        self.images = self._load(f"{split}-images", root, download)
        self.labels = self._load(f"{split}-labels", root, download).astype(np.int64)
        if len(self.images) != len(self.labels):
            raise idx.IDXError(f"{len(self.images)} images but {len(self.labels)} labels")

    def _load(self, key, root, download):
        return load_file(key, root, download, self.spec)

    # torchvision's names for the arrays: programs subset or regroup a data set through them
    # (pytorch/examples siamese_network reads .data and .targets); the tensors share memory
    # with .images and .labels, and assigning one replaces what items are made from
    @property
    def data(self):
        from fastnn.tensor import Tensor
        return Tensor._wrap(self.images)

    @data.setter
    def data(self, value):
        self.images = _uint8_images(value)

    @property
    def targets(self):
        from fastnn.tensor import Tensor
        return Tensor._wrap(self.labels)

    @targets.setter
    def targets(self, value):
        labels = np.asarray(getattr(value, "_data", value))
        if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"targets must be a 1-D integer tensor, got shape {labels.shape} "
                             f"and dtype {labels.dtype}")
        self.labels = labels.astype(np.int64)

    @property
    def class_to_idx(self):
        return {name: i for i, name in enumerate(self.classes)}

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        from PIL import Image
        image, label = Image.fromarray(self.images[i]), int(self.labels[i])  # mode "L"
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def __repr__(self):
        return split_repr(self)


def _uint8_images(value):
    images = np.asarray(getattr(value, "_data", value))
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError("data must be a uint8 tensor of images (N, H, W), got shape "
                         f"{images.shape} and dtype {images.dtype}")
    return images


# MNIST (LeCun et al. 1998): the same IDX layout. No SHA-256 is pinned for it: none could be
# verified on the machines fastnn is built on (they carry Fashion-MNIST only), so its files get
# the format checks (magic, dimensions, counts) and not a digest.
MNIST_FILES = {key: value[:4] + (None,) for key, value in FILES.items()}
MNIST_SPEC = Spec("MNIST", MNIST_FILES, "mnist", None,
                  "https://ossci-datasets.s3.amazonaws.com/mnist/")


class MNIST(FashionMNIST):
    """Handwritten digits 0-9, as torchvision.datasets.MNIST (ROOT/MNIST/raw or the files in
    ROOT, $FASTNN_DATA, ~/.cache/fastnn/mnist)."""

    classes = ("0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine")
    spec = MNIST_SPEC


def split_repr(dataset):
    """torchvision's VisionDataset repr for a data set with a train/test split."""
    lines = [f"Dataset {type(dataset).__name__}", f"    Number of datapoints: {len(dataset)}",
             f"    Root location: {dataset.root}",
             f"    Split: {'Train' if dataset.train else 'Test'}"]
    if dataset.transform is not None:
        lines.append(f"    StandardTransform\nTransform: {dataset.transform!r}")
    return "\n".join(lines)
