"""torch.distributions.normal"""
from fastnn.distributions.continuous import Normal  # noqa: F401
