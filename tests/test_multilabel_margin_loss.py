"""nn.MultiLabelMarginLoss: values and gradients against torch and finite differences, with
-1-terminated target lists, repeated targets, 1-D input, and torch's errors."""
import numpy as np
import pytest

import fastnn
from conftest import requires_torch
from gradcheck import check_op, raised

try:
    import torch
except ImportError:
    torch = None

TARGETS = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [2, 2, 4, -1, -1], [-1, 0, 0, 0, 0]])


@requires_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_matches_torch(reduction):
    x = np.random.default_rng(0).standard_normal((4, 5))
    results = []
    for m in (fastnn, torch):
        t = m.tensor(x, requires_grad=True)
        loss = m.nn.MultiLabelMarginLoss(reduction=reduction)(t, m.tensor(TARGETS))
        loss.sum().backward()
        results.append((loss.detach().numpy(), t.grad.numpy()))
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    one = [m.nn.functional.multilabel_margin_loss(m.tensor(x[0]), m.tensor(TARGETS[0])).item()
           for m in (fastnn, torch)]
    assert one[0] == pytest.approx(one[1], rel=1e-12)


def test_gradient_matches_finite_differences():
    x = np.random.default_rng(1).standard_normal((4, 5))
    check_op(lambda a: fastnn.nn.functional.multilabel_margin_loss(
        a, fastnn.tensor(TARGETS), reduction="none"), [x])


@requires_torch
def test_errors_are_torchs():
    def errors(m):
        f = m.nn.functional.multilabel_margin_loss
        return raised([lambda: f(m.rand(2, 4), m.tensor([[3, 0, -1, 1]])),
                       lambda: f(m.rand(2, 4), m.tensor([[5, 0, -1, 1], [1, 2, 3, -1]])),
                       lambda: f(m.rand(2, 4), m.tensor([[1.0, 0, -1, 1], [1, 2, 3, -1]])),
                       lambda: f(m.rand(2, 3, 4), m.zeros(2, 3, 4, dtype=m.int64))])
    assert errors(fastnn) == errors(torch)
