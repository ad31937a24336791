"""fastnn.utils: torch.utils' names (data)."""
from fastnn.utils import data  # noqa: F401
