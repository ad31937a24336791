"""Convolution and pooling kernels, one CNN training step (the `--model cnn` network, batch
128, Adam) and one resnet18 step on 32 x 32 images, fastnn vs PyTorch vs a NumPy im2col
implementation, in one run."""
import numpy as np
import pytest

from conftest import record

CONV = dict(n=128, cin=32, cout=64, size=14, k=3)  # the CNN's second convolution


def numpy_conv_im2col(x, w, b):
    """The textbook NumPy convolution: im2col with stride tricks, then one matmul."""
    n, c, h, wd = x.shape
    oc, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * wd, c * kh * kw)
    out = cols @ w.reshape(oc, -1).T + b
    return out.reshape(n, h, wd, oc).transpose(0, 3, 1, 2)


def test_conv2d_forward_backward(benchmark, threads, contender, rng):
    n, cin, cout, size, k = (CONV[key] for key in ("n", "cin", "cout", "size", "k"))
    x = rng.standard_normal((n, cin, size, size), dtype=np.float32)
    w = (rng.standard_normal((cout, cin, k, k)) * 0.1).astype(np.float32)
    b = np.zeros(cout, np.float32)
    forward = 2 * n * cout * size * size * cin * k * k
    if contender == "numpy":  # NumPy has no autograd: its row times the forward pass only
        record(benchmark, "conv2d 32->64 3x3 14x14 batch 128 fwd+bwd", "numpy (forward only)",
               threads, forward)
        benchmark(numpy_conv_im2col, x, w, b)
        return
    # forward + the two backward products (input and weight gradients)
    record(benchmark, "conv2d 32->64 3x3 14x14 batch 128 fwd+bwd", contender, threads,
           3 * forward)
    lib = __import__("torch" if contender == "torch" else "fastnn")
    conv = lib.nn.Conv2d(cin, cout, k, padding=1)
    conv.load_state_dict({"weight": lib.from_numpy(w), "bias": lib.from_numpy(b)})
    xt = lib.from_numpy(x)

    def step():
        conv.weight.grad = conv.bias.grad = None
        conv(xt).sum().backward()
    benchmark(step)


def test_maxpool2d_forward_backward(benchmark, threads, contender, rng):
    x = rng.standard_normal((128, 32, 28, 28), dtype=np.float32)
    if contender == "numpy":
        record(benchmark, "max_pool2d 2x2 (128,32,28,28) fwd+bwd", "numpy (forward only)",
               threads)
        benchmark(lambda: x.reshape(128, 32, 14, 2, 14, 2).max(axis=(3, 5)))
        return
    record(benchmark, "max_pool2d 2x2 (128,32,28,28) fwd+bwd", contender, threads)
    lib = __import__("torch" if contender == "torch" else "fastnn")
    xt = lib.tensor(x, requires_grad=True)
    pool = lib.nn.MaxPool2d(2)

    def step():
        xt.grad = None
        pool(xt).sum().backward()
    benchmark(step)


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    return (rng.random((128, 1, 28, 28), dtype=np.float32),
            rng.integers(0, 10, 128).astype(np.int64))


def test_cnn_training_step(benchmark, threads, contender, batch):
    if contender == "numpy":
        pytest.skip("no NumPy CNN trainer")
    x, y = batch
    if contender == "torch":
        import torch as lib
        from torch import nn
        net = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))
    else:
        import fastnn as lib
        from fastnn import models
        net = models.build("cnn")
    opt = lib.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = lib.nn.CrossEntropyLoss()
    xt, yt = lib.from_numpy(x), lib.from_numpy(y)

    def step():
        loss = loss_fn(net(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    record(benchmark, "CNN training step (batch 128, Adam)", contender, threads)
    benchmark.pedantic(step, rounds=10, warmup_rounds=2)


def resnet18_on_torch():
    """torchvision's resnet18 for torch, built by fastnn's own port of its code (the benchmark
    machine has no torchvision): the same modules, so the same work for both."""
    import pathlib

    from fastnn.data import models
    source = pathlib.Path(models.__file__).with_name("resnet.py").read_text()
    namespace = {}
    exec(compile(source.replace("from fastnn import nn", "from torch import nn")
                 .replace("from fastnn.nn import functional", "from torch.nn import functional"),
                 "resnet_for_torch", "exec"), namespace)
    return namespace["resnet18"](num_classes=10)


def test_resnet18_training_step(benchmark, threads, contender):
    """A CIFAR-sized step: resnet18 on 32 x 32 images, batch 32, SGD with momentum. Its last
    stages convolve 4, 2 and 1 pixel images, where whole borders of 3x3 taps read padding."""
    if contender == "numpy":
        pytest.skip("no NumPy ResNet trainer")
    rng = np.random.default_rng(0)
    x = rng.random((32, 3, 32, 32), dtype=np.float32)
    y = rng.integers(0, 10, 32).astype(np.int64)
    if contender == "torch":
        import torch as lib
        net = resnet18_on_torch()
    else:
        import fastnn as lib
        from fastnn.data import models
        net = models.resnet18(num_classes=10)
    opt = lib.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    xt, yt = lib.from_numpy(x), lib.from_numpy(y)

    def step():
        loss = lib.nn.functional.cross_entropy(net(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    record(benchmark, "resnet18 training step (32x32, batch 32, SGD)", contender, threads)
    benchmark.pedantic(step, rounds=8, warmup_rounds=2)
