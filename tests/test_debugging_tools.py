"""torch's debugging and testing tools: testing.assert_close / make_tensor, autograd.gradcheck,
anomaly detection, and NumPy's floating-point warnings kept out of ops (torch is silent on
log(0) and inf - inf)."""
import warnings

import numpy as np
import pytest

import fastnn
from fastnn.autograd.gradcheck import GradcheckError

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional peer
    torch = None


def _failure(lib, *args, **kwargs):
    try:
        lib.testing.assert_close(*args, **kwargs)
    except (AssertionError, TypeError, ValueError) as e:
        return type(e).__name__, str(e)
    return None


def _cases(lib):
    a, b = lib.tensor([1., 2., 3.]), lib.tensor([1., 2.5, 3.])
    nan = float("nan")
    return [
        ((a, b), {}), ((a, b.double()), {}), ((a, lib.ones(2)), {}),
        ((lib.tensor([1, 2]), lib.tensor([1, 3])), {}), ((1.0, 1.1), {}), (([a, a], [a, b]), {}),
        (({"x": a}, {"x": b}), {}), ((a, [1., 2., 3.]), {}), ((lib.tensor([nan]),) * 2, {}),
        ((lib.tensor([nan]),) * 2, {"equal_nan": True}), ((1, 2), {}), ((True, False), {}),
        ((1, 1.0), {}), (([1, 2], [1, 2, 3]), {}), (({"a": 1}, {"b": 1}), {}),
        (((1, 2), [1, 2]), {}), ((lib.tensor([True]), lib.tensor([False])), {}),
        ((lib.tensor(1.), lib.tensor(2.)), {}), ((None, 1), {}), (("a", "a"), {}),
        ((lib.ones(3, 3), lib.zeros(3, 3)), {}), ((a, b), {"rtol": 0.1}),
        ((a, b.double()), {"check_dtype": False}), ((a, b), {"msg": "custom"}),
        ((a, b), {"msg": lambda m: "X" + m[:12]}), ((a, a + 1e-6), {}),
        ((lib.tensor([1., float("inf")]), lib.tensor([1., -float("inf")])), {}),
    ]


def test_assert_close_messages_are_torchs():
    expected = [
        ("AssertionError", "Tensor-likes are not close!\n\nMismatched elements: 1 / 3 (33.3%)\n"
         "Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)\n"
         "Greatest relative difference: 0.20000000298023224 at index (1,) (up to 1.3e-06 "
         "allowed)"),
        ("AssertionError", "The values for attribute 'dtype' do not match: fastnn.float32 != "
         "fastnn.float64."),
        ("AssertionError", "The values for attribute 'shape' do not match: fastnn.Size([3]) != "
         "fastnn.Size([2])."),
        ("AssertionError", "Tensor-likes are not equal!\n\nMismatched elements: 1 / 2 (50.0%)\n"
         "Greatest absolute difference: 1 at index (1,)\nGreatest relative difference: "
         "0.3333333432674408 at index (1,)"),
        ("AssertionError", "Scalars are not close!\n\nExpected 1.1 but got 1.0.\nAbsolute "
         "difference: 0.10000000000000009 (up to 1e-07 allowed)\nRelative difference: "
         "0.09090909090909098 (up to 1e-07 allowed)"),
    ]
    got = [_failure(fastnn, *args, **kw) for args, kw in _cases(fastnn)]
    assert got[:5] == expected
    assert got[5][1].endswith("\n\nThe failure occurred for item [1]")
    assert got[6][1].endswith("\n\nThe failure occurred for item ['x']")
    assert got[7][0] == "TypeError"
    assert got[9] is None and got[15] is None and got[25] is None  # equal_nan, tuple/list, close


@pytest.mark.skipif(torch is None, reason="torch not installed")
def test_assert_close_agrees_with_torch_on_every_case():
    ours = [_failure(fastnn, *args, **kw) for args, kw in _cases(fastnn)]
    theirs = [_failure(torch, *args, **kw) for args, kw in _cases(torch)]
    for mine, reference in zip(ours, theirs):
        if reference is not None:
            reference = (reference[0], reference[1].replace("torch.", "fastnn."))
        assert mine == reference


