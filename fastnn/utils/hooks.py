"""torch.utils.hooks: RemovableHandle, the handle every register_*_hook returns."""
from fastnn.autograd.function import RemovableHandle  # noqa: F401

__all__ = ["RemovableHandle"]
