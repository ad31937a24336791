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
