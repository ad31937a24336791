"""torchvision.datasets' names for the data sets fastnn has loaders for, so that
`from torchvision import datasets` ports as `from fastnn.data import datasets`."""
from fastnn.data.fashion_mnist import MNIST, FashionMNIST  # noqa: F401
from fastnn.data.folders import DatasetFolder, FakeData, ImageFolder  # noqa: F401
from fastnn.data.cifar import CIFAR10, CIFAR100  # noqa: F401
