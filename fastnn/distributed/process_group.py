"""torch.distributed's process-group API on two transports:

- "gloo" (torch's CPU backend name; fastnn's own TCP ring in tcp_world.py): ranks started by
  mp.spawn, torchrun or by hand meet at MASTER_ADDR:MASTER_PORT (init_method "env://", the
  default, or "tcp://host:port"), through a shared file ("file:///path") or a store
  (store=TCPStore(...)). No MPI needed.
- "mpi" (mpi4py over Open MPI or MPICH): launch with `mpirun -n N python script.py`;
  `init_process_group(backend="mpi")` takes the rank and world size from the launcher.

With backend=None, a program started by mpirun gets "mpi" and any other "gloo".
For MPI: Collectives run in place on the tensors' own NumPy buffers
(mpi4py's buffer interface: no pickling, no copies through Python objects).

Every collective is started non-blocking and waited for by polling with a deadline (the
process group's `timeout`, 30 minutes by default as torch's): a peer that died or hung makes
the others raise a RuntimeError naming the collective instead of waiting forever; uncaught, it
ends the whole job (MPI_Abort after the traceback, so no rank waits in MPI_Finalize). A rank
killed outright is reported by mpirun, which stops the others. MPI errors are returned as
exceptions (MPI_ERRORS_RETURN), not aborts without a message.
"""
import datetime
import enum
import os
import sys
import time

import numpy as np

from fastnn.tensor import Tensor

DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)  # torch's default for non-NCCL groups

_NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to call "
                    "init_process_group.")


class ReduceOp(enum.Enum):
    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


class _World:
    """The default process group: MPI's COMM_WORLD, its rank and size, and the timeout."""

    backend = "mpi"

    def __init__(self, mpi, comm, timeout):
        self.MPI, self.comm, self.timeout = mpi, comm, timeout
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        # More ranks on this node than cores: a waiting rank spinning on its request would take
        # the core from the rank it waits for, so it yields the core between polls instead.
        local = comm.Split_type(mpi.COMM_TYPE_SHARED)
        self.oversubscribed = local.Get_size() > (os.cpu_count() or 1)
        local.Free()


_world = None


