"""The workloads the benchmarks time, each written the way its users write it, so that the
contenders do the same arithmetic: fastnn (public API), PyTorch, and plain NumPy.

The MLP epoch is d2l's recipe: 784-256-10, ReLU, weights N(0, 0.01^2), SGD lr 0.1, batch 256,
over the 60,000 real Fashion-MNIST training images, slicing each batch from a NumPy array.
"""
import numpy as np

BATCH = 256
LR = 0.1


def load_train_arrays():
    """Fashion-MNIST training images as (60000, 784) float32 in [0, 1] and int64 labels."""
    from fastnn.data import FashionMNIST

    train = FashionMNIST(train=True)
    images = train.images.reshape(len(train), -1).astype(np.float32) / np.float32(255)
    return images, train.labels


def _init(rng):
    w1 = (rng.standard_normal((256, 784)) * 0.01).astype(np.float32)
    w2 = (rng.standard_normal((10, 256)) * 0.01).astype(np.float32)
    return w1, np.zeros(256, np.float32), w2, np.zeros(10, np.float32)


# --- fastnn ---------------------------------------------------------------------------------
def fastnn_mlp(seed=0):
    import fastnn
    from fastnn import nn

    fastnn.manual_seed(seed)
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    w1, b1, w2, b2 = _init(np.random.default_rng(seed))
    net.load_state_dict({"1.weight": w1, "1.bias": b1, "3.weight": w2, "3.bias": b2})
    return net, nn.CrossEntropyLoss(), fastnn.optim.SGD(net.parameters(), lr=LR)


def fastnn_epoch(model, images, labels, autocast=False):
    """autocast: the forward pass and loss under fastnn.autocast("cpu", bfloat16)."""
    import fastnn

    net, loss_fn, optimizer = model
    for start in range(0, len(labels), BATCH):
        x = fastnn.from_numpy(images[start:start + BATCH])
        y = fastnn.from_numpy(labels[start:start + BATCH])
        with fastnn.autocast("cpu", dtype=fastnn.bfloat16, enabled=autocast):
            loss = loss_fn(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


# --- PyTorch --------------------------------------------------------------------------------
def torch_mlp(seed=0):
    import torch
    from torch import nn

    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    w1, b1, w2, b2 = _init(np.random.default_rng(seed))
    net.load_state_dict({"1.weight": torch.from_numpy(w1), "1.bias": torch.from_numpy(b1),
                         "3.weight": torch.from_numpy(w2), "3.bias": torch.from_numpy(b2)})
    return net, nn.CrossEntropyLoss(), torch.optim.SGD(net.parameters(), lr=LR)


def torch_epoch(model, images, labels, autocast=False):
    import torch

    net, loss_fn, optimizer = model
    for start in range(0, len(labels), BATCH):
        x = torch.from_numpy(images[start:start + BATCH])
        y = torch.from_numpy(labels[start:start + BATCH])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            loss = loss_fn(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss.item()


# --- plain NumPy (OpenBLAS GEMM, hand-written backward) -------------------------------------
def numpy_mlp(seed=0):
    return list(_init(np.random.default_rng(seed)))


def numpy_epoch(params, images, labels):
    w1, b1, w2, b2 = params
    for start in range(0, len(labels), BATCH):
        x = images[start:start + BATCH]
        y = labels[start:start + BATCH]
        n = len(y)
        h = x @ w1.T + b1
        np.maximum(h, 0, out=h)
        logits = h @ w2.T + b2
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(s[:, 0]) - shifted[np.arange(n), y]))
        g = e / s
        g[np.arange(n), y] -= 1
        g /= n
        gw2, gb2 = g.T @ h, g.sum(axis=0)
        gh = g @ w2
        gh *= h > 0
        gw1, gb1 = gh.T @ x, gh.sum(axis=0)
        w1 -= LR * gw1
        b1 -= LR * gb1
        w2 -= LR * gw2
        b2 -= LR * gb2
    return loss
