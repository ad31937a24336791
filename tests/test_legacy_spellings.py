"""The names a sweep of dir(torch) / dir(torch.Tensor) found missing (fastnn/ops/
legacy_spellings.py), each against torch: values, dtypes, shapes and gradients."""
import warnings

import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")


def _same(ours, theirs, **tol):
    np.testing.assert_allclose(np.asarray(ours.detach().numpy(), np.float64),
                               np.asarray(theirs.detach().numpy(), np.float64), **tol)
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]


def test_legacy_new_get_device_and_resize():
    for lib in (fastnn, torch):
        x = lib.arange(12.).reshape(3, 4)
        assert tuple(x.new(2, 3).shape) == (2, 3) and tuple(x.new().shape) == (0,)
        assert tuple(x.new(lib.Size([2])).shape) == (2,)
        assert x.new([1, 2]).dtype == lib.float32
        assert lib.ones(2, dtype=lib.int64).new([1.5]).tolist() == [1]
        assert x.get_device() == -1
        y = lib.arange(6.)
        y.resize_(2, 3)
        assert y.tolist() == [[0, 1, 2], [3, 4, 5]]
        z = lib.arange(4.)
        z.resize_(6)
        assert z.shape == (6,) and z[:4].tolist() == [0, 1, 2, 3]
        w = lib.zeros(3)
        w.resize_as_(x)
        assert tuple(w.shape) == (3, 4)


@pytest.mark.parametrize("size,stride,offset", [((4, 3), (2, 1), 0), ((2, 2), (1, 2), 1),
                                                 ((3,), (3,), 2), ((0, 2), (1, 1), 0)])
def test_as_strided_values_and_gradient(size, stride, offset):
    found = []
    for lib in (fastnn, torch):
        a = lib.arange(10., requires_grad=True)
        win = lib.as_strided(a, size, stride, offset)
        (win * lib.arange(float(win.numel())).reshape(win.shape)).sum().backward()
        found.append((win, a.grad))
    _same(found[0][0], found[1][0])
    _same(found[0][1], found[1][1])
    with pytest.raises(RuntimeError, match="out of bounds"):
        fastnn.as_strided(fastnn.arange(4.), (3,), (2,))


@pytest.mark.parametrize("kwargs", [{}, {"spacing": 2.0}, {"edge_order": 2}, {"dim": 1},
                                    {"spacing": [1.0, 0.5]}, {"dim": 0, "edge_order": 2}])
def test_gradient_matches_torch(kwargs):
    data = (np.arange(20.0, dtype=np.float32).reshape(4, 5) ** 2) / 7
    x, y = fastnn.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    ours, theirs = fastnn.gradient(x, **kwargs), torch.gradient(y, **kwargs)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        _same(a, b, rtol=1e-5, atol=1e-5)
    sum(g.pow(2).sum() for g in ours).backward()
    sum(g.pow(2).sum() for g in theirs).backward()
    _same(x.grad, y.grad, rtol=1e-5, atol=1e-4)


def test_vander_addbmm_scatters_and_frombuffer():
    pairs = [
        (lambda lib: lib.vander(lib.tensor([1, 2, 3]))),
        (lambda lib: lib.vander(lib.tensor([1., 2.]), N=3, increasing=True)),
        (lambda lib: lib.addbmm(lib.zeros(2, 2), lib.ones(3, 2, 4), lib.ones(3, 4, 2), beta=0.5,
                                alpha=2)),
        (lambda lib: lib.select_scatter(lib.zeros(2, 3), lib.ones(3), 0, 1)),
        (lambda lib: lib.slice_scatter(lib.zeros(4, 2), lib.ones(2, 2), 0, 1, 3)),
        (lambda lib: lib.diagonal_scatter(lib.zeros(3, 3), lib.ones(3))),
        (lambda lib: lib.diagonal_scatter(lib.zeros(2, 3, 4), lib.arange(6.).reshape(2, 3),
                                          1, 1, 2)),
        (lambda lib: lib.diagonal_scatter(lib.zeros(4, 3), lib.ones(2), -2)),
        (lambda lib: lib.frombuffer(bytearray(np.arange(3, dtype=np.float32).tobytes()),
                                    dtype=lib.float32)),
        (lambda lib: lib.selu_(lib.tensor([-1., 1.]))),
    ]
    for make in pairs:
        _same(make(fastnn), make(torch))
    t = fastnn.tensor([0.5, 1.5])
    t.sinc_()
    _same(t, torch.tensor([0.5, 1.5]).sinc())
    s = fastnn.ones(2, 3)
    s.swapaxes_(0, 1)
    assert tuple(s.shape) == (3, 2)
    assert fastnn.GradScaler is fastnn.amp.GradScaler


def test_scatter_ops_are_differentiable_in_both_inputs():
    for lib in (fastnn, torch):
        x = lib.zeros(4, 2, requires_grad=True)
        src = lib.ones(2, 2, requires_grad=True)
        out = lib.slice_scatter(x, src, 0, 1, 3)
        (out * lib.arange(8.).reshape(4, 2)).sum().backward()
        assert x.grad.tolist() == [[0, 1], [0, 0], [0, 0], [6, 7]]
        assert src.grad.tolist() == [[2, 3], [4, 5]]


def test_set_default_tensor_type_warns_and_switches():
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fastnn.set_default_tensor_type("torch.DoubleTensor")
        try:
            assert fastnn.tensor([1.0]).dtype == fastnn.float64
        finally:
            fastnn.set_default_tensor_type("torch.FloatTensor")
    assert "deprecated" in str(rec[0].message)
    assert fastnn.tensor([1.0]).dtype == fastnn.float32
    with pytest.raises(TypeError, match="floating-point"), pytest.warns(UserWarning):
        fastnn.set_default_tensor_type("torch.LongTensor")
