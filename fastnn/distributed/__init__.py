"""fastnn.distributed: torch.distributed's names for data-parallel training, over TCP
("gloo") or MPI.

    import fastnn.distributed as dist
    dist.init_process_group(backend="gloo")     # python -m fastnn.distributed.run
                                                #     --nproc-per-node 4 train.py
    dist.all_reduce(t, op=dist.ReduceOp.SUM)    # in place, on the tensor's own buffer

See fastnn/distributed/process_group.py, tcp_world.py, run.py,
fastnn.nn.parallel.DistributedDataParallel and fastnn.utils.data.DistributedSampler.
"""
from fastnn.distributed.process_group import (  # noqa: F401
    DEFAULT_TIMEOUT, GroupMember, ReduceOp, Work, all_gather, all_reduce, barrier, broadcast,
    destroy_process_group, get_backend, get_default_backend_for_device, get_rank,
    get_world_size, group, init_process_group, is_available, is_gloo_available,
    is_initialized, is_mpi_available, is_nccl_available, is_torchelastic_launched)
