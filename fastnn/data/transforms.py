"""torchvision.transforms' names for the image transforms the Fashion-MNIST programs use:
ToTensor, Normalize, Compose, Lambda, RandomHorizontalFlip, RandomCrop. They take a PIL image,
a NumPy array (H, W[, C]) or a tensor (C, H, W), as torchvision's do; random choices come from
fastnn's generator (fastnn.manual_seed)."""
import numbers

import numpy as np

from fastnn import random
from fastnn.tensor import Tensor


def _is_pil(img):
    return type(img).__module__.startswith("PIL.")


class Compose:
    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        inner = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({inner}\n)"


class Lambda:
    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return f"{type(self).__name__}()"


class ToTensor:
    """A PIL image or (H, W[, C]) array as a float tensor (C, H, W); uint8 values are scaled
    to [0, 1], other dtypes kept as they are (torchvision's rule)."""

    def __call__(self, pic):
        array = np.asarray(pic)
        if array.ndim == 2:
            array = array[:, :, None]
        if array.ndim != 3:
            raise ValueError(f"pic should be 2/3 dimensional. Got {array.ndim} dimensions.")
        chw = np.ascontiguousarray(array.transpose(2, 0, 1))
        if chw.dtype == np.uint8:
            return Tensor._wrap(chw.astype(np.float32) / np.float32(255))
        return Tensor._wrap(chw.astype(np.float32) if chw.dtype.kind != "f" else chw)

    def __repr__(self):
        return f"{type(self).__name__}()"


class Normalize:
    """(x - mean[c]) / std[c] per channel of a (..., C, H, W) float tensor."""

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"Input tensor should be a torch tensor. Got {type(tensor)}.")
        if tensor._data.dtype.kind != "f":
            raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
        dtype = tensor._data.dtype
        mean = np.asarray(self.mean, dtype).reshape(-1, 1, 1)
        std = np.asarray(self.std, dtype).reshape(-1, 1, 1)
        if (std == 0).any():
            raise ValueError(f"std evaluated to zero after conversion to {dtype}, leading to "
                             f"division by zero.")
        out = (tensor._data - mean) / std
        if self.inplace:
            tensor._data[...] = out
            return tensor
        return Tensor._wrap(out.astype(dtype, copy=False))

    def __repr__(self):
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class RandomHorizontalFlip:
    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        if random.generator().random() >= self.p:
            return img
        if _is_pil(img):
            from PIL import Image
            return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        if isinstance(img, Tensor):
            return img.flip(-1)
        return np.ascontiguousarray(np.asarray(img)[..., ::-1] if np.ndim(img) == 2
                                    else np.asarray(img)[:, ::-1])

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomCrop:
    """Pad (constant fill) by `padding`, then cut a random size window, as torchvision's."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = (size, size) if isinstance(size, numbers.Number) else tuple(size)
        self.padding, self.pad_if_needed, self.fill = padding, pad_if_needed, fill
        if padding_mode != "constant":
            raise NotImplementedError("RandomCrop: only padding_mode='constant' is implemented")

    def __call__(self, img):
        pil = _is_pil(img)
        tensor = isinstance(img, Tensor)
        array = img._data if tensor else np.asarray(img)
        hw_last = tensor or array.ndim == 2  # (C, H, W) / (H, W) versus PIL's (H, W, C)
        if not hw_last:
            array = array.transpose(2, 0, 1)
        if self.padding is not None:
            left, top, right, bottom = _padding(self.padding)
            pad = [(0, 0)] * (array.ndim - 2) + [(top, bottom), (left, right)]
            array = np.pad(array, pad, constant_values=self.fill)
        h, w = array.shape[-2:]
        th, tw = self.size
        if self.pad_if_needed and (h < th or w < tw):
            pad = [(0, 0)] * (array.ndim - 2) + [(0, max(th - h, 0)), (0, max(tw - w, 0))]
            array = np.pad(array, pad, constant_values=self.fill)
            h, w = array.shape[-2:]
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size "
                             f"{(h, w)}")
        i = int(random.generator().integers(0, h - th + 1))
        j = int(random.generator().integers(0, w - tw + 1))
        out = np.ascontiguousarray(array[..., i:i + th, j:j + tw])
        if tensor:
            return Tensor._wrap(out)
        if not hw_last:
            out = out.transpose(1, 2, 0)
        if pil:
            from PIL import Image
            return Image.fromarray(out.squeeze(-1) if out.ndim == 3 and out.shape[-1] == 1
                                   else out)
        return out

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


def _padding(padding):
    if isinstance(padding, numbers.Number):
        return (padding,) * 4
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    return tuple(padding)
