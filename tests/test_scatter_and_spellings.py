"""scatter / scatter_reduce with gradients (against finite differences and torch), and torch's
other spellings: module-level functional ops, inverse hyperbolics and erfc, in-place method
aliases, index_put / index_copy / masked_scatter, broadcast_shapes and the global switches."""
import math
import warnings

import numpy as np
import pytest

import fastnn
from gradcheck import check_op

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional peer
    torch = None

INDEX = np.array([[0, 1, 2, 0, 1], [2, 0, 1, 1, 0]])


def test_scatter_forward_and_gradients():
    index = fastnn.tensor(INDEX)
    check_op(lambda x, s: x.scatter(0, index, s),
             [np.random.default_rng(0).standard_normal((3, 5)),
              np.random.default_rng(1).standard_normal((2, 5))],
             torch_fn=None if torch is None else
             (lambda x, s: x.scatter(0, torch.from_numpy(INDEX), s)))
    one_hot = fastnn.zeros(4, 3).scatter_(1, fastnn.tensor([[1], [0], [2], [1]]), 1)
    assert one_hot.argmax(1).tolist() == [1, 0, 2, 1] and one_hot.sum().item() == 4


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_matches_torch_with_ties_and_zeros(reduce, include_self):
    if torch is None:
        pytest.skip("torch not installed")
    base, src = [1., 2., 0., 4.], [3., 0., 5., 2., 2., 7.]  # zeros (prod) and ties (amax)
    index, weights = [0, 1, 0, 1, 2, 1], [1., 2., 3., 4.]
    results = []
    for lib in (fastnn, torch):
        a = lib.tensor(base, requires_grad=True)
        s = lib.tensor(src, requires_grad=True)
        out = a.scatter_reduce(0, lib.tensor(index), s, reduce=reduce, include_self=include_self)
        (out * lib.tensor(weights)).sum().backward()
        results.append([out.detach().numpy(), a.grad.numpy(), s.grad.numpy()])
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6)


def test_scatter_validation_messages():
    x, src = fastnn.zeros(3, 5), fastnn.ones(2, 5)
    with pytest.raises(RuntimeError, match="Expected dtype int32/int64 for index"):
        x.scatter(0, fastnn.tensor(INDEX).float(), src)
    with pytest.raises(RuntimeError, match="index 5 is out of bounds for dimension 0 with size 3"):
        x.scatter(0, fastnn.tensor([[5]]), src)
    with pytest.raises(RuntimeError, match="Index tensor must have the same number of dimensions"):
        x.scatter(0, fastnn.tensor([0, 1]), src)
    with pytest.raises(RuntimeError, match="Expected self.dtype to be equal to src.dtype"):
        x.scatter(0, fastnn.tensor(INDEX), src.double())
    with pytest.raises(RuntimeError, match="reduce argument must be either add or multiply"):
        x.scatter(0, fastnn.tensor(INDEX), 1.0, reduce="max")


def test_inverse_hyperbolics_and_erfc():
    check_op(fastnn.asinh, [[0.5, -0.25, 0.9]])
    check_op(fastnn.atanh, [[0.5, -0.25, 0.3]])
    check_op(fastnn.acosh, [[1.5, 2.0, 3.0]])
    check_op(fastnn.erfc, [[0.5, -0.25, 1.5]])
    tail = fastnn.erfc(fastnn.tensor([4.0, 5.0]))  # where 1 - erf(x) would be 0 in float32
    np.testing.assert_allclose(tail.numpy(), [math.erfc(4.0), math.erfc(5.0)], rtol=1e-6)
    assert fastnn.arcsinh.__name__ == "arcsinh"


def test_in_place_aliases_are_recorded():
    a = fastnn.tensor([1., 2., 3.])
    a.eq_(fastnn.tensor([1., 0., 3.]))
    assert a.tolist() == [1., 0., 1.] and a.dtype == fastnn.float32
    w = fastnn.ones(3, requires_grad=True)
    h = w * 2
    h.multiply_(3).subtract_(1)
    h.sum().backward()
    assert w.grad.tolist() == [6., 6., 6.]