def is_available():
    """True when mpi4py (and so an MPI library) can be imported."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def is_mpi_available():
    return is_available()


def is_gloo_available():
    return True


def is_nccl_available():
    return False


def get_default_backend_for_device(device):
    """torch's table: "gloo" for the CPU (fastnn's only device), "nccl" for CUDA."""
    kind = str(getattr(device, "type", device)).split(":")[0]
    table = {"cpu": "gloo", "cuda": "nccl", "xpu": "xccl"}
    if kind not in table:
        raise ValueError(f"Default backend not registered for device : {kind}")
    return table[kind]


def is_torchelastic_launched():
    """True in a worker started by torchrun (or fastnn.distributed.run)."""
    return "TORCHELASTIC_RUN_ID" in os.environ


def is_initialized():
    return _world is not None


_MPI_LAUNCH_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MV2_COMM_WORLD_SIZE")


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Join the job (torch's signature). backend "gloo" (or "cpu:gloo") meets the other ranks
    over TCP; "mpi" joins the job mpirun started; None picks "mpi" under mpirun, else
    "gloo"."""
    global _world
    if _world is not None:
        raise ValueError("trying to initialize the default process group twice!")
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"timeout must be a datetime.timedelta, got {type(timeout).__name__}")
    name = _backend_name(backend)
    if name == "gloo":
        _world = _gloo_world(init_method, world_size, rank, store, timeout.total_seconds())
        return
    if init_method not in (None, "env://") or store is not None:
        raise ValueError("the MPI backend takes its rank and world size from the MPI launcher "
                         "(mpirun); init_method and store are not used")
    # Open MPI's non-blocking all-reduce defaults to an algorithm that took 150 us for a
    # 0.8 MB gradient between two ranks here; its ring takes 77 us, as the blocking call does
    # (and is what benches/scaling_model.py assumes). Read at MPI_Init; the user's setting wins.
    os.environ.setdefault("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "1")
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise RuntimeError("fastnn.distributed's MPI backend needs mpi4py and an MPI library: "
                           "pip install 'fastnn[distributed]' and install Open MPI (Debian: "
                           "apt-get install openmpi-bin libopenmpi-dev); backend='gloo' needs "
                           "neither") from exc
    comm = MPI.COMM_WORLD
    comm.Set_errhandler(MPI.ERRORS_RETURN)
    world = _World(MPI, comm, timeout.total_seconds())
    if world_size not in (-1, None) and world_size != world.size:
        raise ValueError(f"world_size={world_size} but the MPI launcher started {world.size} "
                         f"processes")
    if rank not in (-1, None) and rank != world.rank:
        raise ValueError(f"rank={rank} but the MPI launcher says this process is rank "
                         f"{world.rank}")
    _world = world
    _abort_on_uncaught_exception(comm)


def _backend_name(backend):
    if backend is None:
        return "mpi" if any(v in os.environ for v in _MPI_LAUNCH_VARIABLES) else "gloo"
    name = str(backend).lower()
    if name.startswith("cpu:"):
        name = name[4:].split(",")[0]
    if name not in ("gloo", "mpi"):
        raise RuntimeError(f"Distributed package doesn't have {str(backend).upper()} built in; "
                           f"fastnn runs on the CPU: use backend='gloo' (or 'mpi' under "
                           f"mpirun)")
    return name


def _env(name, given, kind):
    if given not in (-1, None, ""):
        return given
    if name not in os.environ:
        raise ValueError(f"Error initializing torch.distributed using env:// rendezvous: "
                         f"environment variable {name} expected, but not set")
    try:
        return kind(os.environ[name])
    except ValueError:
        raise ValueError(f"environment variable {name} should be a {kind.__name__}, got "
                         f"{os.environ[name]!r}") from None


def _gloo_world(init_method, world_size, rank, store, timeout):
    from fastnn.distributed.tcp_world import TCPWorld
    path = None
    if store is not None:
        if init_method is not None:
            raise ValueError("Cannot specify both init_method and store.")
        if world_size in (-1, None) or rank in (-1, None):
            raise ValueError("world_size and rank must be specified when using a store")
        if rank < 0 or not 0 <= rank < world_size:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, "
                             f"{world_size - 1}]")
        return TCPWorld(rank, world_size, None, None, timeout, store=store)
    if init_method in (None, "env://"):
        addr = _env("MASTER_ADDR", None, str)
        port = _env("MASTER_PORT", None, int)
    elif str(init_method).startswith("file://"):
        path, addr, port = str(init_method)[len("file://"):], None, None
        if not path:
            raise ValueError(f"init_method {init_method!r} should be file:///path/to/file")
    elif str(init_method).startswith("tcp://"):
        host, _, port = str(init_method)[len("tcp://"):].rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"init_method {init_method!r} should be tcp://host:port")
        addr, port = host.strip("[]"), int(port)
    else:
        raise ValueError(f"fastnn's gloo backend supports init_method 'env://', "
                         f"'tcp://host:port' and 'file:///path', not {init_method!r}")
    world_size = _env("WORLD_SIZE", world_size, int)
    rank = _env("RANK", rank, int)
    if world_size < 1:
        raise ValueError(f"world_size must be positive, got {world_size}")
    if not 0 <= rank < world_size:
        raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, "
                         f"{world_size - 1}]")
    return TCPWorld(rank, world_size, addr, port, timeout, file=path)


def _abort_on_uncaught_exception(comm):
    """An uncaught exception on one rank (a collective's timeout, a bug) ends the whole job, as
    `python -m mpi4py` arranges: without it the failed rank would wait in MPI_Finalize for the
    peers that wait for it. The traceback is printed first."""
    previous = sys.excepthook
    if getattr(previous, "_fastnn_aborts", False):
        return

    def hook(kind, value, traceback):
        previous(kind, value, traceback)
        sys.stderr.flush()
        comm.Abort(1)
    hook._fastnn_aborts = True
    sys.excepthook = hook


def destroy_process_group(group=None):
    """Leave the process group (MPI itself is finalized when Python exits)."""
    global _world
    if group is not None and group is not GroupMember.WORLD:
        return  # a group from new_group: nothing of its own to close
    world = _group(group)
    if world.backend == "gloo":
        world.close()
    _world = None


def _group(group):
    """The process group to run on: the default one, or a group from new_group."""
    if _world is None:
        raise ValueError(_NOT_INITIALIZED)
    if group is None or group is GroupMember.WORLD:
        return _world
    if group is GroupMember.NON_GROUP_MEMBER:
        return _NonMember()
    if isinstance(group, ProcessGroup):
        return group.transport
    raise ValueError(f"expected a process group from new_group (or None), got "
                     f"{type(group).__name__}")