def test_assert_close_checks_tolerance_pairs_and_numpy_arrays():
    with pytest.raises(ValueError, match="must be either specified or omitted"):
        fastnn.testing.assert_close(fastnn.ones(2), fastnn.ones(2), rtol=0.1)
    fastnn.testing.assert_close(np.ones(3), np.ones(3) + 1e-9)
    with pytest.raises(TypeError, match="No comparison pair"):
        fastnn.testing.assert_close(np.ones(2), fastnn.ones(2))


def test_make_tensor_ranges_and_flags():
    t = fastnn.testing.make_tensor((40, 30), dtype=fastnn.float32, device="cpu", low=-1, high=1)
    assert t.shape == (40, 30) and t.dtype == fastnn.float32
    assert float(t.min()) >= -1 and float(t.max()) <= 1
    ints = fastnn.testing.make_tensor(50, 4, dtype=fastnn.int64, device="cpu", exclude_zero=True)
    assert bool((ints != 0).all()) and int(ints.min()) >= -9 and int(ints.max()) < 10
    strided = fastnn.testing.make_tensor((3, 4), dtype=fastnn.float64, device="cpu",
                                         noncontiguous=True, requires_grad=True)
    assert not strided.is_contiguous() and strided.requires_grad
    with pytest.raises(ValueError):
        fastnn.testing.make_tensor((2,), dtype=fastnn.int64, device="cpu", requires_grad=True)


