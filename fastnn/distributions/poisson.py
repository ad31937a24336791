"""torch.distributions.poisson"""
from fastnn.distributions.discrete import Poisson  # noqa: F401