def _member(group, name):
    """The group, or None (with torch's warning) on a rank that is not in it."""
    world = _group(group)
    if world.rank < 0:
        import warnings
        warnings.warn(f"Running {name} on global rank {_world.rank} which does not belong to "
                      f"the given group.", stacklevel=3)
        return None
    return world


class _NonMember:
    """What a rank outside a group sees of it: torch's -1 rank and size."""
    rank = size = -1
    ranks = ()
    backend = None


class ProcessGroup:
    """A group of ranks made by new_group: its ranks (global numbers, sorted) and the
    transport its collectives run on (an MPI sub-communicator, or gloo's TCPSubGroup)."""

    def __init__(self, transport, ranks):
        self.transport, self.ranks = transport, list(ranks)

    def rank(self):
        return self.transport.rank

    def size(self):
        return self.transport.size

    def __repr__(self):
        return f"<fastnn.distributed.ProcessGroup ranks={self.ranks}>"


class GroupMember:
    WORLD = object()
    NON_GROUP_MEMBER = object()


group = GroupMember


def get_rank(group=None):
    return _group(group).rank


def get_world_size(group=None):
    return _group(group).size


def _group_rank(world, rank, name):
    """A global rank as its number in `world` (torch's src/dst arguments are global)."""
    ranks = getattr(world, "ranks", None)
    if ranks is None:  # the default group: global numbers are the group's
        if not 0 <= rank < world.size:
            raise ValueError(f"Invalid {name} rank {rank} for a group of size {world.size}")
        return rank
    if rank not in ranks:
        raise ValueError(f"Global rank {rank} is not part of group {list(ranks)}")
    return ranks.index(rank)


def get_backend(group=None):
    return _group(group).backend


class Work:
    """What a collective with async_op=True returns: wait() blocks until it has finished
    (raising after the process group's timeout), is_completed() polls."""

    def __init__(self, world, request, name, finish=None):
        self._world, self._request, self._name, self._finish = world, request, name, finish
        self._done = False

    def is_completed(self):
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def wait(self, timeout=None):
        if self._done:
            return True
        limit = self._world.timeout if timeout is None else _seconds(timeout)
        if hasattr(self._request, "wait_for"):  # a gloo collective on the worker thread
            if not self._request.wait_for(limit):
                raise _timed_out(self._world, self._name, limit)
        else:
            _wait_for(self._world, self._request, self._name, limit)
        self._complete()
        return True

    def _source_rank(self):
        """The sender's rank of a finished recv (torch's Work._source_rank)."""
        return getattr(self._request, "result", None)

    def _complete(self):
        self._done = True
        if self._finish is not None:
            self._finish()
            self._finish = None


def _seconds(timeout):
    return timeout.total_seconds() if isinstance(timeout, datetime.timedelta) else float(timeout)


def _timed_out(world, name, limit):
    return RuntimeError(
        f"fastnn.distributed: {name} on rank {world.rank} of {world.size} did not complete "
        f"within {limit:g} s; another rank has probably died or stopped calling collectives "
        f"(timeout set by init_process_group(timeout=...))")


def _wait_for(world, request, name, limit):
    """Poll request until done; raise past `limit` seconds. Busy-poll for the first 5 ms: a
    step's all-reduce, and a peer finishing a slightly larger shard, end within that, and any
    sleep costs more than it waits (time.sleep(1e-5) takes ~60 us; sleeping from 50 us on
    made a 2-rank MLP epoch 1.4x slower). Past 5 ms, sleep in growing steps up to 1 ms so a
    rank waiting for a slow or stopped peer leaves the core to others."""
    if request.Test():
        return
    start = time.perf_counter()
    pause = 0.0
    while not request.Test():
        if world.oversubscribed:
            os.sched_yield()
        now = time.perf_counter()
        if now - start > limit:
            raise _timed_out(world, name, limit)
        if now - start > 5e-3:
            time.sleep(pause)
            pause = min(1e-3, pause * 2 or 1e-5)


