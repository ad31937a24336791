"""Holding out data: random_split (torch.utils.data's name) and k-fold cross-validation."""
import numpy as np


class ArrayDataset:
    """images and labels held as arrays (what DataLoader batches from)."""

    def __init__(self, images, labels, classes=None):
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.images = images
        self.labels = labels
        self.classes = classes

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.images[i], self.labels[i]


def subset(dataset, indices):
    return ArrayDataset(dataset.images[indices], dataset.labels[indices],
                        getattr(dataset, "classes", None))


def random_split(dataset, lengths, seed=0):
    """Split into non-overlapping random subsets of the given lengths (or fractions summing to
    1, as torch.utils.data.random_split accepts)."""
    n = len(dataset)
    if all(isinstance(x, float) for x in lengths) and abs(sum(lengths) - 1) < 1e-9:
        counts = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    else:
        counts = [int(x) for x in lengths]
    if sum(counts) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = np.random.default_rng(seed).permutation(n)
    bounds = np.cumsum([0] + counts)
    return [subset(dataset, np.sort(order[a:b])) for a, b in zip(bounds[:-1], bounds[1:])]


def kfold(n_samples, k, seed=0):
    """Yield (train_indices, validation_indices) for k-fold cross-validation: a seeded
    permutation cut into k near-equal folds, each the validation set once."""
    if not 2 <= k <= n_samples:
        raise ValueError(f"k must be between 2 and the number of samples, got {k}")
    order = np.random.default_rng(seed).permutation(n_samples)
    folds = np.array_split(order, k)
    for i in range(k):
        train = np.concatenate([f for j, f in enumerate(folds) if j != i])
        yield np.sort(train), np.sort(folds[i])
