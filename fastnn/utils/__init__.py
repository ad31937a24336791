"""fastnn.utils: torch.utils' names (data, checkpoint, benchmark)."""
from fastnn.utils import benchmark, checkpoint, data  # noqa: F401
