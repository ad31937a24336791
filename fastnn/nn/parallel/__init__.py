"""fastnn.nn.parallel: DistributedDataParallel (data parallelism over MPI ranks)."""
from fastnn.nn.parallel.distributed import DistributedDataParallel  # noqa: F401
