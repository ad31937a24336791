"""fastnn.nn.parallel: DistributedDataParallel (data parallelism over MPI ranks) and
DataParallel (the single-device case of torch's, on the CPU)."""
from fastnn.nn.parallel.data_parallel import DataParallel  # noqa: F401
from fastnn.nn.parallel.distributed import DistributedDataParallel  # noqa: F401
