"""torchvision's colour transforms: ColorJitter, Grayscale, RandomGrayscale, on PIL images
(through PIL's ImageEnhance and HSV conversion, as torchvision's PIL backend) and on (..., C,
H, W) tensors (torchvision's tensor formulas: a blend with black, the mean grey level or the
grey image, clamped to the dtype's range; hue through RGB -> HSV -> RGB). ColorJitter draws
torchvision's numbers on fastnn's generator: randperm(4) for the order, then one uniform_ per
enabled factor, so a seed makes torch's choices (d2l's image-augmentation chapter)."""
import numbers

import numpy as np

from fastnn import creation
from fastnn.tensor import Tensor

# ITU-R 601-2 luma, torchvision's rgb_to_grayscale weights
_LUMA = (0.2989, 0.587, 0.114)


def _is_pil(img):
    return type(img).__module__.startswith("PIL.")


def _channels(img):
    if _is_pil(img):
        return len(img.getbands())
    return img._data.shape[-3] if img._data.ndim >= 3 else 1


def _tensor_image(img):
    if not isinstance(img, Tensor):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
    if img._data.ndim < 2:
        raise TypeError(f"Tensor is not a torch image. Got {img._data.ndim} dimensions")
    return img._data


def _bound(array):
    return 1.0 if array.dtype.kind == "f" else 255.0


def _blend(image, other, ratio):
    """torchvision's _blend: ratio * image + (1 - ratio) * other, clamped, in image's dtype."""
    ratio = float(ratio)
    work = image.dtype if image.dtype.kind == "f" else np.float32
    mixed = ratio * image.astype(work) + (1.0 - ratio) * np.asarray(other, work)
    return np.clip(mixed, 0, _bound(image)).astype(image.dtype)


def _grey(image):
    """(..., 1, H, W) luma of a (..., 3, H, W) array, in its dtype (uint8 truncated)."""
    r, g, b = image[..., 0, :, :], image[..., 1, :, :], image[..., 2, :, :]
    work = image.dtype if image.dtype.kind == "f" else np.float32
    luma = _LUMA[0] * r.astype(work) + _LUMA[1] * g.astype(work) + _LUMA[2] * b.astype(work)
    return luma.astype(image.dtype)[..., None, :, :]


def rgb_to_grayscale(img, num_output_channels=1):
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if _is_pil(img):
        from PIL import Image
        grey = img.convert("L")
        if num_output_channels == 3:
            grey = Image.fromarray(np.dstack([np.asarray(grey)] * 3), "RGB")
        return grey
    image = _tensor_image(img)
    if image.shape[-3] not in (1, 3):
        raise TypeError(f"Input image tensor permitted channel values are [1, 3], but found "
                        f"{image.shape[-3]}")
    grey = _grey(image) if image.shape[-3] == 3 else image.copy()
    if num_output_channels == 3:
        grey = np.concatenate([grey] * 3, axis=-3)
    return Tensor._wrap(np.ascontiguousarray(grey))


def adjust_brightness(img, brightness_factor):
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    if _is_pil(img):
        from PIL import ImageEnhance
        return ImageEnhance.Brightness(img).enhance(brightness_factor)
    image = _tensor_image(img)
    return Tensor._wrap(_blend(image, np.zeros_like(image), brightness_factor))


def adjust_contrast(img, contrast_factor):
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    if _is_pil(img):
        from PIL import ImageEnhance
        return ImageEnhance.Contrast(img).enhance(contrast_factor)
    image = _tensor_image(img)
    work = image.dtype if image.dtype.kind == "f" else np.float32
    levels = _grey(image) if image.shape[-3] == 3 else image
    mean = levels.astype(work).mean(axis=(-3, -2, -1), keepdims=True, dtype=work)
    return Tensor._wrap(_blend(image, mean, contrast_factor))


def adjust_saturation(img, saturation_factor):
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    if _is_pil(img):
        from PIL import ImageEnhance
        return ImageEnhance.Color(img).enhance(saturation_factor)
    image = _tensor_image(img)
    if image.shape[-3] == 1:
        return img
    return Tensor._wrap(_blend(image, _grey(image), saturation_factor))


def _rgb_to_hsv(image):
    r, g, b = image[..., 0, :, :], image[..., 1, :, :], image[..., 2, :, :]
    maxc, minc = image.max(axis=-3), image.min(axis=-3)
    flat = maxc == minc
    spread = maxc - minc
    one = np.ones_like(maxc)
    s = spread / np.where(flat, one, maxc)
    divisor = np.where(flat, one, spread)
    rc, gc, bc = (maxc - r) / divisor, (maxc - g) / divisor, (maxc - b) / divisor
    h = ((maxc == r) * (bc - gc) + ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
         + ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)).astype(image.dtype)
    h = np.fmod(h / np.asarray(6.0, image.dtype) + np.asarray(1.0, image.dtype),
                np.asarray(1.0, image.dtype))
    return h, s, maxc


