"""torchvision.models' names for the architectures fastnn builds (randomly initialised, as
torchvision's with weights=None): `from torchvision import models` ports as
`from fastnn.data import models`."""
from fastnn.data.models import resnet  # noqa: F401
from fastnn.data.models.resnet import *  # noqa: F401,F403
