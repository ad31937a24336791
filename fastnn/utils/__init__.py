"""fastnn.utils: torch.utils' names (data, checkpoint)."""
from fastnn.utils import checkpoint, data  # noqa: F401
