"""torchvision's image grid (fastnn.data.utils.make_grid / save_image) and data sets' .data and
.targets (pytorch/examples vae saves its samples with save_image; siamese_network regroups
MNIST through .data and .targets)."""
import numpy as np
import pytest

import fastnn
from fastnn.data import FashionMNIST, DatasetNotFoundError
from fastnn.data.utils import make_grid, save_image


def images(count, channels=1, h=2, w=3):
    return fastnn.arange(float(count * channels * h * w)).reshape(count, channels, h, w) / 100


def test_grid_tiles_nrow_to_a_row_with_padding():
    x = images(5)
    grid = make_grid(x, nrow=2, padding=1, pad_value=0.5).numpy()
    # 3 rows of 2 cells, each cell the image plus one pixel, one more pixel at the far edges
    assert grid.shape == (3, 3 * (2 + 1) + 1, 2 * (3 + 1) + 1)
    for k in range(5):
        y, xx = divmod(k, 2)
        cell = grid[:, 1 + 3 * y:1 + 3 * y + 2, 1 + 4 * xx:1 + 4 * xx + 3]
        for c in range(3):  # one channel repeated to three
            np.testing.assert_array_equal(cell[c], x.numpy()[k, 0])
    assert (grid[:, 0, :] == 0.5).all() and (grid[:, :, 0] == 0.5).all()
    assert (grid[:, 7:, 5:] == 0.5).all()  # the empty sixth cell


def test_grid_of_one_image_is_the_image_and_lists_stack():
    one = images(1, channels=3)
    np.testing.assert_array_equal(make_grid(one).numpy(), one.numpy()[0])
    np.testing.assert_array_equal(make_grid(images(1)[0, 0]).numpy(),
                                  np.stack([images(1).numpy()[0, 0]] * 3))
    as_list = [images(3)[i] for i in range(3)]
    np.testing.assert_array_equal(make_grid(as_list).numpy(), make_grid(images(3)).numpy())


def test_normalize_maps_the_range_to_zero_one():
    x = images(2) * 10 - 3
    grid = make_grid(x, normalize=True, padding=0).numpy()
    assert grid.min() == 0 and grid.max() == 1
    clipped = make_grid(x, normalize=True, value_range=(0.0, 1.0), padding=0).numpy()
    np.testing.assert_allclose(clipped, np.clip(make_grid(x, padding=0).numpy(), 0, 1))
    each = make_grid(x, normalize=True, scale_each=True, padding=0).numpy()
    assert each[:, :, :3].min() == 0 and each[:, :, 3:].max() == 1 and each[:, :, :3].max() == 1
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(x, normalize=True, value_range=[0, 1])
    with pytest.raises(ValueError, match="2, 3 or 4 dimensions"):
        make_grid(fastnn.ones(1, 1, 1, 1, 1))


def test_save_image_writes_the_grid_as_rounded_bytes(tmp_path):
    from PIL import Image
    x = fastnn.rand(4, 1, 5, 6)
    save_image(x, tmp_path / "grid.png", nrow=2)
    pixels = np.asarray(Image.open(tmp_path / "grid.png"))
    grid = make_grid(x, nrow=2).numpy().transpose(1, 2, 0)
    assert pixels.shape == grid.shape and pixels.dtype == np.uint8
    np.testing.assert_array_equal(pixels, np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def test_set():
    try:
        return FashionMNIST(train=False, download=False)
    except DatasetNotFoundError:
        pytest.skip("Fashion-MNIST is not installed (make data)")


def test_data_and_targets_are_torchvisions_tensors(test_set):
    assert test_set.data.dtype == fastnn.uint8 and tuple(test_set.data.shape) == (10000, 28, 28)
    assert test_set.targets.dtype == fastnn.int64 and tuple(test_set.targets.shape) == (10000,)
    assert test_set.class_to_idx["Ankle boot"] == 9
    # regrouped as siamese_network does: the images of one class, via where
    ones = fastnn.where(test_set.targets == 1)[0]
    assert (test_set.targets[ones] == 1).all()
    assert tuple(test_set.data.unsqueeze(1).clone()[ones].shape) == (len(ones), 1, 28, 28)


def test_assigning_data_and_targets_subsets_the_items():
    subset = FashionMNIST.__new__(FashionMNIST)
    subset.transform = subset.target_transform = None
    subset.data = fastnn.zeros(3, 28, 28, dtype=fastnn.uint8) + 255
    subset.targets = fastnn.tensor([4, 5, 6])
    image, label = subset[2]  # a PIL image without a transform, as torchvision's
    assert len(subset) == 3 and label == 6 and np.asarray(image).min() == 255
    with pytest.raises(ValueError, match="uint8 tensor of images"):
        subset.data = fastnn.zeros(3, 28, 28)
    with pytest.raises(ValueError, match="1-D integer tensor"):
        subset.targets = fastnn.zeros(3)
