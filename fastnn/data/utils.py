"""torchvision.utils' image grids: make_grid and save_image, so that `from torchvision.utils
import save_image` ports as `from fastnn.data.utils import save_image` (pytorch/examples vae
and dcgan save their samples so). The same layout and scaling as torchvision's: images tiled
nrow to a row with `padding` pixels of pad_value between and around them, one-channel images
repeated to three, and normalize=True mapping value_range (default: the images' min and max)
to [0, 1]; save_image writes the grid as 8-bit pixels, x 255 rounded, through Pillow."""
import math

import numpy as np

from fastnn.tensor import Tensor


def _images(tensor):
    """The input as a float array (B, C, H, W), with torchvision's promotions."""
    if isinstance(tensor, (list, tuple)):
        if not tensor:
            raise ValueError("make_grid expects a non-empty list of tensors")
        array = np.stack([_array(t) for t in tensor])
    else:
        array = _array(tensor)
    if array.ndim == 2:  # one image (H, W)
        array = array[np.newaxis]
    if array.ndim == 3:  # one image (C, H, W)
        if array.shape[0] == 1:
            array = np.concatenate([array] * 3, axis=0)
        array = array[np.newaxis]
    if array.ndim != 4:
        raise ValueError(f"tensor should have 2, 3 or 4 dimensions, got {array.ndim}")
    if array.shape[1] == 1:
        array = np.concatenate([array] * 3, axis=1)
    return array


def _array(t):
    if isinstance(t, Tensor):
        t = t.detach()._data
    array = np.asarray(t)
    return array.astype(np.float32) if array.dtype != np.float64 else array.copy()


def _normalized(array, value_range, scale_each):
    if value_range is not None and not (isinstance(value_range, tuple) and len(value_range) == 2):
        raise TypeError("value_range has to be a tuple (min, max) if specified. min and max "
                        "are numbers")

    def scale(img):
        low, high = ((float(img.min()), float(img.max())) if value_range is None
                     else value_range)
        np.clip(img, low, high, out=img)
        img -= low
        img /= max(high - low, 1e-5)

    if scale_each:
        for img in array:
            scale(img)
    else:
        scale(array)
    return array


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False,
              pad_value=0.0, **kwargs):
    """The images of a (B, C, H, W) tensor (or a list of (C, H, W) ones) as one (C, H', W')
    image, nrow to a row."""
    array = _images(tensor)
    if normalize:
        array = _normalized(array, value_range, scale_each)
    if array.shape[0] == 1:
        return Tensor._wrap(array[0])
    count, channels, h, w = array.shape
    across = min(nrow, count)
    down = int(math.ceil(count / across))
    cell_h, cell_w = h + padding, w + padding
    grid = np.full((channels, cell_h * down + padding, cell_w * across + padding), pad_value,
                   dtype=array.dtype)
    for k in range(count):
        y, x = divmod(k, across)
        top, left = y * cell_h + padding, x * cell_w + padding
        grid[:, top:top + h, left:left + w] = array[k]
    return Tensor._wrap(grid)


def save_image(tensor, fp, format=None, **kwargs):
    """Write make_grid(tensor, **kwargs) to fp (a path or a binary file) as an image file."""
    from PIL import Image

    grid = make_grid(tensor, **kwargs)._data
    pixels = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    Image.fromarray(np.ascontiguousarray(pixels)).save(fp, format=format)
