"""torch.nn.functional's names for the ops fastnn implements."""
from fastnn.ops.activation import dropout, log_softmax, softmax  # noqa: F401
from fastnn.ops.elementwise import leaky_relu, relu, sigmoid, tanh  # noqa: F401
from fastnn.ops.linear import linear  # noqa: F401
from fastnn.ops.loss import cross_entropy  # noqa: F401
from fastnn.ops.losses import (binary_cross_entropy_with_logits, l1_loss,  # noqa: F401
                               mse_loss, nll_loss)
from fastnn.ops.batchnorm import batch_norm  # noqa: F401,E402
from fastnn.ops.conv import conv2d  # noqa: F401,E402
from fastnn.ops.pad import pad  # noqa: F401,E402
from fastnn.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d  # noqa: F401,E402
