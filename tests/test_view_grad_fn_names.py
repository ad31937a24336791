"""A view's grad_fn is its own op's node (SqueezeBackward1, SelectBackward0 ...), as torch's;
only after its base is changed in place does it become a fresh AsStridedBackward0. Reading
grad_fn used to replace every view's node with AsStridedBackward0."""
import pytest

import fastnn

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional peer
    torch = None

VIEWS = [lambda t: t.squeeze(-2), lambda t: t.squeeze(), lambda t: t.squeeze((1, 2)),
         lambda t: t.unsqueeze(0), lambda t: t.view(8, 3), lambda t: t.transpose(0, 1),
         lambda t: t[0], lambda t: t.permute(1, 0, 2, 3), lambda t: t.reshape(8, 3),
         lambda t: t.expand(3, 2, 4, 1, 3), lambda t: t[:, 1:3]]
EXPECTED = ["SqueezeBackward1", "SqueezeBackward0", "SqueezeBackward2", "UnsqueezeBackward0",
            "ViewBackward0", "TransposeBackward0", "SelectBackward0", "PermuteBackward0",
            "ViewBackward0", "ExpandBackward0", "SliceBackward0"]


def _names(lib):
    x = lib.rand(2, 4, 1, 3, requires_grad=True)
    names = [view(x * 2).grad_fn.name() for view in VIEWS]
    y = x * 2
    v = y[0]
    first = v.grad_fn.name()
    y.mul_(2)
    names += [first, v.grad_fn.name(), v.grad_fn.name()]
    v.sum().backward()
    return names, x.grad.sum().item()


def test_view_grad_fn_names():
    names, total = _names(fastnn)
    assert names == EXPECTED + ["SelectBackward0", "AsStridedBackward0", "AsStridedBackward0"]
    assert total == pytest.approx(4 * 4 * 3)
    if torch is not None:
        assert _names(torch)[0] == names
