"""torch.utils.data over any map-style or iterable dataset: Dataset, TensorDataset, Subset,
ConcatDataset, IterableDataset, random_split, the samplers, and a DataLoader that collates
samples with torch's default_collate rules (tensors stacked, numbers to tensors, tuples and
dicts collated field by field).

fastnn's own Fashion-MNIST loader (fastnn.data.DataLoader) slices whole batches out of the
arrays without a per-sample Python loop and stays what `fastnn train` uses; this one is for
programs written against torch.utils.data.
"""
import bisect
import itertools
import math

import numpy as np

from fastnn import random, torch_stream
from fastnn.tensor import Tensor


class Dataset:
    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")


class TensorDataset(Dataset):
    """Samples are the i-th rows of each tensor (all of the same first dimension)."""

    def __init__(self, *tensors):
        if any(t.shape[0] != tensors[0].shape[0] for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = list(indices)

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


def random_split(dataset, lengths, generator=None):
    """Split into non-overlapping Subsets of the given lengths (or fractions summing to 1)."""
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = random.rng(generator).randperm_values(n).tolist()  # torch's randperm
    out, offset = [], 0
    for length in lengths:
        out.append(Subset(dataset, order[offset:offset + length]))
        offset += length
    return out


class Sampler:
    def __init__(self, data_source=None):
        pass


class SequentialSampler(Sampler):
    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        """torch's draws: without a generator, a fresh one seeded by a 64-bit draw from the
        default one; then randperm(n) per pass (randint in runs of 32 with replacement), so a
        seed shuffles as torch shuffles. A generator, so the draws come when the first index
        is asked for, as torch's."""
        n = len(self.data_source)
        if self.generator is None:
            rng = torch_stream.seeded(random.rng().random_int64())
        else:
            rng = random.rng(self.generator)
        if self.replacement:
            for count in [32] * (self.num_samples // 32) + [self.num_samples % 32]:
                yield from rng.randint_values(0, n, (count,)).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from rng.randperm_values(n).tolist()
        yield from rng.randperm_values(n).tolist()[:self.num_samples % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    def __init__(self, indices, generator=None):
        self.indices = list(indices)
        self.generator = generator

    def __iter__(self):
        for i in random.rng(self.generator).randperm_values(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    def __init__(self, weights, num_samples, replacement=True, generator=None):
        w = np.asarray(weights._data if isinstance(weights, Tensor) else weights, np.float64)
        if w.ndim != 1 or (w < 0).any() or w.sum() <= 0:
            raise ValueError("weights should be a 1-D sequence of non-negative numbers with a "
                             "positive sum")
        self.weights, self.num_samples = w, int(num_samples)
        self.replacement, self.generator = replacement, generator

    def __iter__(self):
        p = self.weights / self.weights.sum()
        picked = random.rng(self.generator).choice(len(p), self.num_samples,
                                                   replace=self.replacement, p=p)
        return iter(picked.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError("batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)


class DistributedSampler(Sampler):
    """Each rank's share of the dataset, as torch's: the (per-epoch shuffled) indices padded by
    repetition to a multiple of num_replicas (or cut, with drop_last), then every
    num_replicas-th from `rank`. Call set_epoch(epoch) before each epoch for a new order."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            from fastnn import distributed as dist
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, seed, drop_last, 0
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng(self.seed + self.epoch).permutation(n).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        self.epoch = epoch


class ChainDataset(IterableDataset):
    """Iterable datasets one after another."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)


class StackDataset(Dataset):
    """Datasets of equal length side by side: item i is the tuple (or, given by keyword, the
    dict) of their items i."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                             "``kwargs``) like input/output, but both types are given.")
        parts = list(args) or list(kwargs.values())
        lengths = {len(d) for d in parts}
        if len(lengths) != 1:
            raise ValueError("Size mismatch between datasets")
        self._length = lengths.pop()
        self.datasets = args if args else kwargs

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self):
        return self._length


def get_worker_info():
    """None: fastnn's DataLoader loads in the calling process (num_workers runs inline), as
    torch's get_worker_info() returns in the main process."""
    return None


def default_convert(data):
    """NumPy arrays (not of strings or objects) to tensors, inside lists, tuples and dicts;
    everything else as it is (DataLoader's conversion without batching)."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "USO":
        return _from_numpy(data)
    if isinstance(data, np.number):
        return _from_numpy(np.asarray(data))
    if isinstance(data, dict):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(v) for v in data))
    if isinstance(data, list):
        return [default_convert(v) for v in data]
    if isinstance(data, tuple):
        return tuple(default_convert(v) for v in data)
    return data


def _from_numpy(array):
    from fastnn.creation import from_numpy
    return from_numpy(np.ascontiguousarray(array))


def default_collate(batch):
    """torch's rules: tensors are stacked, NumPy arrays and numbers become tensors, tuples,
    lists and dicts are collated element by element, strings are left as the batch holds
    them (a list at the top, the tuple zip makes inside a sample, as torch)."""
    from fastnn.ops.shape import stack
    first = batch[0]
    if isinstance(first, Tensor):
        return stack(batch, 0)
    if isinstance(first, np.ndarray):
        return Tensor._wrap(np.stack(batch))
    if isinstance(first, (bool, np.bool_)):
        return Tensor._wrap(np.asarray(batch, dtype=np.bool_))
    if isinstance(first, (int, np.integer)):
        return Tensor._wrap(np.asarray(batch, dtype=np.int64))
    if isinstance(first, (float, np.floating)):
        return Tensor._wrap(np.asarray(batch, dtype=np.float64))
    if isinstance(first, (str, bytes)):
        return batch
    if isinstance(first, dict):
        return {key: default_collate([b[key] for b in batch]) for key in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(first, (tuple, list)):
        if any(len(b) != len(first) for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(s) for s in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(first)}")


class DataLoader:
    """torch.utils.data.DataLoader (in-process: num_workers is accepted and runs inline)."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False,
                 timeout=0, worker_init_fn=None, generator=None, prefetch_factor=None,
                 persistent_workers=False, **kwargs):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.num_workers = num_workers
        self.generator = generator
        iterable = isinstance(dataset, IterableDataset)
        if iterable and (shuffle or sampler is not None or batch_sampler is not None):
            raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle, "
                             "sampler and batch_sampler options")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None
                                          or drop_last):
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                             "shuffle, sampler, and drop_last")
        if not iterable and sampler is None:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        self.sampler = sampler
        if batch_sampler is None and batch_size is not None and not iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn or (default_collate if batch_size is not None or
                                         batch_sampler is not None else (lambda x: x))
        self.pin_memory = pin_memory

    def __iter__(self):
        if self.pin_memory:  # torch's warning when there is no device to pin memory for
            import warnings
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", UserWarning, stacklevel=2)
        # torch's iterator draws its workers' base seed here, so the stream after an epoch is
        # torch's (the samplers draw later, at the first batch)
        random.rng(getattr(self, "generator", None)).random_int64()
        return self._batches()

    def _batches(self):
        if isinstance(self.dataset, IterableDataset):
            yield from self._iterable()
            return
        if self.batch_sampler is None:
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
            return
        for indices in self.batch_sampler:
            yield self.collate_fn([self.dataset[i] for i in indices])

    def _iterable(self):
        if self.batch_size is None:
            for item in self.dataset:
                yield self.collate_fn(item)
            return
        batch = []
        for item in self.dataset:
            batch.append(item)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            raise TypeError("an IterableDataset has no len()")
        if self.batch_sampler is None:
            return len(self.sampler)
        return len(self.batch_sampler)


def _submodules():
    """torch.utils.data is a package whose classes programs import from its modules
    (`from torch.utils.data.distributed import DistributedSampler`,
    `from torch.utils.data.sampler import Sampler`): the same names, as modules of this one."""
    import sys
    import types
    globals()["__path__"] = []  # (a package, so `import fastnn.utils.data.sampler` resolves)
    contents = {
        "sampler": ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
                    "WeightedRandomSampler", "BatchSampler"],
        "distributed": ["DistributedSampler"],
        "dataset": ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
                    "ChainDataset", "StackDataset", "random_split"],
        "dataloader": ["DataLoader", "default_collate", "default_convert", "get_worker_info"],
    }
    for name, names in contents.items():
        module = types.ModuleType(f"{__name__}.{name}")
        for attr in names:
            setattr(module, attr, globals()[attr])
        sys.modules[module.__name__] = module
        globals()[name] = module


_submodules()
