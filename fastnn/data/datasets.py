"""torchvision.datasets' name for the data set fastnn ships a loader for, so that
`from torchvision import datasets` ports as `from fastnn.data import datasets`."""
from fastnn.data.fashion_mnist import FashionMNIST  # noqa: F401
