"""torch.distributions.bernoulli"""
from fastnn.distributions.discrete import Bernoulli  # noqa: F401
