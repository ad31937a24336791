"""Tensors in shared memory (Tensor.share_memory_, Module.share_memory), as torch.multiprocessing
uses them: the pytorch/examples Hogwild recipe trains one model from several processes, each
updating the same parameters in place.

share_memory_() moves a tensor's values into a POSIX shared-memory block; from then on pickling
the tensor (what multiprocessing does to a Process's arguments under the spawn and forkserver
start methods, and to what goes through a Queue) sends the block's name instead of the
values, and the receiving process maps the same block. Under fork the mapping is inherited.
The process that made the block unlinks it when its tensor is collected.
"""
import weakref
from multiprocessing import shared_memory

import numpy as np


def move_to_shared(tensor):
    """Put tensor's values in a new shared block (no-op if they are there already)."""
    if getattr(tensor, "_shm", None) is not None:
        return tensor
    array = tensor._data
    block = shared_memory.SharedMemory(create=True, size=max(array.nbytes, 1))
    shared = np.ndarray(array.shape, dtype=array.dtype, buffer=block.buf)
    shared[...] = array
    tensor._data = shared
    tensor._shm = block
    weakref.finalize(tensor, _release, block, True)
    return tensor


def _release(block, owner):
    try:
        block.close()
        if owner:
            block.unlink()
    except (FileNotFoundError, BufferError):  # already gone, or still viewed by an array
        pass


def attach(name, shape, dtype, requires_grad, cls):
    """The receiving side of a pickled shared tensor: the same block, mapped here."""
    # Attaching registers the name with the resource tracker again; spawned children share
    # the creator's tracker, where the name is one entry, removed once by the creator's
    # unlink (unregistering here as well would make that second removal fail).
    block = shared_memory.SharedMemory(name=name)
    from fastnn.tensor import Tensor
    array = np.ndarray(shape, dtype=np.dtype(dtype), buffer=block.buf)
    tensor = Tensor._wrap(array)
    if cls is not Tensor:
        tensor.__class__ = cls
    tensor.requires_grad = requires_grad
    tensor._shm = block
    weakref.finalize(tensor, _release, block, False)
    return tensor
