"""torch.distributions.multinomial"""
from fastnn.distributions.discrete import Multinomial  # noqa: F401
