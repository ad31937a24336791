from fastnn.data.fashion_mnist import CLASSES, DatasetNotFoundError, FashionMNIST  # noqa: F401
from fastnn.data.idx import IDXError  # noqa: F401
from fastnn.data.loader import DataLoader, to_float_images  # noqa: F401
from fastnn.data.splits import ArrayDataset, kfold, random_split, subset  # noqa: F401
from fastnn.data import datasets, models, transforms, utils  # noqa: F401,E402
