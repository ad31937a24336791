"""Convolutions, pooling and batch norm in float64 compute in float64 (on the NumPy reference
kernels), as torch's double ops do, so double-precision gradcheck and gradgradcheck hold for
them (the "Fusing Convolution and Batch Norm" tutorial gradchecks its convolution in double);
values against torch's double results when torch is installed; the grad_fn names of the
pooling ops as torch's."""
import numpy as np
import pytest

import fastnn
from fastnn.autograd import gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional peer
    torch = None

F = fastnn.nn.functional


def _ops(lib):
    f = lib.nn.functional
    return {
        "conv2d": lambda x, w: f.conv2d(x, w, stride=2, padding=1),
        "conv2d groups dilation": lambda x, w: f.conv2d(x, w[:4, :2], groups=2, dilation=2),
        "conv_transpose2d": lambda x, w: f.conv_transpose2d(x, w.transpose(0, 1)[:, :3], stride=2,
                                                           padding=1, output_padding=1),
        "conv1d": lambda x, w: f.conv1d(x.flatten(2), w[:, :, 0], padding=1),
        "max_pool2d": lambda x, w: f.max_pool2d(x, 3, stride=2, padding=1),
        "avg_pool2d": lambda x, w: f.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
        "adaptive_avg_pool2d": lambda x, w: f.adaptive_avg_pool2d(x, (2, 3)),
        "batch_norm": lambda x, w: f.batch_norm(x, None, None, w[0, :, 0, 0], w[1, :, 0, 0],
                                                training=True),
    }


def _inputs(lib, requires_grad=True):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.random((2, 4, 6, 5)), requires_grad=requires_grad)
    w = lib.tensor(rng.random((5, 4, 3, 3)), requires_grad=requires_grad)
    return x, w


@pytest.mark.parametrize("name", list(_ops(fastnn)))
def test_float64_gradcheck_and_gradgradcheck(name):
    op = _ops(fastnn)[name]
    x, w = _inputs(fastnn)
    assert op(x, w).dtype == fastnn.float64
    assert gradcheck(op, (x, w))
    assert gradgradcheck(op, (x, w))


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("name", list(_ops(fastnn)))
def test_float64_values_and_grad_fn_as_torch(name):
    found = []
    for lib in (fastnn, torch):
        x, w = _inputs(lib)
        out = _ops(lib)[name](x, w)
        out.square().sum().backward()
        found.append((out.detach().numpy(), x.grad.numpy(),
                      None if w.grad is None else w.grad.numpy(), out.grad_fn.name()))
    for a, b in zip(*found):
        if isinstance(a, np.ndarray):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        else:
            assert a == b


def test_mixed_float64_input_and_float32_weight_is_refused_as_torch():
    with pytest.raises(RuntimeError, match=r"Input type \(double\) and weight type \(float\)"):
        F.conv2d(fastnn.rand(1, 3, 5, 5, dtype=fastnn.float64), fastnn.rand(4, 3, 3, 3))


def test_a_double_model_trains_in_double():
    net = fastnn.nn.Sequential(fastnn.nn.Conv2d(3, 4, 3), fastnn.nn.BatchNorm2d(4),
                               fastnn.nn.ReLU(), fastnn.nn.MaxPool2d(2),
                               fastnn.nn.AdaptiveAvgPool2d(1), fastnn.nn.Flatten()).double()
    y = net(fastnn.rand(2, 3, 8, 8, dtype=fastnn.float64))
    y.sum().backward()
    assert y.dtype == net[0].weight.grad.dtype == net[1].running_mean.dtype == fastnn.float64


@pytest.mark.parametrize("kwargs", [dict(kernel_size=3, stride=2, padding=1, divisor_override=2),
                                    dict(kernel_size=2, divisor_override=3, ceil_mode=True),
                                    dict(kernel_size=3, padding=1, count_include_pad=False,
                                         divisor_override=5)])
def test_avg_pool_divisor_override(kwargs):
    """Each window's sum over the given divisor: against the sums by hand (and torch's)."""
    x = np.random.default_rng(1).random((2, 3, 7, 6))
    t = fastnn.tensor(x, requires_grad=True)
    out = F.avg_pool2d(t, **kwargs)
    plain = {k: v for k, v in kwargs.items() if k != "divisor_override"}
    assert out.shape == F.avg_pool2d(t, **plain).shape
    assert gradcheck(lambda v: F.avg_pool2d(v, **kwargs), (t,))
    if torch is not None:
        expected = torch.nn.functional.avg_pool2d(torch.tensor(x), **kwargs).numpy()
        np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-13)
        expected32 = torch.nn.functional.avg_pool2d(torch.tensor(x, dtype=torch.float32),
                                                    **kwargs).numpy()
        got32 = F.avg_pool2d(fastnn.tensor(x, dtype=fastnn.float32), **kwargs).numpy()
        np.testing.assert_allclose(got32, expected32, rtol=1e-6)
    window = x[:, :, :kwargs["kernel_size"], :kwargs["kernel_size"]].sum(axis=(2, 3))
    if kwargs.get("padding", 0) == 0:
        np.testing.assert_allclose(out.detach().numpy()[:, :, 0, 0],
                                   window / kwargs["divisor_override"], rtol=1e-13)
    for bad, error in ((0, RuntimeError), (1.5, TypeError)):
        with pytest.raises(error):
            F.avg_pool2d(t, 2, divisor_override=bad)