def _hsv_to_rgb(h, s, v):
    sector = np.floor(h * 6.0)
    f = h * 6.0 - sector
    sector = sector.astype(np.int32) % 6
    p = np.clip(v * (1.0 - s), 0.0, 1.0)
    q = np.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    r = np.choose(sector, (v, q, p, p, t, v))
    g = np.choose(sector, (t, v, v, q, p, p))
    b = np.choose(sector, (p, p, t, v, v, q))
    return np.stack((r, g, b), axis=-3).astype(v.dtype)


def adjust_hue(img, hue_factor):
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    if _is_pil(img):
        from PIL import Image
        if img.mode in {"L", "1", "I", "F"}:
            return img
        h, s, v = img.convert("HSV").split()
        hue = np.array(h, dtype=np.uint8)
        with np.errstate(over="ignore", invalid="ignore"):  # uint8 wrap-around, as PIL's
            hue += np.array(hue_factor * 255).astype(np.uint8)
        return Image.merge("HSV", (Image.fromarray(hue, "L"), s, v)).convert(img.mode)
    image = _tensor_image(img)
    if image.shape[-3] == 1:
        return img
    work = image.astype(np.float32) / np.float32(255) if image.dtype == np.uint8 else image
    h, s, v = _rgb_to_hsv(work)
    h = np.fmod(h + np.asarray(hue_factor, h.dtype), np.asarray(1.0, h.dtype))
    h = np.where(h < 0, h + np.asarray(1.0, h.dtype), h)  # torch's % is a floored modulo
    rgb = _hsv_to_rgb(h, s, v)
    if image.dtype == np.uint8:  # torchvision's convert_image_dtype: * (256 - 1e-3), truncated
        rgb = (rgb * np.float32(255 + 1.0 - 1e-3)).astype(np.uint8)
    return Tensor._wrap(rgb)


def _factor_range(value, name, center=1.0, bound=(0, float("inf")), clip_first_on_zero=True):
    """torchvision's ColorJitter._check_input: a number v is [center - v, center + v] (the low
    end clipped at 0), a pair is taken as it is; None where the range is the identity."""
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be non negative.")
        value = [center - float(value), center + float(value)]
        if clip_first_on_zero:
            value[0] = max(value[0], 0.0)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        value = [float(value[0]), float(value[1])]
    else:
        raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
    if not bound[0] <= value[0] <= value[1] <= bound[1]:
        raise ValueError(f"{name} values should be between {bound}, but got {value}.")
    return None if value[0] == value[1] == center else tuple(value)


class ColorJitter:
    """Random brightness, contrast, saturation and hue changes in a random order."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = _factor_range(brightness, "brightness")
        self.contrast = _factor_range(contrast, "contrast")
        self.saturation = _factor_range(saturation, "saturation")
        self.hue = _factor_range(hue, "hue", center=0, bound=(-0.5, 0.5),
                                 clip_first_on_zero=False)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue):
        order = creation.randperm(4)
        factors = [None if r is None else float(creation.empty(1).uniform_(r[0], r[1]).item())
                   for r in (brightness, contrast, saturation, hue)]
        return (order, *factors)

    def __call__(self, img):
        order, *factors = self.get_params(self.brightness, self.contrast, self.saturation,
                                          self.hue)
        adjust = (adjust_brightness, adjust_contrast, adjust_saturation, adjust_hue)
        for k in order.tolist():
            if factors[k] is not None:
                img = adjust[k](img, factors[k])
        return img

    def __repr__(self):
        return (f"{type(self).__name__}(brightness={self.brightness}, contrast={self.contrast}"
                f", saturation={self.saturation}, hue={self.hue})")


class Grayscale:
    def __init__(self, num_output_channels=1):
        self.num_output_channels = num_output_channels

    def __call__(self, img):
        return rgb_to_grayscale(img, self.num_output_channels)

    def __repr__(self):
        return f"{type(self).__name__}(num_output_channels={self.num_output_channels})"


class RandomGrayscale:
    """Grey (as many channels as the input) with probability p: torch.rand(1) < p."""

    def __init__(self, p=0.1):
        self.p = p

    def __call__(self, img):
        channels = _channels(img)
        if np.float32(creation.rand(1).item()) < np.float32(self.p):  # torch.rand(1) < p
            return rgb_to_grayscale(img, num_output_channels=channels)
        return img

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"
