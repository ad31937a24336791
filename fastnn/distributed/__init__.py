"""fastnn.distributed: torch.distributed's names for data-parallel training, over TCP
("gloo") or MPI.

    import fastnn.distributed as dist
    dist.init_process_group(backend="gloo")     # python -m fastnn.distributed.run
                                                #     --nproc-per-node 4 train.py
    dist.all_reduce(t, op=dist.ReduceOp.SUM)    # in place, on the tensor's own buffer

See fastnn/distributed/process_group.py (all_reduce, broadcast, all_gather, barrier),
point_to_point.py (send, recv, isend, irecv), more_collectives.py (reduce, gather, scatter,
the object collectives), tcp_world.py, run.py,
fastnn.nn.parallel.DistributedDataParallel and fastnn.utils.data.DistributedSampler.
"""
from fastnn.distributed.process_group import (  # noqa: F401
    DEFAULT_TIMEOUT, GroupMember, ProcessGroup, ReduceOp, Work, all_gather, all_reduce, barrier,
    broadcast,
    destroy_process_group, get_backend, get_default_backend_for_device, get_rank,
    get_world_size, group, init_process_group, is_available, is_gloo_available,
    is_initialized, is_mpi_available, is_nccl_available, is_torchelastic_launched)
from fastnn.distributed.point_to_point import (  # noqa: F401
    P2POp, batch_isend_irecv, irecv, isend, recv, send)
from fastnn.distributed.store import HashStore, PrefixStore, Store, TCPStore  # noqa: F401
from fastnn.distributed.more_collectives import (  # noqa: F401
    all_gather_into_tensor, all_gather_object, broadcast_object_list, gather, gather_object,
    get_process_group_ranks, new_group, reduce, reduce_op, reduce_scatter_tensor, scatter,
    scatter_object_list)
