"""torchvision's Resize, CenterCrop, ToPILImage, ImageFolder and FakeData (fastnn.data), and
the random transforms drawing torchvision's numbers: after the same seed, torch.rand(1) for a
flip and torch.randint for a crop's corner, so augmentations match torch's."""
import numpy as np
import pytest
from PIL import Image

import fastnn
from fastnn.data import datasets, transforms


def test_resize_shorter_side_keeps_the_aspect_ratio():
    img = Image.fromarray(np.zeros((30, 45, 3), np.uint8))
    assert transforms.Resize(20)(img).size == (30, 20)  # (w, h): 45 * 20 / 30
    assert transforms.Resize((10, 12))(img).size == (12, 10)
    assert transforms.Resize(20, max_size=25)(img).size == (25, 16)
    with pytest.raises(ValueError, match="must be strictly greater"):
        transforms.Resize(20, max_size=20)(img)
    tall = fastnn.rand(3, 50, 20)
    assert tuple(transforms.Resize(10)(tall).shape) == (3, 25, 10)


def test_resize_of_a_pil_image_is_pils_bilinear():
    pixels = np.random.default_rng(0).integers(0, 256, (16, 16), dtype=np.uint8)
    img = Image.fromarray(pixels)
    expected = np.asarray(img.resize((8, 8), Image.Resampling.BILINEAR))
    np.testing.assert_array_equal(np.asarray(transforms.Resize(8)(img)), expected)


def test_center_crop_rounds_the_corner_and_pads_small_images():
    x = fastnn.arange(30.0).reshape(1, 5, 6)
    np.testing.assert_array_equal(transforms.CenterCrop(2)(x).numpy()[0],
                                  x.numpy()[0, 2:4, 2:4])  # round(1.5) = 2, round(2.0) = 2
    padded = transforms.CenterCrop((7, 6))(x).numpy()[0]
    assert padded.shape == (7, 6) and (padded[0] == 0).all() and (padded[-1] == 0).all()
    np.testing.assert_array_equal(padded[1:6], x.numpy()[0])
    img = Image.fromarray(np.arange(30, dtype=np.uint8).reshape(5, 6))
    np.testing.assert_array_equal(np.asarray(transforms.CenterCrop(2)(img)),
                                  np.arange(30).reshape(5, 6)[2:4, 2:4])
    # a PIL image smaller than the crop is zero-padded too (super_resolution's 255 x 255 crop)
    big = transforms.CenterCrop((7, 6))(Image.fromarray(np.full((5, 6, 3), 9, np.uint8)))
    assert big.size == (6, 7) and big.mode == "RGB"
    pixels = np.asarray(big)
    assert (pixels[0] == 0).all() and (pixels[-1] == 0).all() and (pixels[1:6] == 9).all()


def test_to_pil_image_modes_and_bytes():
    x = fastnn.tensor([[[0.0, 0.5], [1.0, 0.25]]])
    img = transforms.ToPILImage()(x)
    assert img.mode == "L"
    np.testing.assert_array_equal(np.asarray(img), [[0, 127], [255, 63]])  # x 255, truncated
    assert transforms.ToPILImage()(fastnn.rand(3, 4, 5)).mode == "RGB"
    assert transforms.ToPILImage()(fastnn.rand(4, 4, 5)).mode == "RGBA"
    with pytest.raises(ValueError, match="> 4 channels"):
        transforms.ToPILImage()(fastnn.rand(5, 4, 5))
    round_trip = transforms.ToTensor()(transforms.ToPILImage()(
        fastnn.tensor(np.arange(12, dtype=np.uint8).reshape(3, 2, 2))))
    np.testing.assert_allclose(round_trip.numpy() * 255, np.arange(12).reshape(3, 2, 2))


def test_image_folder_finds_classes_in_torchvisions_order(tmp_path):
    for name, count in (("dog", 2), ("cat", 3)):
        (tmp_path / name).mkdir()
        for i in range(count):
            Image.fromarray(np.full((4, 5, 3), i * 10, np.uint8)).save(tmp_path / name / f"{i}.png")
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    data = datasets.ImageFolder(tmp_path, transform=transforms.ToTensor())
    assert data.classes == ["cat", "dog"] and data.class_to_idx == {"cat": 0, "dog": 1}
    assert len(data) == 5 and data.targets == [0, 0, 0, 1, 1]
    image, label = data[4]
    assert tuple(image.shape) == (3, 4, 5) and label == 1 and float(image.max()) == pytest.approx(10 / 255)
    (tmp_path / "bird").mkdir()
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes bird"):
        datasets.ImageFolder(tmp_path)
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        datasets.ImageFolder(tmp_path / "dog")


def test_fake_data_items_are_seeded_by_index_and_leave_the_stream():
    data = datasets.FakeData(size=4, image_size=(3, 6, 6), num_classes=5,
                             transform=transforms.ToTensor())
    fastnn.manual_seed(3)
    before = fastnn.get_rng_state()
    first, label = data[2]
    assert fastnn.get_rng_state().equal(before) if hasattr(before, "equal") else True
    again, label_again = data[2]
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    assert label == label_again and 0 <= label < 5 and tuple(first.shape) == (3, 6, 6)
    with pytest.raises(IndexError):
        data[4]


