"""torchvision.transforms' names for the image transforms the Fashion-MNIST programs and
pytorch/examples use: ToTensor, ToPILImage, Normalize, Compose, Lambda, Resize, CenterCrop,
RandomHorizontalFlip, RandomVerticalFlip, RandomCrop, RandomResizedCrop, ColorJitter,
Grayscale, RandomGrayscale. They take a PIL image, a NumPy array
(H, W[, C]) or a tensor (C, H, W), as torchvision's do; random choices are torchvision's
draws (torch.rand(1) for a flip, torch.randint for a crop's corner) on fastnn's generator, so
a seed makes torch's choices."""
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


def _rand():
    """torch.rand(1)'s value, as a float32."""
    return random.rng().uniform_values((1,), 0.0, 1.0, np.float32)[0]


def _randint(high):
    """torch.randint(0, high, size=(1,)).item()."""
    return int(random.rng().randint_values(0, high, (1,))[0])


class RandomHorizontalFlip:
    """Mirror left-right with probability p (torchvision: torch.rand(1) < p)."""

    axis = -1  # of a tensor (C, H, W); of an array (H, W[, C]) the width axis

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        if not _rand() < np.float32(self.p):
            return img
        if _is_pil(img):
            from PIL import Image
            return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT if self.axis == -1
                                 else Image.Transpose.FLIP_TOP_BOTTOM)
        if isinstance(img, Tensor):
            return img.flip(self.axis)
        array = np.asarray(img)
        width_axis = array.ndim - 1 if array.ndim == 2 else 1
        return np.ascontiguousarray(np.flip(array, width_axis if self.axis == -1 else 0))

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top-bottom with probability p."""

    axis = -2


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
        # torchvision draws no corner when the crop is the whole image
        i, j = (0, 0) if (h, w) == (th, tw) else (_randint(h - th + 1), _randint(w - tw + 1))
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


class ToPILImage:
    """A tensor (C, H, W) or array (H, W, C) as a PIL image: floats x 255 to bytes, mode L, LA,
    RGB or RGBA by the channel count (or `mode`), as torchvision's."""

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        from PIL import Image
        if isinstance(pic, Tensor):
            array = pic.detach()._data
            if array.ndim == 2:
                array = array[np.newaxis]
            if array.ndim != 3:
                raise ValueError(f"pic should be 2/3 dimensional. Got {array.ndim} dimensions.")
            if array.dtype.kind == "f" and self.mode != "F":
                # torch's pic.mul(255).byte(): a float to uint8 conversion keeps the low byte
                array = (array * 255).astype(np.int64).astype(np.uint8)
            array = array.transpose(1, 2, 0)
        else:
            array = np.asarray(pic)
            if array.ndim == 2:
                array = array[:, :, np.newaxis]
            if array.ndim != 3:
                raise ValueError(f"pic should be 2/3 dimensional. Got {array.ndim} dimensions.")
        channels = array.shape[-1]
        if channels > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {channels} channels.")
        if channels == 1:
            return Image.fromarray(np.ascontiguousarray(array[:, :, 0]), mode=self.mode)
        return Image.fromarray(np.ascontiguousarray(array), mode=self.mode)

    def __repr__(self):
        return f"{type(self).__name__}({f'mode={self.mode}' if self.mode else ''})"


def _size_pair(size, what):
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    size = tuple(size)
    if len(size) == 1:
        return int(size[0]), int(size[0])
    if len(size) != 2:
        raise ValueError(f"Please provide only two dimensions (h, w) for {what}.")
    return int(size[0]), int(size[1])


def _image_size(img):
    """(height, width) of a PIL image, a tensor (..., H, W) or an array (H, W[, C])."""
    if _is_pil(img):
        return img.size[1], img.size[0]
    if isinstance(img, Tensor):
        return tuple(img.shape[-2:])
    return np.asarray(img).shape[:2]


