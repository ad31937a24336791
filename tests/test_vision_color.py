"""ColorJitter, Grayscale, RandomGrayscale and RandomVerticalFlip (fastnn/data/color.py,
transforms.py): torchvision's draws, checked against the same calls on torch; the tensor
formulas against colorsys and the definitions; the PIL path against PIL's own enhancers."""
import colorsys

import numpy as np
import pytest

import fastnn
from fastnn.data import transforms
from fastnn.data.color import adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional test peer
    torch = None


def _image(seed=0, shape=(3, 5, 6)):
    return fastnn.from_numpy(np.random.default_rng(seed).random(shape, dtype=np.float32))


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize("seed", range(5))
def test_color_jitter_draws_torchvisions_numbers(seed):
    """torchvision's get_params: randperm(4), then uniform_ on a 1-element tensor for each
    factor that is not None, in the order brightness, contrast, saturation, hue."""
    jitter = transforms.ColorJitter(brightness=0.5, contrast=(0.2, 1.7), hue=0.3)
    torch.manual_seed(seed)
    order = torch.randperm(4)
    factors = [float(torch.empty(1).uniform_(lo, hi)) for lo, hi in ((0.5, 1.5), (0.2, 1.7),
                                                                        (-0.3, 0.3))]
    fastnn.manual_seed(seed)
    ours = jitter.get_params(jitter.brightness, jitter.contrast, jitter.saturation, jitter.hue)
    assert ours[0].tolist() == order.tolist()
    assert [ours[1], ours[2], ours[4]] == factors and ours[3] is None
    assert repr(jitter) == ("ColorJitter(brightness=(0.5, 1.5), contrast=(0.2, 1.7), "
                            "saturation=None, hue=(-0.3, 0.3))")


def test_tensor_formulas():
    x = _image()
    a = x.numpy()
    np.testing.assert_allclose(adjust_brightness(x, 1.7).numpy(), np.clip(a * 1.7, 0, 1),
                               rtol=1e-6)
    grey = 0.2989 * a[0] + 0.587 * a[1] + 0.114 * a[2]
    np.testing.assert_allclose(adjust_saturation(x, 0.3).numpy(),
                               np.clip(0.3 * a + 0.7 * grey, 0, 1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(adjust_contrast(x, 2.0).numpy(),
                               np.clip(2 * a - grey.mean(), 0, 1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(adjust_hue(x, 0.0).numpy(), a, atol=1e-6)
    shifted = adjust_hue(x, -0.2).numpy()
    for i, j in [(0, 0), (2, 3), (4, 5)]:
        h, s, v = colorsys.rgb_to_hsv(*a[:, i, j])
        np.testing.assert_allclose(shifted[:, i, j], colorsys.hsv_to_rgb((h - 0.2) % 1, s, v),
                                   atol=1e-5)
    u8 = fastnn.from_numpy((a * 255).astype(np.uint8))
    assert adjust_brightness(u8, 2.0).dtype == fastnn.uint8
    assert adjust_hue(u8, 0.1).dtype == fastnn.uint8
    with pytest.raises(ValueError, match=r"hue_factor \(0.7\) is not in \[-0.5, 0.5\]"):
        adjust_hue(x, 0.7)


def test_pil_path_is_pils_enhancers():
    from PIL import Image, ImageEnhance
    img = Image.fromarray((np.random.default_rng(1).random((6, 7, 3)) * 255).astype(np.uint8))
    assert np.array_equal(np.asarray(adjust_contrast(img, 1.4)),
                          np.asarray(ImageEnhance.Contrast(img).enhance(1.4)))
    assert adjust_hue(img, 0.25).size == img.size
    assert adjust_hue(img.convert("L"), 0.25).mode == "L"
    fastnn.manual_seed(0)
    out = transforms.ColorJitter(0.4, 0.4, 0.4, 0.1)(img)
    assert out.size == img.size and out.mode == "RGB"


def test_grayscale_and_random_grayscale():
    x = _image()
    g1 = transforms.Grayscale()(x)
    g3 = transforms.Grayscale(num_output_channels=3)(x)
    assert tuple(g1.shape) == (1, 5, 6) and tuple(g3.shape) == (3, 5, 6)
    a = x.numpy()
    np.testing.assert_allclose(g1.numpy()[0], 0.2989 * a[0] + 0.587 * a[1] + 0.114 * a[2],
                               rtol=1e-6)
    always = transforms.RandomGrayscale(p=1.0)(x)
    assert tuple(always.shape) == (3, 5, 6)  # as many channels as the input
    assert transforms.RandomGrayscale(p=0.0)(x) is x


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
def test_vertical_flip_draws_and_flips():
    x = _image(shape=(2, 4, 3))
    torch.manual_seed(3)
    flips = [bool(torch.rand(1) < 0.5) for _ in range(8)]
    fastnn.manual_seed(3)
    flip = transforms.RandomVerticalFlip()
    for expected in flips:
        out = flip(x).numpy()
        np.testing.assert_array_equal(out, x.numpy()[:, ::-1] if expected else x.numpy())
    from PIL import Image
    img = Image.fromarray((x.numpy()[0] * 255).astype(np.uint8))
    flipped = transforms.RandomVerticalFlip(p=1.0)(img)
    assert np.array_equal(np.asarray(flipped), np.asarray(img)[::-1])
    array = (x.numpy()[0] * 255).astype(np.uint8)
    assert np.array_equal(transforms.RandomVerticalFlip(p=1.0)(array), array[::-1])
    assert np.array_equal(transforms.RandomHorizontalFlip(p=1.0)(array), array[:, ::-1])
