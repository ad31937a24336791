"""torchvision's CIFAR10 and CIFAR100: the Python-pickle batches in
root/cifar-10-batches-py (or root/cifar-100-python), downloaded with download=True from the
Toronto site. As torchvision, every file's MD5 is checked against the published one before it
is read ("Dataset not found or corrupted." otherwise); then the batches are unpickled with
only NumPy's array-rebuilding functions allowed, and their shapes and labels are checked.
Images are (N, 32, 32, 3) uint8 in .data, labels a list in .targets, and an item is a PIL
image (through `transform`) and an int."""
import hashlib
import os
import pickle
import tarfile
import urllib.request

import numpy as np

# pickles written by NumPy 1.x name numpy.core; NumPy 2 keeps the functions in numpy._core
_ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"), ("numpy", "dtype"),
            ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
            ("_codecs", "encode")}  # how Python 3 writes bytes at pickle protocol 2


class _ArraysOnly(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"CIFAR batch refers to {module}.{name}, which a CIFAR "
                                         "batch does not contain")
        if module == "_codecs":
            import codecs
            return codecs.encode
        if name in ("ndarray", "dtype"):
            return getattr(np, name)
        return getattr(np._core.multiarray, name)


def _md5(path, chunk=1 << 20):
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _download(url, path, md5):
    """url into path through a .part file, with a progress bar; the MD5 checked."""
    from tqdm.auto import tqdm
    part = path + ".part"
    with urllib.request.urlopen(url, timeout=30) as response, open(part, "wb") as f:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=os.path.basename(path)) as bar:
            while block := response.read(1 << 20):
                f.write(block)
                bar.update(len(block))
    if _md5(part) != md5:
        os.remove(part)
        raise RuntimeError(f"{url}: the download's MD5 is not the published {md5}")
    os.replace(part, path)


class CIFAR10:
    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [["data_batch_1", "c99cafc152244af753f735de768cd75f"],
                  ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
                  ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
                  ["data_batch_4", "634d18415352ddfa80567beed471001a"],
                  ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"]]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names",
            "md5": "5ff9c542aee3614f3951f8cda6e48888"}
    label_key = "labels"
    num_classes = 10

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        self.root = os.path.expanduser(os.fspath(root))
        self.train, self.transform, self.target_transform = train, transform, target_transform
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to "
                               "download it")
        images, self.targets = [], []
        for name, _ in self.train_list if train else self.test_list:
            entry = self._unpickle(name)
            data = np.asarray(entry.get("data"))
            labels = entry.get(self.label_key, entry.get("labels"))
            if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or \
                    labels is None or len(labels) != data.shape[0]:
                raise RuntimeError(f"{name}: not a CIFAR batch (data {data.shape} {data.dtype}, "
                                   f"{'no' if labels is None else len(labels)} labels)")
            if not all(0 <= int(y) < self.num_classes for y in labels):
                raise RuntimeError(f"{name}: labels outside 0..{self.num_classes - 1}")
            images.append(data)
            self.targets.extend(int(y) for y in labels)
        self.data = np.vstack(images).reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1))
        self._load_meta()

    def _unpickle(self, name):
        with open(os.path.join(self.root, self.base_folder, name), "rb") as f:
            return _ArraysOnly(f, encoding="latin1").load()

    def _load_meta(self):
        path = os.path.join(self.root, self.base_folder, self.meta["filename"])
        if not os.path.isfile(path) or _md5(path) != self.meta["md5"]:
            raise RuntimeError("Dataset metadata file not found or corrupted. You can use "
                               "download=True to download it")
        self.classes = list(self._unpickle(self.meta["filename"])[self.meta["key"]])
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def _check_integrity(self):
        for name, md5 in self.train_list + self.test_list:
            path = os.path.join(self.root, self.base_folder, name)
            if not os.path.isfile(path) or _md5(path) != md5:
                return False
        return True

    def download(self):
        if self._check_integrity():
            return
        os.makedirs(self.root, exist_ok=True)
        archive = os.path.join(self.root, self.filename)
        if not (os.path.isfile(archive) and _md5(archive) == self.tgz_md5):
            _download(self.url, archive, self.tgz_md5)
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(self.root, filter="data")  # no paths outside root, no devices

    def __getitem__(self, index):
        from PIL import Image
        img, target = Image.fromarray(self.data[index]), self.targets[index]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        from fastnn.data.fashion_mnist import split_repr
        return split_repr(self)


class CIFAR100(CIFAR10):
    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {"filename": "meta", "key": "fine_label_names",
            "md5": "7973b15100ade9c7d40fb424638fde48"}
    label_key = "fine_labels"
    num_classes = 100
