"""The rest of torch.distributed's collectives, built on all_reduce, broadcast and all_gather
(process_group.py), so both backends have them: reduce, gather, scatter,
all_gather_into_tensor, reduce_scatter_tensor, the object collectives (pickled, as torch's),
new_group for the whole world and get_process_group_ranks.

reduce and gather move everything to every rank and keep it where it was asked for (a
rank's tensor is left as it was elsewhere); scatter broadcasts the source's list. They cost
up to world_size times the data a tree or a direct exchange would move: they serve the
tutorials and bookkeeping (metrics, configuration), while training's gradients take
all_reduce.
"""
import pickle
import warnings

import numpy as np

from fastnn.distributed import process_group as pg
from fastnn.distributed.process_group import ReduceOp
from fastnn.tensor import Tensor


def _finished(work, async_op):
    return work if async_op else None


class _Done:
    """The Work of a composed collective that has already finished."""

    def wait(self, timeout=None):
        return True

    def is_completed(self):
        return True


def _tensor_list(name, value):
    if not isinstance(value, list) or not all(isinstance(t, Tensor) for t in value):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"List[torch.Tensor]\n             but got {type(value)} instead.")


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduce `tensor` over all ranks into rank dst's tensor."""
    world = pg._group(group)
    dst = dst if dst is not None else group_dst
    if dst is None or not 0 <= dst < world.size:
        raise ValueError(f"Invalid destination rank {dst} for a group of size {world.size}")
    pg._reduce_buffer(tensor, "reduce")
    result = Tensor._wrap(np.array(tensor._data, copy=True))
    pg.all_reduce(result, op, group)
    if world.rank == dst:
        tensor._data[...] = result._data
        pg._bump_version(tensor)
    return _finished(_Done(), async_op)


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """gather_list[r] = rank r's `tensor`, on rank dst only."""
    world = pg._group(group)
    dst = 0 if dst is None and group_dst is None else (dst if dst is not None else group_dst)
    if world.rank == dst:
        if not gather_list:
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
        _tensor_list("gather_list", gather_list)
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination "
                         "ranks.")
    pieces = [Tensor._wrap(np.empty_like(tensor._data)) for _ in range(world.size)]
    pg.all_gather(pieces, tensor, group)
    if world.rank == dst:
        for out, piece in zip(gather_list, pieces):
            out._data[...] = piece._data
            pg._bump_version(out)
    return _finished(_Done(), async_op)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Rank r's `tensor` = rank src's scatter_list[r]."""
    world = pg._group(group)
    src = 0 if src is None and group_src is None else (src if src is not None else group_src)
    out = pg._buffer(tensor, "scatter")
    packed = np.empty((world.size,) + out.shape, out.dtype)
    if world.rank == src:
        if not scatter_list:
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        _tensor_list("scatter_list", scatter_list)
        if len(scatter_list) != world.size:
            raise ValueError(f"scatter(): scatter_list has {len(scatter_list)} tensors, the "
                             f"group has {world.size} ranks")
        for row, t in zip(packed, scatter_list):
            row[...] = t._data
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    pg.broadcast(Tensor._wrap(packed), src, group)
    out[...] = packed[world.rank]
    pg._bump_version(tensor)
    return _finished(_Done(), async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Every rank's input_tensor, concatenated along dimension 0 (or stacked) into
    output_tensor."""
    world = pg._group(group)
    out = pg._buffer(output_tensor, "all_gather_into_tensor")
    if out.size != input_tensor._data.size * world.size:
        raise ValueError(f"output tensor size must be equal to world_size times input tensor "
                         f"size ({out.size} != {world.size} * {input_tensor._data.size})")
    rows = out.reshape(world.size, -1)
    pieces = [Tensor._wrap(row.reshape(input_tensor._data.shape)) for row in rows]
    pg.all_gather(pieces, input_tensor, group)
    pg._bump_version(output_tensor)
    return _finished(_Done(), async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """This rank's block of the reduction of every rank's `input` (split along dimension 0)."""
    world = pg._group(group)
    out = pg._buffer(output, "reduce_scatter_tensor")
    if input._data.size != out.size * world.size:
        raise ValueError(f"input tensor must be the same size as output size times world size "
                         f"({input._data.size} != {out.size} * {world.size})")
    total = Tensor._wrap(np.array(input._data, copy=True))
    pg.all_reduce(total, op, group)
    out[...] = total._data.reshape(world.size, -1)[world.rank].reshape(out.shape)
    pg._bump_version(output)
    return _finished(_Done(), async_op)


# --- objects (pickled) ---------------------------------------------------------------------
def _gathered_bytes(payload, group):
    """Every rank's bytes, by rank."""
    world = pg._group(group)
    sizes = [Tensor._wrap(np.zeros(1, np.int64)) for _ in range(world.size)]
    pg.all_gather(sizes, Tensor._wrap(np.array([len(payload)], np.int64)), group)
    longest = int(max(s._data[0] for s in sizes))
    mine = np.zeros(longest, np.uint8)
    mine[:len(payload)] = np.frombuffer(payload, np.uint8)
    rows = [Tensor._wrap(np.empty(longest, np.uint8)) for _ in range(world.size)]
    pg.all_gather(rows, Tensor._wrap(mine), group)
    return [r._data[:int(s._data[0])].tobytes() for r, s in zip(rows, sizes)]


def all_gather_object(object_list, obj, group=None):
    """object_list[r] = rank r's obj (any picklable object), on every rank."""
    world = pg._group(group)
    if len(object_list) != world.size:
        raise ValueError(f"all_gather_object(): object_list must have {world.size} entries, "
                         f"got {len(object_list)}")
    for r, payload in enumerate(_gathered_bytes(pickle.dumps(obj), group)):
        object_list[r] = pickle.loads(payload)


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    """object_gather_list[r] = rank r's obj, on rank dst only."""
    world = pg._group(group)
    dst = 0 if dst is None and group_dst is None else (dst if dst is not None else group_dst)
    if world.rank == dst and (object_gather_list is None or
                              len(object_gather_list) != world.size):
        raise ValueError("Argument ``object_gather_list`` must be specified on destination rank "
                         f"with {world.size} entries.")
    payloads = _gathered_bytes(pickle.dumps(obj), group)
    if world.rank == dst:
        for r, payload in enumerate(payloads):
            object_gather_list[r] = pickle.loads(payload)


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Rank src's object_list, element by element, into every rank's object_list (same
    length everywhere)."""
    world = pg._group(group)
    src = 0 if src is None and group_src is None else (src if src is not None else group_src)
    payload = pickle.dumps(list(object_list)) if world.rank == src else b""
    size = Tensor._wrap(np.array([len(payload)], np.int64))
    pg.broadcast(size, src, group)
    data = np.zeros(int(size._data[0]), np.uint8)
    if world.rank == src:
        data[:] = np.frombuffer(payload, np.uint8)
    pg.broadcast(Tensor._wrap(data), src, group)
    if world.rank != src:
        object_list[:] = pickle.loads(data.tobytes())


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None,
                        group=None, group_src=None):
    """scatter_object_output_list[0] = rank src's scatter_object_input_list[rank]."""
    world = pg._group(group)
    src = 0 if src is None and group_src is None else (src if src is not None else group_src)
    if not isinstance(scatter_object_output_list, list) or not scatter_object_output_list:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at "
                         "least 1.")
    objects = list(scatter_object_input_list) if world.rank == src else [None] * world.size
    broadcast_object_list(objects, src, group)
    scatter_object_output_list[0] = objects[world.rank]


# --- groups --------------------------------------------------------------------------------
def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None, device_id=None):
    """A group of every rank (ranks None or all of them) is the default group; fastnn has no
    subgroups yet."""
    world = pg._group(None)
    if ranks is not None and sorted(int(r) for r in ranks) != list(range(world.size)):
        raise NotImplementedError(f"new_group(ranks={list(ranks)}): fastnn.distributed supports "
                                  f"groups of all {world.size} ranks only")
    return pg.GroupMember.WORLD


def get_process_group_ranks(group):
    return list(range(pg._group(group).size))


class _DeprecatedReduceOp:
    """torch.distributed.reduce_op: the old name of ReduceOp (torch warns when it is used)."""

    def __getattr__(self, name):
        warnings.warn("`torch.distributed.reduce_op` is deprecated, please use "
                      "`torch.distributed.ReduceOp` instead", FutureWarning, stacklevel=2)
        return getattr(ReduceOp, name)


reduce_op = _DeprecatedReduceOp()
