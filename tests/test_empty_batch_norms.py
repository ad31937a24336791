"""Batch norm and layer norm on empty inputs, as torch: an empty batch gives an empty output,
zero gradients and untouched running statistics; zero channels no longer divide by zero
(ZeroDivisionError before, found by a fuzz of the layers over degenerate inputs); layer norm
of an empty input raises no NumPy warning."""
import warnings

import numpy as np
import pytest

import fastnn


@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 4, 4), (2, 0), (2, 0, 3, 3)])
def test_batch_norm_of_empty_input(shape):
    x = fastnn.zeros(*shape, requires_grad=True)
    layer = (fastnn.nn.BatchNorm1d if len(shape) == 2 else fastnn.nn.BatchNorm2d)(shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = layer(x)
        y.sum().backward()
    assert tuple(y.shape) == shape and tuple(x.grad.shape) == shape
    assert np.all(layer.running_mean.numpy() == 0) and np.all(layer.running_var.numpy() == 1)
    assert np.all(layer.weight.grad.numpy() == 0) and np.all(layer.bias.grad.numpy() == 0)


def test_one_value_per_channel_is_still_refused():
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        fastnn.nn.BatchNorm1d(3)(fastnn.zeros(1, 3))


def test_layer_norm_of_empty_input():
    x = fastnn.zeros(2, 0, requires_grad=True)
    layer = fastnn.nn.LayerNorm(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = layer(x)
        y.sum().backward()
        z = fastnn.nn.LayerNorm(4)(fastnn.zeros(0, 4, requires_grad=True))
        z.sum().backward()
    assert tuple(y.shape) == (2, 0) and tuple(layer.weight.grad.shape) == (0,)
    assert tuple(z.shape) == (0, 4)


def test_batch_norm_matches_torch_on_empty_batches():
    torch = pytest.importorskip("torch")
    for lib in (fastnn, torch):
        x = lib.zeros(0, 3, 4, 4, requires_grad=True)
        layer = lib.nn.BatchNorm2d(3)
        layer(x).sum().backward()
        assert layer.running_mean.tolist() == [0.0, 0.0, 0.0]
        assert layer.weight.grad.tolist() == [0.0, 0.0, 0.0]
