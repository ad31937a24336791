"""The rest of torch.distributed's collectives, built on all_reduce, broadcast and all_gather
(process_group.py), so both backends have them: reduce, gather, scatter,
all_gather_into_tensor, reduce_scatter_tensor, the object collectives (pickled, as torch's),
new_group (groups of some of the ranks) and get_process_group_ranks. src/dst arguments are
global ranks, group_src/group_dst the group's own numbers, as in torch.

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
    world = pg._member(group, "reduce")
    if world is None:
        return None
    dst = _where(world, dst, group_dst, "dst")
    pg._reduce_buffer(tensor, "reduce")
    result = Tensor._wrap(np.array(tensor._data, copy=True))
    pg.all_reduce(result, op, group)
    if world.rank == dst:
        tensor._data[...] = result._data
        pg._bump_version(tensor)
    return _finished(_Done(), async_op)


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """gather_list[r] = rank r's `tensor`, on rank dst only."""
    world = pg._member(group, "gather")
    if world is None:
        return None
    dst = _where(world, dst, group_dst, "dst")
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
    world = pg._member(group, "scatter")
    if world is None:
        return None
    src = _where(world, src, group_src, "src")
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
    pg.broadcast(Tensor._wrap(packed), _global(world, src), group)
    out[...] = packed[world.rank]
    pg._bump_version(tensor)
    return _finished(_Done(), async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Every rank's input_tensor, concatenated along dimension 0 (or stacked) into
    output_tensor."""
    world = pg._member(group, "all_gather_into_tensor")
    if world is None:
        return None
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
    world = pg._member(group, "reduce_scatter_tensor")
    if world is None:
        return None
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
    world = pg._member(group, "all_gather_object")
    if world is None:
        return None
    if len(object_list) != world.size:
        raise ValueError(f"all_gather_object(): object_list must have {world.size} entries, "
                         f"got {len(object_list)}")
    for r, payload in enumerate(_gathered_bytes(pickle.dumps(obj), group)):
        object_list[r] = pickle.loads(payload)


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    """object_gather_list[r] = rank r's obj, on rank dst only."""
    world = pg._member(group, "gather_object")
    if world is None:
        return None
    dst = _where(world, dst, group_dst, "dst")
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
    world = pg._member(group, "broadcast_object_list")
    if world is None:
        return None
    src = _where(world, src, group_src, "src")
    payload = pickle.dumps(list(object_list)) if world.rank == src else b""
    size = Tensor._wrap(np.array([len(payload)], np.int64))
    pg.broadcast(size, _global(world, src), group)
    data = np.zeros(int(size._data[0]), np.uint8)
    if world.rank == src:
        data[:] = np.frombuffer(payload, np.uint8)
    pg.broadcast(Tensor._wrap(data), _global(world, src), group)
    if world.rank != src:
        object_list[:] = pickle.loads(data.tobytes())


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None,
                        group=None, group_src=None):
    """scatter_object_output_list[0] = rank src's scatter_object_input_list[rank]."""
    world = pg._member(group, "scatter_object_list")
    if world is None:
        return None
    src = _where(world, src, group_src, "src")
    if not isinstance(scatter_object_output_list, list) or not scatter_object_output_list:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at "
                         "least 1.")
    objects = list(scatter_object_input_list) if world.rank == src else [None] * world.size
    broadcast_object_list(objects, _global(world, src), group)
    scatter_object_output_list[0] = objects[world.rank]


# --- groups --------------------------------------------------------------------------------
def _where(world, rank, group_rank, name):
    """A src/dst argument as the rank's number in the group: `rank` is global (default 0),
    `group_rank` already the group's."""
    if rank is not None and group_rank is not None:
        raise ValueError(f"Can't specify both group_{name} and {name}")
    if group_rank is not None:
        return int(group_rank)
    return pg._group_rank(world, 0 if rank is None else int(rank), name)


def _global(world, group_rank):
    ranks = getattr(world, "ranks", None)
    return group_rank if ranks is None else ranks[group_rank]


_groups_made = [0]  # every rank calls new_group in the same order, so the count names a group


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization=False, group_desc=None, device_id=None):
    """A process group of some of the ranks (every rank must call it, as torch's): ranks None
    or all of them is the default group. A rank outside the group gets
    GroupMember.NON_GROUP_MEMBER, and collectives on it return None with torch's warning."""
    world = pg._group(None)
    if ranks is None:
        return pg.GroupMember.WORLD
    ranks = sorted({int(r) for r in ranks})
    for r in ranks:
        if not 0 <= r < world.size:
            raise ValueError(f"The new group's rank should be within the world_size set by "
                             f"init_process_group ({r} is not in [0, {world.size}))")
    if ranks == list(range(world.size)):
        return pg.GroupMember.WORLD
    _groups_made[0] += 1
    if world.backend == "gloo":
        from fastnn.distributed.tcp_world import TCPSubGroup
        # negative tags keep the group's messages apart from the program's send/recv
        transport = TCPSubGroup(world, ranks, tag=-_groups_made[0])
    else:
        sub = world.comm.Create(world.comm.Get_group().Incl(ranks))  # collective: all ranks
        if sub == world.MPI.COMM_NULL:
            return pg.GroupMember.NON_GROUP_MEMBER
        sub.Set_errhandler(world.MPI.ERRORS_RETURN)
        transport = pg._World(world.MPI, sub, world.timeout)
        transport.ranks = ranks
    if world.rank not in ranks:
        return pg.GroupMember.NON_GROUP_MEMBER
    return pg.ProcessGroup(transport, ranks)


def get_process_group_ranks(group):
    """The global ranks of a group's members."""
    if group is pg.GroupMember.NON_GROUP_MEMBER:
        return []
    world = pg._group(group)
    return list(getattr(world, "ranks", None) or range(world.size))


class _DeprecatedReduceOp:
    """torch.distributed.reduce_op: the old name of ReduceOp (torch warns when it is used)."""

    def __getattr__(self, name):
        warnings.warn("`torch.distributed.reduce_op` is deprecated, please use "
                      "`torch.distributed.ReduceOp` instead", FutureWarning, stacklevel=2)
        return getattr(ReduceOp, name)


reduce_op = _DeprecatedReduceOp()
