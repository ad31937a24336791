"""The networks `fastnn train --model` builds."""
from fastnn import nn


def _d2l_init(module):
    # d2l's MLP chapter: weights ~ N(0, 0.01^2), biases zero.
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, std=0.01)
        nn.init.zeros_(module.bias)


def softmax_regression():
    """d2l's softmax regression: one Linear(784, 10) on the flattened image (the softmax is in
    the cross-entropy loss)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10)).apply(_d2l_init)


def mlp():
    """d2l's concise MLP: 784-256-10 with ReLU (Dive into Deep Learning, section 5.2)."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    return net.apply(_d2l_init)


def mlp2():
    """784-512-256-10 with ReLU and dropout 0.2 after each hidden layer, PyTorch's default
    initialisation (the recipe that reaches ~0.895 with Adam)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(512, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10))


def cnn():
    """Two 3x3 conv blocks and two Linear layers: conv(1->32)-ReLU-pool-conv(32->64)-ReLU-pool-
    Linear(3136->128)-ReLU-Linear(128->10), PyTorch's default initialisation."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def cnn2():
    """cnn with batch normalisation after each convolution and dropout before each Linear
    (Ioffe & Szegedy 2015; Srivastava et al. 2014): the same cost per image, better accuracy."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 10))


MODELS = {"softmax": softmax_regression, "mlp": mlp, "mlp2": mlp2, "cnn": cnn, "cnn2": cnn2}
DESCRIPTIONS = {
    "softmax": "softmax regression, 784-10",
    "mlp": "784-256-10, ReLU, weights N(0, 0.01^2) (d2l)",
    "mlp2": "784-512-256-10, ReLU, dropout 0.2",
    "cnn": "conv32-pool-conv64-pool-fc128-fc10, ReLU",
    "cnn2": "cnn with BatchNorm2d after each conv and dropout 0.25/0.5 before the Linears",
}


def build(name):
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {sorted(MODELS)}")
    return MODELS[name]()
