"""DataLoader: minibatches of (images, labels) Tensors, built with array slicing (no
per-sample Python loop). Images come as float32 in [0, 1], shaped (B, 1, 28, 28) as
torchvision's ToTensor gives them, or standardised as its Normalize(mean, std) then gives them."""
import math

import numpy as np

from fastnn import random
from fastnn.tensor import Tensor

_INV_255 = np.float32(1.0 / 255.0)


def to_float_images(images, normalize=None):
    """uint8 images (B, H, W) -> float32 (B, 1, H, W): scaled to [0, 1], then, when normalize
    is (mean, std), standardised to (x - mean) / std in the same pass over the batch."""
    x = images.astype(np.float32)
    if normalize is None:
        x *= _INV_255
    else:
        mean, std = normalize
        if not std > 0:
            raise ValueError(f"normalize: std must be positive, got {std}")
        x *= np.float32(1.0 / (255.0 * std))
        x -= np.float32(mean / std)
    return x.reshape(x.shape[0], 1, *x.shape[1:])


class DataLoader:
    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None,
                 augment=False, normalize=None, shard=None):
        if batch_size < 1:
            raise ValueError(f"batch_size should be a positive integer value, got {batch_size}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.augment = augment  # random flips and 2-pixel shifts (fastnn/data/augment.py)
        self.normalize = normalize  # None, or (mean, std) of the [0, 1]-scaled pixels
        # shard: a fastnn.distributed.sharding.Shard; each global batch (the same on every
        # rank) is cut and this rank gets its rows, so N ranks together see exactly the
        # batches one process sees. global_batch is the size of the batch last cut.
        self.shard = shard
        self.global_batch = 0
        self._epoch = 0

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self):
        n = len(self.dataset)
        if not self.shuffle:
            return None
        rng = (np.random.default_rng((self.seed, self._epoch)) if self.seed is not None
               else random.generator())
        return rng.permutation(n)

    def __iter__(self):
        images, labels = self.dataset.images, self.dataset.labels
        order = self._order()
        aug_rng = (np.random.default_rng((self.seed, self._epoch, 1)) if self.seed is not None
                   else random.generator())
        self._epoch += 1
        n = len(labels)
        for start in range(0, n, self.batch_size):
            stop = min(start + self.batch_size, n)
            if self.drop_last and stop - start < self.batch_size:
                break
            picked = slice(start, stop) if order is None else order[start:stop]
            batch, batch_labels = images[picked], labels[picked]
            if self.augment:  # drawn for the whole global batch, so shards match one process
                from fastnn.data.augment import flip_and_shift
                batch = flip_and_shift(batch, aug_rng)
            self.global_batch = stop - start
            if self.shard is not None:
                lo, hi = self.shard.rows(stop - start)
                batch, batch_labels = batch[lo:hi], batch_labels[lo:hi]
            x = to_float_images(batch, self.normalize)
            yield Tensor._wrap(x), Tensor._wrap(batch_labels)
