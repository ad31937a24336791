from fastnn.nn import functional, init  # noqa: F401
from fastnn.nn.layers import Flatten, Linear, ReLU, Sequential  # noqa: F401
from fastnn.nn.loss import CrossEntropyLoss  # noqa: F401
from fastnn.nn.module import Module  # noqa: F401
from fastnn.nn.parameter import Parameter  # noqa: F401
