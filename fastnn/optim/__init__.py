from fastnn.optim.optimizer import Optimizer  # noqa: F401
from fastnn.optim.sgd import SGD  # noqa: F401
