"""torch.distributed's point-to-point calls: send / recv, isend / irecv, P2POp and
batch_isend_irecv (the "Writing distributed applications" tutorial's blocking and immediate
examples and its hand-written ring all-reduce).

On "gloo" a message goes over its own connection between the two ranks (tcp_world.py); isend
and irecv run it on a thread of their own, so the caller goes on and waits on the Work. On
"mpi" they are MPI_Isend / MPI_Irecv on the tensor's buffer. Tags match sends to receives;
recv without src takes the first matching message from any rank and returns its rank.
"""
import threading

import numpy as np

from fastnn.distributed import process_group as pg
from fastnn.distributed.tcp_world import _Job
from fastnn.tensor import Tensor


def _check_tensor(tensor, name="tensor"):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"torch.Tensor\n             but got {type(tensor)} instead.")


def _peer(world, rank, group_rank, kind, group=None):
    """The peer's global rank: `rank` is global, `group_rank` the peer's number in `group`
    (torch's dst / group_dst). Messages go over the default group's connections."""
    if rank is not None and group_rank is not None:
        raise ValueError("Can't specify both group_rank and global_rank")
    if rank is None and group_rank is None:
        raise ValueError("Must specify global_rank or group_rank")
    if rank is None:
        ranks = getattr(pg._group(group), "ranks", None)
        rank = group_rank if ranks is None else ranks[group_rank]
    if not 0 <= rank < world.size:
        raise ValueError(f"Invalid {kind} rank {rank} for a group of size {world.size}")
    return int(rank)


def _default_if_member(group, name):
    """The default group when this rank is in `group` (None, with torch's warning, if not)."""
    return None if pg._member(group, name) is None else pg._group(None)


class _Threaded(_Job):
    """A gloo point-to-point call running on its own thread (Work polls and waits on it, as
    on a queued collective)."""

    def __init__(self, run):
        super().__init__(run)
        self.result = None

        def target():
            try:
                self.result = run()
            except Exception as exc:  # noqa: BLE001 - handed to the caller's wait()
                self.error = exc if isinstance(exc, RuntimeError) else RuntimeError(str(exc))
            self.done.set()
        threading.Thread(target=target, daemon=True, name="fastnn-dist-p2p").start()


class _MPIReceive:
    """An MPI_Irecv whose status (the sender's rank) is kept."""

    def __init__(self, world, array, src, tag):
        self.status = world.MPI.Status()
        source = world.MPI.ANY_SOURCE if src is None else src
        self.request = world.comm.Irecv(array.reshape(-1).view(np.uint8), source=source,
                                        tag=tag)
        self.result = None

    def Test(self):
        done = self.request.Test(self.status)
        if done:
            self.result = self.status.Get_source()
        return done


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send `tensor` to rank dst without waiting; returns a Work to wait() on (the tensor must
    not change until then)."""
    world = _default_if_member(group, "isend")
    if world is None:
        return None
    dst = _peer(world, dst, group_dst, "destination", group)
    _check_tensor(tensor)
    array = np.ascontiguousarray(tensor._data)
    if world.backend == "gloo":
        request = _Threaded(lambda: world.send(dst, int(tag), array.reshape(-1).view(np.uint8)))
    else:
        request = world.comm.Isend(array.reshape(-1).view(np.uint8), dest=dst, tag=int(tag))
    return pg.Work(world, request, "send")


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into `tensor` without waiting (from any rank when src is None); returns a Work
    to wait() on before reading the tensor."""
    world = _default_if_member(group, "irecv")
    if world is None:
        return None
    _check_tensor(tensor)
    if src is not None or group_src is not None:
        src = _peer(world, src, group_src, "source", group)
    array = pg._buffer(tensor, "recv")
    if world.backend == "gloo":
        request = _Threaded(lambda: world.recv(src, int(tag), array.reshape(-1).view(np.uint8)))
    else:
        request = _MPIReceive(world, array, src, int(tag))
    work = pg.Work(world, request, "recv", lambda: pg._bump_version(tensor))
    return work


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send `tensor` to rank dst and wait until it has gone."""
    world = pg._group(None)
    if pg._group(group).rank >= 0 and \
            _peer(world, dst, group_dst, "destination", group) == world.rank:
        raise ValueError("Invalid destination rank: destination rank should not be the same "
                         "as the rank of the current process.")
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into `tensor` (from any rank when src is None); returns the sender's rank."""
    world = pg._group(None)
    if (src is not None or group_src is not None) and pg._group(group).rank >= 0 and \
            _peer(world, src, group_src, "source", group) == world.rank:
        raise ValueError("Invalid source rank: source rank should not be the same as the rank "
                         "of the current process.")
    work = irecv(tensor, src, group, tag, group_src)
    if work is None:
        return -1
    work.wait()
    return work._request.result


class P2POp:
    """One point-to-point operation for batch_isend_irecv: op is isend or irecv."""

    def __init__(self, op, tensor, peer=None, group=None, tag=0, group_peer=None):
        if op not in (isend, irecv):
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type ``torch.distributed."
                             "isend`` or ``torch.distributed.irecv``.")
        _check_tensor(tensor)
        self.op, self.tensor, self.peer, self.group, self.tag = op, tensor, peer, group, tag
        self.group_peer = group_peer

    def __repr__(self):
        return (f"P2POp(op={self.op.__name__}, tensor={tuple(self.tensor.shape)}, "
                f"peer={self.peer}, tag={self.tag})")


def batch_isend_irecv(p2p_op_list):
    """Start every operation of the list; returns their Works, in order."""
    if not isinstance(p2p_op_list, list) or not all(isinstance(p, P2POp) for p in p2p_op_list):
        raise ValueError("Invalid ``p2p_op_list``. Each op is expected to to be of type "
                         "``torch.distributed.P2POp``.")
    return [p.op(p.tensor, p.peer, p.group, p.tag) for p in p2p_op_list]
