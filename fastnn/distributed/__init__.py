"""fastnn.distributed: torch.distributed's names for data-parallel training over MPI.

    import fastnn.distributed as dist
    dist.init_process_group(backend="mpi")      # launched as: mpirun -n 4 python train.py
    dist.all_reduce(t, op=dist.ReduceOp.SUM)    # in place, on the tensor's own buffer

See fastnn/distributed/process_group.py, fastnn.nn.parallel.DistributedDataParallel and
fastnn.utils.data.DistributedSampler.
"""
from fastnn.distributed.process_group import (DEFAULT_TIMEOUT, GroupMember,  # noqa: F401
                                              ReduceOp, Work, all_gather, all_reduce,
                                              barrier, broadcast, destroy_process_group,
                                              get_backend, get_rank, get_world_size, group,
                                              init_process_group, is_available,
                                              is_gloo_available, is_initialized,
                                              is_mpi_available, is_nccl_available)
