"""softmax-cross-entropy forward+backward, ReLU forward+backward, and Linear+ReLU
forward+backward, each through the library's public API."""
import numpy as np
import pytest

from conftest import record


def xent_step(contender, logits, labels):
    if contender == "numpy":
        def step():  # the stable textbook version, what a NumPy user writes
            shifted = logits - logits.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            s = e.sum(axis=1, keepdims=True)
            loss = np.mean(np.log(s[:, 0]) - shifted[np.arange(len(labels)), labels])
            g = e / s
            g[np.arange(len(labels)), labels] -= 1
            g /= len(labels)
            return loss, g
        return step
    if contender == "torch":
        import torch
        x = torch.tensor(logits, requires_grad=True)
        y = torch.from_numpy(labels)

        def step():
            x.grad = None
            loss = torch.nn.functional.cross_entropy(x, y)
            loss.backward()
            return loss
        return step
    import fastnn
    x = fastnn.tensor(logits, requires_grad=True)
    y = fastnn.from_numpy(labels)

    def step():
        x.grad = None
        loss = fastnn.nn.functional.cross_entropy(x, y)
        loss.backward()
        return loss
    return step


@pytest.mark.parametrize("shape", [(256, 10), (4096, 1000)], ids=["256x10", "4096x1000"])
def test_softmax_cross_entropy(benchmark, shape, threads, contender, rng):
    logits = rng.standard_normal(shape, dtype=np.float32)
    labels = rng.integers(0, shape[1], shape[0])
    record(benchmark, f"cross_entropy fwd+bwd {shape[0]}x{shape[1]}", contender, threads)
    benchmark(xent_step(contender, logits, labels))


def relu_step(contender, x, g):
    if contender == "numpy":
        def step():
            y = np.maximum(x, 0)
            return y, g * (x > 0)
        return step
    if contender == "torch":
        import torch
        tx = torch.tensor(x, requires_grad=True)
        tg = torch.from_numpy(g)

        def step():
            tx.grad = None
            torch.relu(tx).backward(tg)
        return step
    import fastnn
    fx = fastnn.tensor(x, requires_grad=True)
    fg = fastnn.from_numpy(g)

    def step():
        fx.grad = None
        fastnn.relu(fx).backward(fg)
    return step


def test_relu(benchmark, threads, contender, rng):
    x = rng.standard_normal(1 << 20, dtype=np.float32)
    g = rng.standard_normal(1 << 20, dtype=np.float32)
    record(benchmark, "relu fwd+bwd 1M", contender, threads)
    benchmark(relu_step(contender, x, g))


def test_full_sum(benchmark, threads, contender, rng):
    """x.sum() of a conv layer's output ((64,128,14,14), 6.4 MB), as `conv(x).sum()` reduces
    in every conv benchmark: fastnn's sum kernel (kernels/reduce.c) on each backend, NumPy's
    pairwise sum, torch.sum."""
    x = rng.standard_normal((64, 128, 14, 14), dtype=np.float32)
    record(benchmark, "sum of a (64,128,14,14) tensor", contender, threads)
    if contender == "numpy":
        benchmark(np.sum, x)
        return
    lib = __import__("torch" if contender == "torch" else "fastnn")
    t = lib.from_numpy(x)
    benchmark(t.sum)


def linear_relu_step(contender, x, w, b, g):
    if contender == "numpy":
        def step():
            h = x @ w.T + b
            np.maximum(h, 0, out=h)
            gh = g * (h > 0)
            return gh.T @ x, gh.sum(axis=0), h
        return step
    if contender == "torch":
        import torch as lib
        state = {"0.weight": torch_tensor(w), "0.bias": torch_tensor(b)}
    else:
        import fastnn as lib
        state = {"0.weight": w, "0.bias": b}
    layer = lib.nn.Sequential(lib.nn.Linear(784, 256), lib.nn.ReLU())
    layer.load_state_dict(state)
    xt, gt = lib.from_numpy(x), lib.from_numpy(g)

    def step():
        layer[0].weight.grad = layer[0].bias.grad = None
        layer(xt).backward(gt)
    return step


def torch_tensor(array):
    import torch
    return torch.from_numpy(array)


def test_linear_relu(benchmark, threads, contender, rng):
    x = rng.random((256, 784), dtype=np.float32)
    w = (rng.standard_normal((256, 784)) * 0.05).astype(np.float32)
    b = np.zeros(256, np.float32)
    g = rng.standard_normal((256, 256), dtype=np.float32)
    record(benchmark, "Linear(784,256)+ReLU fwd+bwd batch 256", contender, threads,
           flops=2 * 2 * 256 * 784 * 256)
    benchmark(linear_relu_step(contender, x, w, b, g))
