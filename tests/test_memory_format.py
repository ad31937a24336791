"""torch.memory_format (the channels-last tutorial): layouts as strides, conversions,
preserve_format in clone and the *_like constructors, Module.to(memory_format=...), and
convolution, pooling, batch norm and ReLU keeping a channels_last input's layout; values and
gradients do not depend on the layout."""
import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn.nn import functional as F

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional peer
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def _layouts(lib):
    """Strides and flags the tutorial prints, for fastnn and torch alike."""
    found = []
    x = lib.empty(2, 3, 4, 5)
    found.append(x.stride())
    cl = x.contiguous(memory_format=lib.channels_last)
    found += [cl.shape, cl.stride(), cl.is_contiguous(memory_format=lib.channels_last),
              cl.is_contiguous()]
    found.append(cl.contiguous(memory_format=lib.contiguous_format).stride())
    found.append(x.to(memory_format=lib.channels_last).stride())
    found.append(lib.empty(2, 3, 4, 5, memory_format=lib.channels_last).stride())
    found += [lib.zeros_like(cl).stride(), lib.ones_like(cl).stride(),
              lib.empty_like(cl).stride(), lib.randn_like(cl).stride(),
              lib.ones_like(cl, memory_format=lib.contiguous_format).stride(),
              cl.clone().stride(), (cl * 2).stride(), cl.contiguous().stride()]
    a = lib.ones(3, 4)
    found += [a.t().clone().stride(), a[:, ::2].clone().stride(), a.t().contiguous().stride()]
    found.append(lib.ones(1, 3, 1, 1).is_contiguous(memory_format=lib.channels_last))
    try:
        lib.ones(2, 3).contiguous(memory_format=lib.channels_last)
    except RuntimeError as exc:
        found.append(str(exc))
    return found


@requires_torch
def test_layouts_match_torch():
    assert _layouts(fastnn) == _layouts(torch)


def test_channels_last_layers_keep_the_layout_and_the_values():
    fastnn.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Conv2d(8, 4, 3), nn.AvgPool2d(2))
    x = fastnn.randn(2, 3, 12, 12)
    plain = net(x)
    plain.sum().backward()
    grads = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    net.to(memory_format=fastnn.channels_last)
    assert net[0].weight.is_contiguous(memory_format=fastnn.channels_last)
    xc = x.contiguous(memory_format=fastnn.channels_last)
    h = xc
    for layer in net:  # every layer keeps channels_last
        h = layer(h)
        assert h.is_contiguous(memory_format=fastnn.channels_last), layer
    np.testing.assert_allclose(h.detach().numpy(), plain.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    h.sum().backward()
    for p, g in zip(net.parameters(), grads):
        np.testing.assert_allclose(p.grad.numpy(), g.numpy(), rtol=1e-4, atol=1e-5)
    assert F.relu(xc).is_contiguous(memory_format=fastnn.channels_last)


def test_memory_format_objects():
    assert repr(fastnn.channels_last) == "fastnn.channels_last"
    assert isinstance(fastnn.preserve_format, fastnn.memory_format)
    with pytest.raises(TypeError, match="memory_format must be a torch.memory_format"):
        fastnn.ones(2, 3, 4, 5).contiguous(memory_format="channels_last")
