"""Found by sweeping torch's functions with 0-d, integer and broadcast arguments against
fastnn: fmod exact (C's fmod, not a - trunc(a/b) b) with torch's gradients and grad_fn names,
clamp's result dtype over the input and the bounds, a 0-d q in quantile, 0-d integer tensors
as sizes in split / chunk / roll / tensor_split, cosine_similarity over broadcast shapes."""
import numpy as np

import fastnn

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional peer
    torch = None


def _results(lib):
    found = []
    a = lib.tensor([2.0, -1, 3, 7.5], dtype=lib.float64, requires_grad=True)
    b = lib.tensor([0.2, -1.5, 3.0, 2.0], dtype=lib.float64, requires_grad=True)
    y = lib.fmod(a, b)
    y.sum().backward()
    found += [y.tolist(), a.grad.tolist(), b.grad.tolist(), y.grad_fn.name(),
              lib.fmod(a, 2.5).grad_fn.name(), lib.fmod(lib.tensor([5, -5]), 3).tolist(),
              str(lib.fmod(lib.tensor([5.0, -5.0]), 3).dtype)]
    ints = lib.tensor([1, 5, 9])
    for bounds in ((2.5, None), (2, None), (None, lib.tensor(3.0)), (0.5, 7)):
        out = lib.clamp(ints, *bounds)
        found += [out.tolist(), str(out.dtype)]
    found.append(str(lib.clamp(lib.tensor([1.0, 5.0]), lib.tensor([2.0, 2.0],
                                                                  dtype=lib.float64)).dtype))
    v = lib.tensor([0.2, -1.5, 3.0], dtype=lib.float64)
    q = lib.tensor(0.3, dtype=lib.float64)
    found += [tuple(lib.quantile(v, q).shape), tuple(lib.nanquantile(v, q).shape),
              round(lib.quantile(v, q).item(), 12)]
    x = lib.arange(6)
    found += [[t.tolist() for t in lib.split(x, lib.tensor(4))],
              len(lib.chunk(x, lib.tensor(2))), lib.roll(x, lib.tensor(2)).tolist(),
              len(lib.tensor_split(x, lib.tensor(4))), [t.tolist() for t in x.split(lib.tensor(4))]]
    cos = lib.nn.functional.cosine_similarity(lib.ones(2, 1, 3), lib.tensor([[1.0, 0, 0]] * 4),
                                              dim=-1)
    found += [tuple(cos.shape), np.round(cos.numpy(), 6).tolist(),
              np.round(lib.cosine_similarity(lib.ones(2, 3), lib.tensor([1.0, 0, 0])).numpy(),
                       6).tolist()]
    return [str(v).replace("torch.", "").replace("fastnn.", "") for v in found]


def test_scalar_tensor_arguments_as_torch():
    mine = _results(fastnn)
    assert mine[0] == str([float(np.fmod(2.0, 0.2)), -1.0, 0.0, 1.5])  # C's fmod, not 0
    assert mine[7:9] == [str([2.5, 5.0, 9.0]), "float32"]
    if torch is not None:
        assert mine == _results(torch)