class _Square(fastnn.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 2

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * 2 * x


class _HalfSquare(_Square):  # a wrong backward: half the true gradient
    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * x


class _Unscaled(fastnn.autograd.Function):  # right for unit grad_outputs, not for zero ones
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2 + (1 - g.abs().sum().clamp(max=1))


def test_gradcheck_passes_correct_backwards():
    x = fastnn.tensor([0.5, -1.0, 2.0], dtype=fastnn.float64, requires_grad=True)
    m = fastnn.tensor([[1., 2.], [3., 4.]], dtype=fastnn.float64, requires_grad=True)
    assert fastnn.autograd.gradcheck(_Square.apply, (x,))
    assert fastnn.autograd.gradcheck(lambda a, b: (a * b, a + b), (x, x.detach().clone().requires_grad_()))
    assert fastnn.autograd.gradcheck(lambda a, k: a * k, (x, 3))
    assert fastnn.autograd.gradcheck(fastnn.linalg.inv, (m,))
    assert fastnn.autograd.gradcheck(lambda a: fastnn.softmax(a, dim=1), m)
    assert x.grad is None  # the check leaves .grad alone
    assert fastnn.equal(x, fastnn.tensor([0.5, -1.0, 2.0], dtype=fastnn.float64))  # restored


def test_gradcheck_reports_a_wrong_backward_as_torch():
    x = fastnn.tensor([0.5, -1.0, 2.0], dtype=fastnn.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match=r"Jacobian mismatch for output 0 with respect "
                                             r"to input 0,\nnumerical:tensor\(\[\[ 1\.0000"):
        fastnn.autograd.gradcheck(_HalfSquare.apply, (x,))
    assert fastnn.autograd.gradcheck(_HalfSquare.apply, (x,), raise_exception=False) is False
    with pytest.raises(GradcheckError, match="backward not multiplied by grad_output"):
        fastnn.autograd.gradcheck(_Unscaled.apply, (x,))
    assert issubclass(GradcheckError, RuntimeError)


def test_gradcheck_input_checks():
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        fastnn.autograd.gradcheck(fastnn.sin, (fastnn.randn(3, dtype=fastnn.float64),))
    with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double"):
        fastnn.autograd.gradcheck(fastnn.exp, (fastnn.ones(3, requires_grad=True),),
                                  eps=1e-3, atol=1e-2)
    assert fastnn.autograd.gradgradcheck(
        lambda v: (v ** 3).sin(), (fastnn.tensor([0.3, 0.6], dtype=fastnn.float64,
                                                 requires_grad=True),))


def test_detect_anomaly_names_the_node_and_the_forward_line():
    x = fastnn.tensor([0.0, 1.0], requires_grad=True)
    assert not fastnn.is_anomaly_enabled() and fastnn.is_anomaly_check_nan_enabled()
    with pytest.warns(UserWarning) as record:
        with fastnn.autograd.detect_anomaly():
            assert fastnn.is_anomaly_enabled()
            y = fastnn.sqrt(x)  # d sqrt / dx at 0 is inf; times 0 gives NaN
            with pytest.raises(RuntimeError, match=r"Function 'SqrtBackward0' returned nan "
                                                   r"values in its 0th output\."):
                (y * 0).sum().backward()
    messages = [str(w.message) for w in record]
    assert messages[0].startswith("Anomaly Detection has been enabled.")
    trace = next(m for m in messages if m.startswith("Error detected in SqrtBackward0"))
    assert "y = fastnn.sqrt(x)" in trace and "fastnn/ops" not in trace
    assert not fastnn.is_anomaly_enabled()


def test_anomaly_mode_switches():
    x = fastnn.tensor([0.0, 1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="Anomaly Detection"):
        with fastnn.autograd.detect_anomaly(check_nan=False):
            (fastnn.sqrt(x) * 0).sum().backward()  # NaN gradients pass when not checked
    assert np.isnan(x.grad.numpy()[0])
    fastnn.autograd.set_detect_anomaly(True)
    try:
        assert fastnn.is_anomaly_enabled()
    finally:
        fastnn.autograd.set_detect_anomaly(False)
    with fastnn.autograd.set_detect_anomaly(True):
        assert fastnn.is_anomaly_enabled()
    assert not fastnn.is_anomaly_enabled()


def test_ops_and_backward_raise_no_numpy_warnings():
    """torch computes these silently; NumPy's RuntimeWarnings must not leak from fastnn's ops
    (under -W error they would stop a ported program)."""
    values = [0., -1., 1e30, float("inf"), -float("inf"), float("nan")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = fastnn.tensor(values, requires_grad=True)
        outs = [fastnn.log(x), x / 0, x ** -1, fastnn.sqrt(x), x * x, fastnn.exp(x) * 1e30,
                x - x, fastnn.logit(x), fastnn.xlogy(x, x), fastnn.remainder(x, 0.)]
        sum(o.sum() for o in outs).backward()
        assert fastnn.log(fastnn.tensor([0.])).item() == -float("inf")
    assert np.geterr()["divide"] == "warn"  # the user's NumPy settings are untouched
    with pytest.warns(RuntimeWarning):
        np.log(np.zeros(1))


def test_benchmark_timer_and_compare_as_torchs():
    """torch.utils.benchmark as the Jacobians tutorial uses it: Timer(stmt, globals).timeit(n)
    gives one measurement of n runs; blocked_autorange several blocks; the thread count is
    the Timer's during the run and restored after. (Structure only: timings are not asserted.)"""
    from fastnn.utils.benchmark import Compare, Timer
    seen = []
    x = fastnn.ones(100)
    env = {"x": x, "seen": seen, "fastnn": fastnn}
    fastnn.set_num_threads(2)
    one = Timer("seen.append(fastnn.get_num_threads()); x.sum()", globals=env).timeit(7)
    assert one.number_per_run == 7 and len(one.times) == 1 and len(one.raw_times) == 1
    assert one.times[0] == one.raw_times[0] / 7 > 0 and set(seen) == {1}
    assert fastnn.get_num_threads() == 2
    text = repr(one)
    assert "x.sum()" in text and "1 measurement, 7 runs , 1 thread" in text
    many = Timer("x.sum()", globals=env, num_threads=2).blocked_autorange(min_run_time=0.01)
    assert len(many.times) >= 2 and many.num_threads == 2 and "Median:" in repr(many)
    assert many.median > 0 and many.iqr >= 0
    rows = [Timer("x.sum()", globals=env, label="reduce", sub_label="100", description=d)
            .timeit(10) for d in ("sum", "mean")]
    table = str(Compare(rows))
    assert "reduce" in table and "sum" in table and "mean" in table and "Times are in" in table
