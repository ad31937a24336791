"""torch.distributions.uniform"""
from fastnn.distributions.continuous import Uniform  # noqa: F401
