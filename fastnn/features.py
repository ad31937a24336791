"""Feature maps of a trained CNN (`fastnn features OUT`): run a few test images through the
model layer by layer and draw each conv, pool and activation output as an image grid, the way
the source notes look at them."""
from pathlib import Path

import numpy as np

import fastnn
from fastnn import nn

SHOWN = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.ReLU, nn.LeakyReLU,
         nn.Sigmoid, nn.Tanh, nn.BatchNorm2d)


@fastnn.no_grad()
def feature_maps(model, images):
    """[(name, array (n, c, h, w))]: the input, then each shown layer's output, running the
    layers one at a time (so fused pairs are seen separately)."""
    x = fastnn.tensor(images)
    maps = [("input", x.numpy())]
    for index, layer in enumerate(model):
        x = layer(x)
        if isinstance(layer, SHOWN) and x.ndim == 4:
            maps.append((f"{index}_{type(layer).__name__}", x.numpy()))
    return maps


def tile(maps, channels=16):
    """One 2-D image: a row per example, its first `channels` channels side by side, each
    scaled to [0, 1] on its own (so weak and strong channels are both visible)."""
    n, c, h, w = maps.shape
    c = min(c, channels)
    pad = 1
    out = np.ones((n * (h + pad) - pad, c * (w + pad) - pad), dtype=np.float32)
    for i in range(n):
        for j in range(c):
            m = maps[i, j]
            lo, hi = float(m.min()), float(m.max())
            scaled = (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)
            out[i * (h + pad):i * (h + pad) + h, j * (w + pad):j * (w + pad) + w] = scaled
    return out


def write_pngs(maps, out_dir, title_prefix=""):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for k, (name, array) in enumerate(maps):
        grid = tile(array)
        height = max(2.0, grid.shape[0] / 28 * 0.9)
        fig, ax = plt.subplots(figsize=(max(4.0, grid.shape[1] / 28 * 0.9), height))
        ax.imshow(grid, cmap="viridis" if name != "input" else "gray")
        ax.axis("off")
        c = array.shape[1]
        ax.set_title(f"{title_prefix}{name}: {array.shape[2]}x{array.shape[3]}, "
                     f"{min(c, 16)} of {c} channels (rows: test images)", fontsize=9)
        fig.tight_layout()
        path = Path(out_dir) / f"features_{k:02d}_{name}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
    return paths


def features(out, n=8, log=print):
    from fastnn import training
    from fastnn.data import FashionMNIST
    from fastnn.evaluation import load_model

    model, config = load_model(out)
    if not any(isinstance(m, nn.Conv2d) for m in model.modules()):
        raise ValueError(f"{out} holds a {config.model} model, which has no convolution layers; "
                         "feature maps need --model cnn or cnn2")
    test = FashionMNIST(config.data or None, train=False)
    paths = write_pngs(feature_maps(model, training.model_inputs(config, test.images[:n])), out)
    log(f"wrote {len(paths)} feature-map grids: " + ", ".join(p.name for p in paths))
    return paths
