"""What `fastnn train --distributed` needs beyond the collectives: which rows of a global batch
(or of the test set) a rank owns, sums over ranks, and a thread count that does not
oversubscribe the cores the launcher put several ranks on."""
import os

import numpy as np

from fastnn import distributed as dist
from fastnn.tensor import Tensor

# Environment variables through which MPI launchers tell a rank how many ranks share its node.
# LOCAL_WORLD_SIZE is torchrun's (and fastnn.distributed.run's).
_LOCAL_SIZE_VARIABLES = ("OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS",
                         "MV2_COMM_WORLD_LOCAL_SIZE", "LOCAL_WORLD_SIZE")


class Shard:
    """This process's place among the ranks of the default process group (initialised here
    if the program has not done so)."""

    def __init__(self):
        if not dist.is_initialized():
            dist.init_process_group()  # mpi under mpirun, else gloo from torchrun's variables
        self.rank, self.world = dist.get_rank(), dist.get_world_size()

    def rows(self, n):
        """The rows [rank*n/world, (rank+1)*n/world) of n: shards differ by at most one row,
        and the shards of the ranks in order are the n rows in order."""
        return self.rank * n // self.world, (self.rank + 1) * n // self.world

    def sum(self, values):
        """The elementwise sum over ranks of a few numbers (float64, one all-reduce)."""
        t = Tensor._wrap(np.array(values, dtype=np.float64))
        dist.all_reduce(t, dist.ReduceOp.SUM)
        return t._data.tolist()


def threads_per_rank():
    """Cores this rank may use divided among the ranks on its node (at least one)."""
    local = next((int(os.environ[v]) for v in _LOCAL_SIZE_VARIABLES
                  if os.environ.get(v, "").isdigit()), 1)
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    return max(1, min(usable, (os.cpu_count() or 1) // max(local, 1)))