def test_random_transforms_draw_torchvisions_numbers():
    torch = pytest.importorskip("torch")
    img = fastnn.arange(48.0).reshape(3, 4, 4)
    flip, crop = transforms.RandomHorizontalFlip(), transforms.RandomCrop(3, padding=1)
    torch.manual_seed(11)
    expected = []
    for _ in range(8):  # torchvision's draws, made by hand
        flipped = bool(torch.rand(1) < 0.5)
        i = torch.randint(0, 6 - 3 + 1, size=(1,)).item()
        j = torch.randint(0, 6 - 3 + 1, size=(1,)).item()
        expected.append((flipped, i, j))
    fastnn.manual_seed(11)
    padded = np.pad(img.numpy(), [(0, 0), (1, 1), (1, 1)])
    for flipped, i, j in expected:
        out = flip(img).numpy()
        np.testing.assert_array_equal(out, img.numpy()[..., ::-1] if flipped else img.numpy())
        np.testing.assert_array_equal(crop(img).numpy(), padded[:, i:i + 3, j:j + 3])
    # a crop of the whole image draws nothing, as torchvision's
    state = fastnn.get_rng_state()
    transforms.RandomCrop(4)(img)
    assert np.array_equal(np.asarray(fastnn.get_rng_state()), np.asarray(state))


def test_tensor_device_flags_and_is_set_to():
    torch = pytest.importorskip("torch")
    for lib in (torch, fastnn):
        x = lib.ones(3)
        assert (x.is_xpu, x.is_mps, x.is_mkldnn, x.is_nested) == (False,) * 4
        assert x.is_set_to(x.view(3)) and not x.is_set_to(lib.ones(3))
        assert not x.is_distributed()


@pytest.mark.parametrize("shape, size, align_corners", [
    ((1, 2, 16, 16), (5, 5), False), ((2, 1, 17, 9), (4, 13), False),
    ((1, 1, 8, 8), (16, 16), False), ((1, 1, 10, 7), (3, 3), True)])
def test_antialiased_bilinear_matches_torch_forward_and_backward(shape, size, align_corners):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).random(shape).astype(np.float32)
    g = np.random.default_rng(1).random(shape[:2] + size).astype(np.float32)
    outs = []
    for lib in (torch, fastnn):
        xt = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.interpolate(xt, size=size, mode="bilinear",
                                          align_corners=align_corners, antialias=True)
        y.backward(lib.tensor(g))
        outs.append((y.detach().numpy(), xt.grad.numpy()))
    np.testing.assert_allclose(outs[1][0], outs[0][0], atol=1e-6)
    np.testing.assert_allclose(outs[1][1], outs[0][1], atol=1e-6)


def test_antialias_is_refused_where_torch_refuses_it():
    torch = pytest.importorskip("torch")
    for lib in (torch, fastnn):
        with pytest.raises(ValueError, match="Anti-alias option is restricted"):
            lib.nn.functional.interpolate(lib.ones(1, 1, 4, 4), size=(2, 2), mode="nearest",
                                          antialias=True)
    with pytest.raises(NotImplementedError, match="'bicubic' interpolation"):
        transforms.Resize(3, interpolation="bicubic")(fastnn.rand(1, 6, 6))


def test_random_resized_crop_draws_torchvisions_windows():
    torch = pytest.importorskip("torch")
    import math

    def torchvision_window(height, width, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)):
        # torchvision's RandomResizedCrop.get_params, written out on torch
        area = height * width
        log_ratio = torch.log(torch.tensor(ratio))
        for _ in range(10):
            target_area = area * torch.empty(1).uniform_(scale[0], scale[1]).item()
            aspect = torch.exp(torch.empty(1).uniform_(log_ratio[0], log_ratio[1])).item()
            w = int(round(math.sqrt(target_area * aspect)))
            h = int(round(math.sqrt(target_area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                return (torch.randint(0, height - h + 1, size=(1,)).item(),
                        torch.randint(0, width - w + 1, size=(1,)).item(), h, w)
        raise AssertionError("the test's shapes always fit")

    crop = transforms.RandomResizedCrop(8)
    torch.manual_seed(5)
    expected = [torchvision_window(40, 30) for _ in range(6)]
    image = fastnn.rand(3, 40, 30)
    fastnn.manual_seed(5)
    assert [crop.get_params(image) for _ in range(6)] == expected
    assert tuple(crop(image).shape) == (3, 8, 8)
    pil = Image.fromarray(np.zeros((40, 30, 3), np.uint8))
    assert crop(pil).size == (8, 8)
    # no window fits a 1-pixel-high strip: the central crop at the largest ratio
    assert transforms.RandomResizedCrop(4).get_params(fastnn.rand(1, 1, 50)) == (0, 24, 1, 1)
