"""torch.distributions.categorical"""
from fastnn.distributions.discrete import Categorical  # noqa: F401
