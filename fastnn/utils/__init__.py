"""fastnn.utils: torch.utils' names (data, checkpoint, benchmark, swap_tensors)."""
from fastnn.utils import benchmark, checkpoint, data  # noqa: F401
from fastnn.utils.swap import swap_tensors  # noqa: F401
