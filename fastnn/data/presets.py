"""torchvision.transforms._presets.ImageClassification: what a pretrained classifier's
weights expect (weights.transforms()): resize the shorter side to resize_size (bilinear,
antialiased), centre-crop crop_size, scale to [0, 1] floats, normalise by ImageNet's channel
mean and std. Takes a PIL image or a (..., C, H, W) tensor."""
import numpy as np

from fastnn.tensor import Tensor

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ImageClassification:
    def __init__(self, *, crop_size, resize_size=256, mean=IMAGENET_MEAN, std=IMAGENET_STD,
                 interpolation="bilinear", antialias=True):
        from fastnn.data import transforms
        self.crop_size, self.resize_size = [crop_size], [resize_size]
        self.mean, self.std = list(mean), list(std)
        self.interpolation, self.antialias = interpolation, antialias
        self._resize = transforms.Resize(resize_size, interpolation=interpolation,
                                         antialias=antialias)
        self._crop = transforms.CenterCrop(crop_size)
        self._normalize = transforms.Normalize(mean, std)

    def __call__(self, img):
        img = self._crop(self._resize(img))
        if not isinstance(img, Tensor):  # torchvision's pil_to_tensor: (C, H, W) uint8
            array = np.asarray(img)
            img = Tensor._wrap(np.ascontiguousarray(
                array[None] if array.ndim == 2 else array.transpose(2, 0, 1)))
        data = img._data
        if data.dtype == np.uint8:  # convert_image_dtype: / 255
            data = data.astype(np.float32) / np.float32(255)
        elif data.dtype.kind != "f":
            data = data.astype(np.float32)
        return self._normalize(Tensor._wrap(data))

    def __repr__(self):
        return (f"{type(self).__name__}(\n    crop_size={self.crop_size}\n"
                f"    resize_size={self.resize_size}\n    mean={self.mean}\n"
                f"    std={self.std}\n    interpolation=InterpolationMode.BILINEAR\n)")
