"""0-d tensors through the ops that lost or broke on them: erf / erfc / erfinv (a Python float
from NumPy's frompyfunc), relu forward and backward (np.ascontiguousarray makes 0-d arrays
1-d), nonzero / where(cond) / mode. Values, shapes and gradients as torch's."""

import fastnn

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional peer
    torch = None


def _results(lib):
    found = []
    for op in (lib.erf, lib.erfc, lib.erfinv, lib.special.erf, lib.relu, lib.nn.functional.relu):
        x = lib.tensor(0.5, dtype=lib.float64, requires_grad=True)
        y = op(x)
        y.backward()
        found.append((tuple(y.shape), round(y.item(), 12), round(x.grad.item(), 12)))
    found.append(tuple(lib.erfinv(lib.tensor(0.25)).shape))
    for value in (0.0, 2.0):
        t = lib.tensor(value)
        found += [tuple(lib.nonzero(t).shape), [tuple(i.shape) for i in lib.where(t)],
                  [i.tolist() for i in t.nonzero(as_tuple=True)]]
    mode = lib.mode(lib.tensor(0.3))
    found += [round(mode.values.item(), 6), mode.indices.item(), tuple(mode.indices.shape)]
    return found


def test_zero_dim_ops():
    mine = _results(fastnn)
    assert mine[0][0] == () and mine[4] == ((), 0.5, 1.0)
    assert mine[7:10] == [(0, 0), [(0,)], [[]]]
    if torch is not None:
        assert mine == _results(torch)


def _cov_cases(lib):
    import numpy as np
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6))
    fw, aw = lib.tensor([1, 2, 0, 3, 1, 1]), lib.tensor(rng.random(6))
    found = []
    for kwargs in ({}, dict(correction=0), dict(fweights=fw), dict(aweights=aw),
                   dict(fweights=fw, aweights=aw), dict(fweights=fw, aweights=aw, correction=0),
                   dict(aweights=aw, correction=2)):
        t = lib.tensor(x, requires_grad=True)
        c = lib.cov(t, **kwargs)
        c.sum().backward()
        found.append((c.detach().numpy().round(12).tolist(), t.grad.numpy().round(12).tolist()))
    ints = lib.tensor([[3, -1], [0, 5]])
    found += [str(lib.cov(ints).dtype).split(".")[-1], lib.corrcoef(ints).tolist()]
    for bad in (dict(fweights=lib.tensor([[1, 1]])), dict(aweights=lib.tensor([1, 1, 1.0])),
                dict(fweights=lib.tensor([1.5, 1.0])), dict(aweights=lib.tensor([-1.0, 1.0]))):
        try:
            lib.cov(lib.tensor([[1.0, 2.0]]), **bad)
        except RuntimeError as exc:
            found.append(str(exc))
    return found


def test_cov_with_weights_and_integer_input():
    mine = _cov_cases(fastnn)
    assert mine[7] == "float32"
    if torch is not None:
        assert mine == _cov_cases(torch)
