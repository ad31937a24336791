"""Issue 10's tensor functions that have no gradient or return indices, against torch: the same
values, dtypes, shapes and error messages (the differentiable ones are rows in test_ops.py)."""
import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")

X = np.array([[3.0, 1.0, 2.0, 1.0], [np.nan, -1.0, 5.0, 0.0], [0.5, 0.5, -2.0, 4.0]],
             np.float32)
I = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], np.int64)


def both(fn, *arrays):
    """fn on torch and on fastnn tensors of the same arrays: the outputs, as NumPy, or the
    exception type and message."""
    out = []
    for m in (torch, fastnn):
        try:
            value = fn(m, *[m.tensor(a) for a in arrays])
        except Exception as exc:  # noqa: BLE001
            out.append((type(exc).__name__, str(exc)))
            continue
        out.append(_numpy(value))
    return out


def _numpy(value):
    if isinstance(value, (tuple, list)):
        return [_numpy(v) for v in value]
    if isinstance(value, (bool, int, float)):
        return value
    return value.detach().numpy()


def assert_same(pair):
    ours, theirs = pair[1], pair[0]
    if isinstance(theirs, tuple) and isinstance(theirs[0], str):
        assert ours == theirs
        return
    _compare(ours, theirs)


def _compare(ours, theirs):
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _compare(a, b)
    elif isinstance(theirs, np.ndarray):
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, (ours, theirs)
        np.testing.assert_array_equal(ours, theirs)
    else:
        assert ours == theirs


CASES = {
    "sort indices": (lambda m, x: list(m.sort(x, 1)), X),
    "sort descending": (lambda m, x: list(x.sort(dim=0, descending=True)), X),
    "argsort": (lambda m, x: m.argsort(x, dim=1, stable=True), X),
    "argsort descending": (lambda m, x: x[:, 1:].argsort(0, True), X),
    "topk": (lambda m, x: list(m.topk(x[:, 1:], 2, 1)), X),
    "topk k too big": (lambda m, x: m.topk(x, 5), X),
    "unique": (lambda m, i: list(m.unique(i, return_inverse=True, return_counts=True)), I),
    "bincount": (lambda m, i: m.bincount(i, minlength=12), I),
    "bincount weights": (lambda m, i: m.bincount(i, weights=m.ones(11, dtype=m.float64)), I),
    "nonzero": (lambda m, x: m.nonzero(x > 1), X),
    "nonzero tuple": (lambda m, x: list(m.nonzero(x > 1, as_tuple=True)), X),
    "isnan isfinite": (lambda m, x: [m.isnan(x), x.isfinite(), m.isinf(x / 0)], X),
    "isclose": (lambda m, x: m.isclose(x, x + 1e-6, equal_nan=True), X),
    "allclose": (lambda m, x: [m.allclose(x[2], x[2] * 1.0), m.allclose(x[0], x[2])], X),
    "round decimals": (lambda m, x: [m.round(x * 1.2345, decimals=2), x.floor(), x.ceil(),
                                     m.trunc(-x)], X),
    "floor of ints": (lambda m, i: [m.floor(i), i.round()], I),
    "chunk sizes": (lambda m, i: [c.shape[0] for c in m.chunk(i, 4)], I),
    "chunk of 7 in 3": (lambda m, i: [c.shape[0] for c in i[:7].chunk(3)], I),
    "split bad sizes": (lambda m, i: m.split(i, [2, 3]), I),
    "index_select 2-D index": (lambda m, x: x.index_select(0, m.tensor([[0]])), X),
    "index_select out of range": (lambda m, x: x.index_select(1, m.tensor([4])), X),
    "gather out of range": (lambda m, x: x.gather(1, m.tensor([[4]])), X),
    "gather wrong ndim": (lambda m, x: x.gather(1, m.tensor([0])), X),
    "repeat fewer dims": (lambda m, x: x.repeat(2), X),
    "roll misaligned": (lambda m, x: x.roll((1, 2), 0), X),
    "prod of ints": (lambda m, i: [m.prod(i[:5]), i[:4].reshape(2, 2).prod(1)], I),
    "outer not 1-D": (lambda m, x: m.outer(x, x[0]), X),
    "bmm not 3-D": (lambda m, x: m.bmm(x, x), X),
    "var dims": (lambda m, x: [x[2:].var(1), x[2:].std(), m.var(x[2:], 0, correction=0)], X),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name):
    fn, array = CASES[name]
    assert_same(both(fn, array))
