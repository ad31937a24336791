from fastnn.nn import functional, init  # noqa: F401
from fastnn.nn.activations import (Dropout, Identity, LeakyReLU, LogSoftmax,  # noqa: F401
                                   Sigmoid, Softmax, Tanh)
from fastnn.nn.conv import (AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv2d,  # noqa: F401
                            MaxPool2d)
from fastnn.nn.layers import Flatten, Linear, ReLU, Sequential  # noqa: F401
from fastnn.nn.loss import (BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss,  # noqa: F401
                            NLLLoss)
from fastnn.nn.module import Module  # noqa: F401
from fastnn.nn.parameter import Parameter  # noqa: F401