def _buffer(tensor, name):
    """The tensor's own memory, checked: a contiguous array of a dtype MPI can reduce."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}(): argument 'tensor' must be Tensor, not {type(tensor).__name__}")
    array = tensor._data
    if not array.flags.c_contiguous:
        raise ValueError("Tensors must be contiguous")
    if not array.flags.writeable:
        raise ValueError(f"{name}(): the tensor is read-only")
    return array


_MPI_DTYPES = (np.float32, np.float64, np.int8, np.int16, np.int32, np.int64, np.uint8)


def _reduce_buffer(tensor, name):
    array = _buffer(tensor, name)
    if array.dtype.type not in _MPI_DTYPES:
        raise TypeError(f"{name}(): MPI cannot reduce tensors of dtype {tensor.dtype}; convert "
                        f"to float32 or float64 first")
    return array


def _mpi_op(world, op):
    ops = {ReduceOp.SUM: world.MPI.SUM, ReduceOp.AVG: world.MPI.SUM,
           ReduceOp.PRODUCT: world.MPI.PROD, ReduceOp.MIN: world.MPI.MIN,
           ReduceOp.MAX: world.MPI.MAX}
    if op not in ops:
        raise ValueError(f"unknown reduce op {op!r}; use fastnn.distributed.ReduceOp")
    return ops[op]


def _bump_version(tensor):
    tensor._version[0] += 1


def _finish(work, async_op):
    if async_op:
        return work
    work.wait()
    return None


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `tensor` over all ranks, in place: every rank ends with the result."""
    world = _member(group, "all_reduce")
    if world is None:
        return None
    array = _reduce_buffer(tensor, "all_reduce")
    if world.backend == "gloo":
        if not isinstance(op, ReduceOp):
            raise ValueError(f"unknown reduce op {op!r}; use fastnn.distributed.ReduceOp")
        request = world.submit(lambda: world.all_reduce(array, op.value))
    else:
        request = world.comm.Iallreduce(world.MPI.IN_PLACE, array, op=_mpi_op(world, op))

    def finish():
        if op is ReduceOp.AVG:
            if array.dtype.kind == "f":
                np.divide(array, world.size, out=array)
            else:
                np.floor_divide(array, world.size, out=array)
        _bump_version(tensor)
    return _finish(Work(world, request, "all_reduce", finish), async_op)


def broadcast(tensor, src, group=None, async_op=False):
    """Copy `tensor` from rank `src` (a global rank, as torch's) into the same tensor on every
    other rank of the group, in place."""
    world = _member(group, "broadcast")
    if world is None:
        return None
    array = _buffer(tensor, "broadcast")
    src = _group_rank(world, src, "src")
    if world.backend == "gloo":
        request = world.submit(lambda: world.broadcast(array, src))
    else:
        request = world.comm.Ibcast(array.reshape(-1).view(np.uint8), root=src)
    return _finish(Work(world, request, "broadcast", lambda: _bump_version(tensor)), async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[r] = rank r's `tensor`, on every rank (same shape and dtype everywhere)."""
    world = _member(group, "all_gather")
    if world is None:
        return None
    if not isinstance(tensor, Tensor):
        raise TypeError(f"all_gather(): argument 'tensor' must be Tensor, not "
                        f"{type(tensor).__name__}")
    array = np.ascontiguousarray(tensor._data)
    if len(tensor_list) != world.size:
        raise ValueError(f"all_gather(): tensor_list has {len(tensor_list)} tensors, the group "
                         f"has {world.size} ranks")
    outs = [_buffer(t, "all_gather") for t in tensor_list]
    for out in outs:
        if out.shape != array.shape or out.dtype != array.dtype:
            raise ValueError(f"all_gather(): every output tensor must have the input's shape "
                             f"{list(array.shape)} and dtype {tensor.dtype}")
    gathered = np.empty((world.size, array.nbytes), dtype=np.uint8)
    if world.backend == "gloo":
        gathered[world.rank] = array.reshape(-1).view(np.uint8)
        request = world.submit(lambda: world.all_gather(gathered))
    else:
        request = world.comm.Iallgather(array.reshape(-1).view(np.uint8), gathered)

    def finish():
        for out, t, row in zip(outs, tensor_list, gathered):
            out.reshape(-1).view(np.uint8)[:] = row
            _bump_version(t)
    return _finish(Work(world, request, "all_gather", finish), async_op)


def barrier(group=None, async_op=False, device_ids=None):
    world = _member(group, "barrier")
    if world is None:
        return None
    if world.backend == "gloo":
        token = np.zeros(1, dtype=np.int8)
        return _finish(Work(world, world.submit(lambda: world.all_reduce(token, "sum")),
                            "barrier"), async_op)
    return _finish(Work(world, world.comm.Ibarrier(), "barrier"), async_op)
