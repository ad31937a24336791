"""grad_fn names of matmul over every pair of ranks 1-4 (and broadcast batches) and of linear
over input ranks 1-4, with and without a bias, against torch: d2l's attention code prints
`Q @ K^T` and LazyLinear outputs of 3-D batches (UnsafeViewBackward0, ViewBackward0)."""
import itertools

import pytest

import fastnn

torch = pytest.importorskip("torch")

SHAPES = {1: (3,), 2: (3, 3), 3: (2, 3, 3), 4: (2, 2, 3, 3)}
BROADCAST = [((1, 3, 3), (3, 3, 3)), ((1, 3, 3), (1, 3, 3)), ((1, 1, 3, 3), (2, 3, 3, 3)),
             ((2, 3), (2, 3, 4)), ((3,), (1, 3, 4)), ((1, 3, 3), (2, 2, 3, 3))]
CASES = [(SHAPES[a], SHAPES[b]) for a, b in itertools.product(SHAPES, repeat=2)] + BROADCAST


def _matmul_names(lib, sa, sb):
    names = []
    for side in ("a", "b", "ab"):
        a = lib.ones(sa, requires_grad="a" in side)
        b = lib.ones(sb, requires_grad="b" in side)
        names.append((a @ b).grad_fn.name())
    return names


@pytest.mark.parametrize("sa,sb", CASES)
def test_matmul_grad_fn_names_match_torch(sa, sb):
    assert _matmul_names(fastnn, sa, sb) == _matmul_names(torch, sa, sb)


def _linear_graph(lib, shape, bias):
    x = lib.ones(shape, requires_grad=True)
    w = lib.ones(5, 3, requires_grad=True)
    b = lib.ones(5, requires_grad=True) if bias else None
    node = lib.nn.functional.linear(x, w, b).grad_fn
    inner = node.next_functions[0][0]
    return node.name(), inner.name(), [f.name() if f is not None else None
                                       for f, _ in inner.next_functions]


@pytest.mark.parametrize("shape", [(3,), (4, 3), (2, 4, 3), (2, 2, 4, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_graph_names_match_torch(shape, bias):
    assert _linear_graph(fastnn, shape, bias) == _linear_graph(torch, shape, bias)


def test_linear_3d_gradients_flow_through_the_presented_graph():
    x = fastnn.ones(2, 4, 3, requires_grad=True)
    layer = fastnn.nn.Linear(3, 5)
    y = layer(x)
    assert y.grad_fn.name() == "ViewBackward0"
    y.sum().backward()
    assert x.grad.shape == (2, 4, 3) and layer.weight.grad.shape == (5, 3)
    assert float(layer.bias.grad[0]) == 8.0
