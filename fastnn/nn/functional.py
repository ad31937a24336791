"""torch.nn.functional's names for the ops fastnn implements."""
from fastnn.ops.elementwise import relu  # noqa: F401
from fastnn.ops.linear import linear  # noqa: F401
from fastnn.ops.loss import cross_entropy  # noqa: F401
