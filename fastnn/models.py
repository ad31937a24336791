"""The networks `fastnn train --model` builds."""
from fastnn import nn


def _d2l_init(module):
    # d2l's MLP chapter: weights ~ N(0, 0.01^2), biases zero.
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, std=0.01)
        nn.init.zeros_(module.bias)


def mlp():
    """d2l's concise MLP: 784-256-10 with ReLU (Dive into Deep Learning, section 5.2)."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    return net.apply(_d2l_init)


MODELS = {"mlp": mlp}


def build(name):
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {sorted(MODELS)}")
    return MODELS[name]()