def test_index_put_copy_and_masked_scatter():
    t = fastnn.zeros(3, 4)
    put = t.index_put((fastnn.tensor([0, 2]), fastnn.tensor([1, 3])), fastnn.tensor([5., 6.]))
    assert put[0, 1].item() == 5 and put[2, 3].item() == 6 and t.sum().item() == 0
    v = fastnn.tensor([1., 2.], requires_grad=True)
    base = fastnn.zeros(3, requires_grad=True)
    out = base.index_put((fastnn.tensor([0, 0]),), v, accumulate=True)  # duplicates summed
    (out * fastnn.tensor([1., 2., 3.])).sum().backward()
    assert out.tolist() == [3., 0., 0.] and base.grad.tolist() == [1., 2., 3.]
    assert v.grad.tolist() == [1., 1.] and out.grad_fn.name() == "IndexPutBackward0"
    copied = fastnn.zeros(3, 2).index_copy(0, fastnn.tensor([2, 0]),
                                           fastnn.tensor([[1., 2.], [3., 4.]]))
    assert copied.tolist() == [[3., 4.], [0., 0.], [1., 2.]]
    mask = fastnn.tensor([[True, False], [False, True]])
    assert fastnn.zeros(2, 2).masked_scatter(mask, fastnn.tensor([7., 8., 9.])).tolist() == \
        [[7., 0.], [0., 8.]]
    with pytest.raises(RuntimeError, match="Number of elements of source < number of ones"):
        fastnn.zeros(2, 2).masked_scatter(mask, fastnn.tensor([7.]))


def test_module_level_functional_spellings():
    inp, weight = fastnn.randn(1, 2, 5, 5), fastnn.randn(3, 2, 3, 3)
    assert fastnn.equal(fastnn.conv2d(inp, weight, None, 1, 1),
                        fastnn.nn.functional.conv2d(inp, weight, padding=1))
    assert fastnn.max_pool2d(inp, 2).shape == (1, 2, 2, 2)
    assert fastnn.dropout(fastnn.ones(3), 0.5, False).tolist() == [1., 1., 1.]
    table = fastnn.randn(5, 3)
    assert fastnn.equal(fastnn.embedding(table, fastnn.tensor([1, 4])), table[[1, 4]])
    running_mean, running_var = fastnn.zeros(2), fastnn.ones(2)
    fastnn.batch_norm(fastnn.tensor([[1., 2.], [3., 6.]]), None, None, running_mean,
                      running_var, True, 0.1, 1e-5, False)
    np.testing.assert_allclose(running_mean.numpy(), [0.2, 0.4], rtol=1e-6)
    kl = fastnn.kl_div(fastnn.log(fastnn.tensor([0.3, 0.7])), fastnn.tensor([0.5, 0.5]), 2)
    assert kl.ndim == 0  # 2 is torch's Reduction::Sum


def test_broadcast_shapes_and_small_helpers():
    assert fastnn.broadcast_shapes((2, 1), (1, 3)) == (2, 3)
    assert fastnn.broadcast_shapes(2, (3, 1)) == (3, 2)
    with pytest.raises(RuntimeError, match="Mismatching argument at index 1 had \\(4, 1, 2\\); "
                                           "but expected shape should be broadcastable to "
                                           "\\[1, 2, 3\\]"):
        fastnn.broadcast_shapes((2, 3), (4, 1, 2))
    assert not fastnn.can_cast(fastnn.float32, fastnn.int32)
    assert fastnn.can_cast(fastnn.int32, fastnn.float32)
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        fastnn.is_nonzero(fastnn.tensor([1., 2.]))
    with pytest.raises(RuntimeError, match="imag is not implemented"):
        fastnn.imag(fastnn.ones(2))
    assert fastnn.typename(fastnn.ones(1)) == "torch.FloatTensor"
    assert fastnn.rsub(fastnn.tensor([1., 2.]), 5, alpha=2).tolist() == [3., 1.]
    with pytest.warns(UserWarning, match="torch.range is deprecated"):
        assert fastnn.range(1, 4).tolist() == [1., 2., 3., 4.]


def test_global_switches():
    fastnn.use_deterministic_algorithms(True)
    try:
        assert fastnn.are_deterministic_algorithms_enabled()
        assert fastnn.get_deterministic_debug_mode() == 2
    finally:
        fastnn.use_deterministic_algorithms(False)
    fastnn.set_float32_matmul_precision("high")
    assert fastnn.get_float32_matmul_precision() == "high"
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fastnn.set_float32_matmul_precision("low")
    assert "has no effect" in str(record[0].message)
    fastnn.set_float32_matmul_precision("highest")
    assert str(fastnn.get_default_device()) == "cpu"
