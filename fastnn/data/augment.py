"""Training-time augmentation for image batches, vectorised over the batch (no per-image
Python): random horizontal flips and random translations by up to `shift` pixels with zero fill
(the 'pad and random crop' of CIFAR/Fashion-MNIST training recipes)."""
import numpy as np


def flip_and_shift(images, rng, shift=2):
    """images: (B, H, W) uint8 or float; returns a new array of the same shape and dtype."""
    b, h, w = images.shape
    out = images.copy()
    flip = rng.random(b) < 0.5
    out[flip] = out[flip, :, ::-1]
    if shift:
        padded = np.zeros((b, h + 2 * shift, w + 2 * shift), dtype=images.dtype)
        padded[:, shift:shift + h, shift:shift + w] = out
        dy = rng.integers(0, 2 * shift + 1, b)
        dx = rng.integers(0, 2 * shift + 1, b)
        rows = dy[:, None] + np.arange(h)[None, :]  # (b, h)
        cols = dx[:, None] + np.arange(w)[None, :]  # (b, w)
        out = padded[np.arange(b)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return out
