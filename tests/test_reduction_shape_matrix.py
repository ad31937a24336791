"""Reductions and shape ops (sum/mean/max/median/var/norm with dims and dtypes; view,
reshape, squeeze, permute, cat, stack, split, chunk, expand, narrow ...) on torch and on
fastnn: shapes, dtypes and values, or errors' types and messages, are equal. Found by this
matrix: cat of float32 with int64 gave float64 (NumPy's promotion; torch's is float32)."""
import warnings

import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")

CASES = ["x.sum(1)", "x.sum((0, 2))", "x.sum(-1, keepdim=True)", "i.sum(1)", "b.sum()", "b.sum(0)", "i.mean()", "i.mean(dtype=t.float32)", "x.sum(dtype=t.float64)", "i.sum(dtype=t.float32)",
 "x.max(1)", "x.max(1).indices", "x.max(dim=1, keepdim=True)[0]", "x.min()", "x.amax((0, 1))", "x.argmax(1)", "x.argmax()", "x.median()", "x.median(1)", "x.mode(1)", "x.std(1)", "x.var(1, unbiased=False)",
 "x.var(1, correction=0)", "x.logsumexp(1)", "x.prod(1)", "i.prod()", "x.cumsum(1)", "i.cumsum(0)", "b.cumsum(0)", "x.norm(dim=1)", "x.norm(p=1)", "x.all()", "b.any(1)", "x.count_nonzero()", "x.sum(3)", "x.mean(5)",
 "x.view(4, 6)", "x.view(-1)", "x.view(5, -1)", "x.transpose(0, 2).view(-1)", "x.reshape(-1, 4)", "x.reshape(7, -1)", "x.squeeze()", "x[:, :1].squeeze(1)", "x.unsqueeze(-1).shape", "x.unsqueeze(4)",
 "x.permute(2, 0, 1).shape", "x.permute(0, 1)", "x.transpose(0, 3)", "x.flatten(1)", "x.flatten(0, 1).shape", "x.unflatten(2, (2, 2)).shape", "t.cat([x, i], 0).dtype", "t.cat([x, x[:, :, :2]], 2).shape",
 "t.cat([x, x[:, :2]], 2)", "t.stack([x, x], 1).shape", "t.stack([x, x[0]])", "x.split(2, 2)[1].shape", "len(x.split([1, 3], 2))", "x.split([1, 2], 2)", "x.chunk(3, 2)[-1].shape", "len(x.chunk(5, 2))", "x.tensor_split(3, 2)[0].shape",
 "x.expand(2, 2, 3, 4).shape", "x.expand(3, 3, 4)", "x.repeat(1, 2, 1).shape", "x.tile((2,)).shape", "x.movedim(0, -1).shape", "x.T.shape", "x.mT.shape", "x.narrow(2, 1, 2).shape", "x.narrow(2, 3, 2)", "x.roll(1, 2)[0, 0]",
 "x.flip(0)[0, 0]", "x.diagonal().shape", "x.contiguous().is_contiguous()", "x.transpose(0, 1).is_contiguous()", "x.new_zeros(2).dtype", "x.new_tensor([1, 2]).dtype", "x.type(t.int32).dtype", "x.type()", "i.type()", "b.type()"]


def _outcome(lib, expression):
    scope = {"t": lib, "x": lib.arange(24.0).reshape(2, 3, 4),
             "i": lib.arange(24).reshape(2, 3, 4), "T": lib.tensor}
    scope["b"] = scope["x"] > 10
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = eval(expression, {}, scope)  # noqa: S307 - expressions above
    except Exception as exc:  # noqa: BLE001 - the error is the outcome compared
        return type(exc).__name__, str(exc)
    if isinstance(r, tuple) and hasattr(r, "indices"):  # return_types.max and the like
        r = (r.values, r.indices)
    if isinstance(r, tuple) and r and hasattr(r[0], "tolist"):
        return [(tuple(v.shape), str(v.dtype).split(".")[-1], v.tolist()) for v in r]
    if hasattr(r, "tolist") and hasattr(r, "shape"):
        return tuple(r.shape), str(r.dtype).split(".")[-1], np.round(
            np.asarray(r.tolist(), dtype=float), 4).tolist()
    return str(r).replace("torch.", "").replace("fastnn.", "")


@pytest.mark.parametrize("expression", CASES)
def test_as_torch(expression):
    assert _outcome(fastnn, expression) == _outcome(torch, expression)
