"""torch.distributions.binomial"""
from fastnn.distributions.discrete import Binomial  # noqa: F401