class Resize:
    """Resize to `size` (h, w), or with an int, the shorter side to `size` keeping the aspect
    ratio (the longer side truncated, capped by max_size), as torchvision's. PIL images go
    through PIL's resampling (bilinear by default); tensors through interpolate, bilinear with
    antialias."""

    def __init__(self, size, interpolation="bilinear", max_size=None, antialias=True):
        self.size, self.max_size, self.antialias = size, max_size, antialias
        self.interpolation = getattr(interpolation, "value", interpolation)

    def _output_size(self, h, w):
        if not isinstance(self.size, numbers.Number) and len(self.size) == 2:
            return int(self.size[0]), int(self.size[1])
        requested = int(self.size if isinstance(self.size, numbers.Number) else self.size[0])
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = requested, int(requested * long / short)
        if self.max_size is not None:
            if self.max_size <= requested:
                raise ValueError(f"max_size = {self.max_size} must be strictly greater than the "
                                 f"requested size for the smaller edge size = {self.size}")
            if new_long > self.max_size:
                new_short, new_long = int(self.max_size * new_short / new_long), self.max_size
        return (new_long, new_short) if w <= h else (new_short, new_long)  # (h, w)

    def __call__(self, img):
        h, w = _image_size(img)
        new_h, new_w = self._output_size(h, w)
        if _is_pil(img):
            from PIL import Image
            methods = {"nearest": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR,
                       "bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS,
                       "box": Image.Resampling.BOX, "hamming": Image.Resampling.HAMMING}
            return img.resize((new_w, new_h), methods[self.interpolation])
        from fastnn.nn import functional as F
        tensor = img if isinstance(img, Tensor) else ToTensor()(img)
        batch = tensor.reshape((-1,) + tuple(tensor.shape[-3:])) if tensor.ndim >= 3 else \
            tensor.reshape(1, 1, h, w)
        mode = self.interpolation
        if mode not in ("nearest", "nearest-exact", "bilinear"):
            raise NotImplementedError(f"Resize of a tensor with {mode!r} interpolation is not "
                                      "implemented in fastnn (nearest, nearest-exact, bilinear; "
                                      "a PIL image takes every PIL resampling)")
        out = F.interpolate(batch.float(), size=(new_h, new_w), mode=mode,
                            align_corners=False if mode == "bilinear" else None,
                            antialias=bool(self.antialias) and mode == "bilinear")
        return out.reshape(tuple(tensor.shape[:-2]) + (new_h, new_w))

    def __repr__(self):
        return (f"{type(self).__name__}(size={self.size}, interpolation={self.interpolation}, "
                f"max_size={self.max_size}, antialias={self.antialias})")


class CenterCrop:
    """The centre (h, w) window, the image zero-padded first where it is smaller, as
    torchvision's (the top-left corner at round((H - h) / 2), round((W - w) / 2))."""

    def __init__(self, size):
        self.size = _size_pair(size, "size")

    def __call__(self, img):
        th, tw = self.size
        h, w = _image_size(img)
        if _is_pil(img):
            if th > h or tw > w:  # zero-padded as an array, then an image of the same mode
                from PIL import Image
                return Image.fromarray(self(np.asarray(img)), mode=img.mode)
            top, left = int(round((h - th) / 2.0)), int(round((w - tw) / 2.0))
            return img.crop((left, top, left + tw, top + th))
        tensor = isinstance(img, Tensor)
        array = img._data if tensor else np.asarray(img)
        if not tensor and array.ndim == 3:  # (H, W, C) arrays: crop the first two axes
            array = array.transpose(2, 0, 1)
        if th > h or tw > w:
            pad_top, pad_left = (th - h) // 2 if th > h else 0, (tw - w) // 2 if tw > w else 0
            pad = [(0, 0)] * (array.ndim - 2) + [
                (pad_top, (th - h + 1) // 2 if th > h else 0),
                (pad_left, (tw - w + 1) // 2 if tw > w else 0)]
            array = np.pad(array, pad)
            h, w = array.shape[-2:]
        top, left = int(round((h - th) / 2.0)), int(round((w - tw) / 2.0))
        out = np.ascontiguousarray(array[..., top:top + th, left:left + tw])
        if tensor:
            return Tensor._wrap(out)
        return np.ascontiguousarray(out.transpose(1, 2, 0)) if out.ndim == 3 else out

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size})"


class RandomResizedCrop:
    """A random window of the image, covering `scale` of its area with an aspect ratio in
    `ratio` (log-uniform), resized to `size`: torchvision's draws (up to 10 tries of
    uniform_ area and log-ratio, then randint corners; the central crop if none fits) on
    fastnn's generator."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation="bilinear", antialias=True):
        self.size = _size_pair(size, "size")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            import warnings
            warnings.warn("Scale and ratio should be of kind (min, max)")
        self.scale, self.ratio = scale, ratio
        self.resize = Resize(self.size, interpolation=interpolation, antialias=antialias)

    def get_params(self, img):
        import math
        height, width = _image_size(img)
        area = height * width
        log_ratio = np.log(np.asarray(self.ratio, np.float32))
        stream = random.rng()
        for _ in range(10):
            target_area = area * float(stream.uniform_values((1,), self.scale[0], self.scale[1],
                                                             np.float32)[0])
            aspect = float(np.exp(stream.uniform_values((1,), log_ratio[0], log_ratio[1],
                                                        np.float32))[0])
            w = int(round(math.sqrt(target_area * aspect)))
            h = int(round(math.sqrt(target_area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                return _randint(height - h + 1), _randint(width - w + 1), h, w
        in_ratio = width / height
        if in_ratio < min(self.ratio):
            w, h = width, int(round(width / min(self.ratio)))
        elif in_ratio > max(self.ratio):
            h, w = height, int(round(height * max(self.ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def __call__(self, img):
        i, j, h, w = self.get_params(img)
        if _is_pil(img):
            window = img.crop((j, i, j + w, i + h))
        elif isinstance(img, Tensor):
            window = img[..., i:i + h, j:j + w]
        else:
            window = np.asarray(img)[i:i + h, j:j + w]
        return self.resize(window)

    def __repr__(self):
        return (f"{type(self).__name__}(size={self.size}, scale={self.scale}, "
                f"ratio={self.ratio})")


# the colour transforms live in their own module; torchvision has them under transforms
from fastnn.data.color import ColorJitter, Grayscale, RandomGrayscale  # noqa: E402,F401
