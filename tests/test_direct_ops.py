"""Small ops that record nothing skip Function.apply (autograd/function.py: records_nothing;
arithmetic._direct, shape._basic_view, reductions.sum): the same bits, views and errors as
the recorded path, which still runs whenever a gradient, forward AD, saved-tensor hooks, meta
tensors or the profiler need it (issue 12, per-call overhead)."""
import warnings

import numpy as np
import pytest

import fastnn
from fastnn.autograd.function import Function

OPS = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
       "div": lambda a, b: a / b, "radd": lambda a, b: b + a, "rmul": lambda a, b: b * a,
       "torch.add": lambda a, b: fastnn.add(a, b), "torch.mul": lambda a, b: fastnn.mul(a, b)}


def refuse_apply(monkeypatch):
    """Function.apply made to fail: what still works did not go through it."""
    def refuse(cls, *args, **kwargs):
        raise AssertionError(f"{cls.__name__} went through Function.apply")
    monkeypatch.setattr(Function, "apply", classmethod(refuse))


def operands(dtype, kind, rng):
    a = rng.standard_normal((3, 5)).astype(dtype)
    a[0, :3] = [0.0, np.inf, np.nan]
    if kind == "tensor":
        b = rng.standard_normal((3, 5)).astype(dtype)
        b[0, :3] = [0.0, 0.0, 1.0]  # 0/0, inf/0: nan and inf without warnings
        return a, b
    if kind == "bias":  # a trailing shape, as x @ W + b
        b = rng.standard_normal(5).astype(dtype)
        b[:2] = [0.0, -0.0]
        return a, b
    if kind == "bias first":
        return rng.standard_normal(5).astype(dtype), a
    if kind == "zero-d":
        return np.asarray(a[1, 1]), np.asarray(dtype(0.0))
    return a, {"float": 0.1, "int": 3, "zero": 0}[kind]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["tensor", "bias", "bias first", "zero-d", "float", "int",
                                  "zero"])
@pytest.mark.parametrize("op", sorted(OPS))
def test_direct_result_is_the_recorded_one(dtype, kind, op):
    a, b = operands(dtype, kind, np.random.default_rng(0))
    wrap = (lambda v: v) if kind in ("float", "int", "zero") else (lambda v: fastnn.tensor(v))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy's divide/invalid warnings would raise
        direct = OPS[op](fastnn.tensor(a), wrap(b))
        recorded = OPS[op](fastnn.tensor(a, requires_grad=True), wrap(b))
    assert recorded.grad_fn is not None and direct.grad_fn is None
    assert not direct.requires_grad and direct.is_leaf
    assert direct.dtype == recorded.dtype and direct.shape == recorded.shape
    np.testing.assert_array_equal(direct.numpy(), recorded.detach().numpy())


@pytest.mark.parametrize("op", sorted(OPS))
def test_direct_ops_skip_apply(monkeypatch, op):
    x, y = fastnn.randn(4, 3), fastnn.randn(4, 3)
    expected = OPS[op](x.requires_grad_(), y).detach().numpy()
    expected_scalar = OPS[op](x, 2.0).detach().numpy()
    x.requires_grad_(False)
    refuse_apply(monkeypatch)
    np.testing.assert_array_equal(OPS[op](x, y).numpy(), expected)
    np.testing.assert_array_equal(OPS[op](x, 2.0).numpy(), expected_scalar)
    bias = fastnn.randn(3)
    assert OPS[op](x, bias).shape == (4, 3)
    with pytest.raises(AssertionError, match="went through Function.apply"):
        OPS[op](x, y.requires_grad_())
    with pytest.raises(AssertionError, match="went through Function.apply"):
        OPS[op](x, fastnn.randn(4, 1))  # a stretched 1: the general path


def test_views_and_sums_skip_apply(monkeypatch):
    x = fastnn.arange(12.0).reshape(3, 4)
    flags = fastnn.tensor([True, True, False])
    refuse_apply(monkeypatch)
    assert x[1].tolist() == [4.0, 5.0, 6.0, 7.0]
    assert x[-1:].tolist() == [[8.0, 9.0, 10.0, 11.0]]
    assert x[0, 1:3].tolist() == [1.0, 2.0]
    assert x[2, 3].item() == 11.0
    assert x.sum().item() == 66.0 and x.sum().dtype == fastnn.float32
    assert flags.sum().item() == 2 and flags.sum().dtype == fastnn.int64


def test_direct_views_share_storage_and_versions():
    x = fastnn.zeros(3, 4)
    row, part = x[1], x[0, 1:3]
    assert row._base is x and part._base is x
    assert x[1:1]._base is None and x[:, 2:2]._base is None  # empty: no storage shared
    w = fastnn.zeros(3, 4, requires_grad=True)
    assert w[1:1]._base is None and w[0]._base is w  # the recorded path's same rule
    row += 1.0
    part.fill_(2.0)
    assert x.tolist() == [[0, 2, 2, 0], [1, 1, 1, 1], [0, 0, 0, 0]]
    # a value saved for a backward and then changed through a direct view: torch's error
    w = fastnn.ones(3, 4, requires_grad=True)
    y = (w * x).sum()
    x[2].add_(5.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_general_path_where_something_is_recorded_or_checked():
    x, y = fastnn.randn(3, 1), fastnn.randn(1, 4)
    assert (x + y).shape == (3, 4)  # broadcasting that stretches a 1: the general path
    assert (x.double() + y).dtype == fastnn.float64  # promotion: the general path
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size "
                                           r"of tensor b \(4\) at non-singleton dimension 1"):
        fastnn.randn(2, 3) + fastnn.randn(2, 4)
    w = fastnn.randn(3, requires_grad=True)
    with fastnn.no_grad():
        assert not (w + w).requires_grad and not w[0].requires_grad
    assert w[0].grad_fn.name() == "SelectBackward0"
    assert w.sum().grad_fn.name() == "SumBackward0"
    with pytest.warns(UserWarning, match="This overload of add is deprecated"):
        legacy = fastnn.add(fastnn.ones(2), 3, fastnn.ones(2))  # torch.add(x, alpha, y)
    assert legacy.tolist() == [4.0, 4.0]


def test_forward_ad_and_the_profiler_still_see_the_ops():
    import fastnn.autograd.forward_ad as fwAD
    x, t = fastnn.randn(4), fastnn.ones(4)
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, t)
        out = dual * 3.0 + x
        assert fwAD.unpack_dual(out).tangent.tolist() == [3.0] * 4
    with fastnn.profiler.profile() as prof:
        x + x
        x[1]
        x.sum()
    names = {e.key for e in prof.key_averages()}
    assert {"fastnn::Add", "fastnn::Select", "fastnn::Sum"} <= names
    assert x[1:3].sum().item() == pytest.approx(float(x.numpy()[1:3].sum()))
