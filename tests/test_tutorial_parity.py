"""Details the intro tutorials print: linspace's points to the last bit (torch's two-ended FMA
formula, not NumPy's), and how number-op-tensor expressions are recorded (2 * b is MulBackward0
with b's edge first, 2 - b RsubBackward1 and 2 ** b PowBackward2 with one edge, 2 / b a
reciprocal times 2)."""
import math

import numpy as np
import pytest

import fastnn

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional peer
    torch = None


@pytest.mark.skipif(torch is None, reason="torch not installed")
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("start,end,steps", [(0, 2 * math.pi, 25), (-3.7, 12.1, 1000),
                                             (5, -5, 17), (0, 1, 1), (0, 1, 0), (-50, 50, 4097)])
def test_linspace_matches_torch_bit_for_bit(start, end, steps, dtype):
    mine = fastnn.linspace(start, end, steps, dtype=getattr(fastnn, dtype)).numpy()
    theirs = torch.linspace(start, end, steps, dtype=getattr(torch, dtype)).numpy()
    assert np.array_equal(mine, theirs)


def _names(node):
    return [None if f is None else f.name() for f, _ in node.next_functions]


def test_number_op_tensor_is_recorded_as_torch_records_it():
    b = fastnn.ones(2, requires_grad=True) * 1
    assert _names((2 * b).grad_fn) == ["MulBackward0", None]
    assert _names((2 + b).grad_fn) == ["MulBackward0", None]
    assert (2 - b).grad_fn.name() == "RsubBackward1" and _names((2 - b).grad_fn) == ["MulBackward0"]
    assert (2 ** b).grad_fn.name() == "PowBackward2" and _names((2 ** b).grad_fn) == ["MulBackward0"]
    assert _names((2 / b).grad_fn) == ["ReciprocalBackward0", None]
    x = fastnn.tensor([1.0, 2.0], requires_grad=True)
    ((2 - x) + 2 ** x + 2 / x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-1 + 2 * math.log(2) - 2, -1 + 4 * math.log(2) - 0.5],
                               rtol=1e-6)
    with pytest.raises(RuntimeError, match="with a bool tensor is not supported"):
        1 - fastnn.tensor([True])
    assert (2 - fastnn.tensor([1, 2])).dtype == fastnn.int64
    assert (2.0 ** fastnn.tensor([1, 2])).dtype == fastnn.float32
