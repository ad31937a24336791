"""Tensors print as torch's do (fastnn/printing.py): four fixed decimals, whole numbers as
`1.`, exponents by torch's rule, columns sized by the finite non-zero elements, vectors wrapped
by whole elements, summaries with `...`, and torch.set_printoptions. Compared with torch's
own output where it is installed; the fixed cases hold without it."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastnn

FIXED = [
    (lambda lib: lib.tensor([0.71, 0.71]), "tensor([0.7100, 0.7100])"),
    (lambda lib: lib.tensor([1.0, 2.0]), "tensor([1., 2.])"),
    (lambda lib: lib.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (lambda lib: lib.tensor([float("inf"), 2.0]), "tensor([inf, 2.])"),
    (lambda lib: lib.tensor([-0.0, 1.0]), "tensor([-0., 1.])"),
    (lambda lib: lib.tensor(2.5), "tensor(2.5000)"),
    (lambda lib: lib.tensor([True, False]), "tensor([ True, False])"),
    (lambda lib: lib.tensor([], dtype=lib.int64), "tensor([], dtype=DT.int64)"),
    (lambda lib: lib.empty(2, 0), "tensor([], size=(2, 0))"),
    (lambda lib: lib.tensor([[0.25, 1.0], [3.0, 4.0]]), "tensor([[0.2500, 1.0000],\n"
                                                         "        [3.0000, 4.0000]])"),
    (lambda lib: lib.arange(2000)[:7] * 0 + lib.arange(7), "tensor([0, 1, 2, 3, 4, 5, 6])"),
]


@pytest.mark.parametrize("case,expected", FIXED)
def test_prints_as_torch(case, expected):
    assert repr(case(fastnn)) == expected.replace("DT", "fastnn")


def test_summaries_and_wrapping():
    text = repr(fastnn.arange(2000.0) / 3)
    assert text == "tensor([0.0000e+00, 3.3333e-01, 6.6667e-01,  ..., 6.6567e+02, 6.6600e+02,\n" \
                   "        6.6633e+02])"
    rows = repr(fastnn.ones(50, 50)).splitlines()
    assert rows[0] == "tensor([[1., 1., 1.,  ..., 1., 1., 1.],"
    assert rows[3] == "        ...,"


def test_set_printoptions_round_trip():
    try:
        fastnn.set_printoptions(precision=2)
        assert repr(fastnn.tensor([0.125, 1.0])) == "tensor([0.12, 1.00])"
        fastnn.set_printoptions(sci_mode=False)  # (precision stays; sci_mode is per call)
        assert repr(fastnn.tensor([1e-5, 1.0])) == "tensor([0.00, 1.00])"
        fastnn.set_printoptions(profile="full")
        assert "..." not in repr(fastnn.arange(1200))
    finally:
        fastnn.set_printoptions(profile="default")
    assert repr(fastnn.tensor([0.125])) == "tensor([0.1250])"


try:
    import torch
except ImportError:  # the comparisons below need PyTorch
    torch = None

values = st.floats(allow_nan=True, allow_infinity=True, width=32)


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@settings(max_examples=300, deadline=None)
@given(data=st.data(), shape=st.lists(st.integers(1, 5), min_size=0, max_size=3),
       scale=st.sampled_from([1e-7, 1e-3, 1.0, 1e3, 1e7, 1e10]),
       whole=st.booleans(), dtype=st.sampled_from([np.float32, np.float64, np.int64]))
def test_random_tensors_print_as_torch(data, shape, scale, whole, dtype):
    n = math.prod(shape)
    raw = np.array(data.draw(st.lists(values, min_size=n, max_size=n)), dtype=np.float64)
    raw = np.nan_to_num(raw, nan=0.0, posinf=1.0, neginf=-1.0) if dtype == np.int64 else raw
    x = (np.round(raw) if whole else raw * scale).reshape(shape)
    with np.errstate(all="ignore"):
        x = x.astype(dtype)
    ours = repr(fastnn.from_numpy(x.copy()))
    theirs = repr(torch.from_numpy(x.copy())).replace("torch.", "fastnn.")
    if "\n" in theirs.rsplit("]", 1)[-1] or "\n" in ours.rsplit("]", 1)[-1]:
        # a dtype suffix one character longer ('fastnn.' against 'torch.') may wrap elsewhere
        ours, theirs = ours.replace("\n", "").replace(" ", ""), theirs.replace("\n", "").replace(" ", "")
    assert ours == theirs


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize("shape", [(2000,), (50, 50), (3, 400), (30, 40, 5)])
def test_summarised_tensors_print_as_torch(shape):
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    assert repr(fastnn.from_numpy(x.copy())) == repr(torch.from_numpy(x.copy()))


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize("options", [dict(precision=2), dict(sci_mode=True), dict(sci_mode=False),
                                     dict(profile="short"), dict(linewidth=40),
                                     dict(edgeitems=1, threshold=5)])
def test_set_printoptions_matches_torch(options):
    values = np.array([[1e-5, 1.0, 0.125], [2.5, -3.0, 7.0]], np.float32)
    try:
        outputs = []
        for lib in (torch, fastnn):
            lib.set_printoptions(**options)
            outputs.append(repr(lib.from_numpy(values.copy())) + repr(lib.arange(20.0) / 3))
    finally:
        torch.set_printoptions(profile="default")
        fastnn.set_printoptions(profile="default")
    assert outputs[1] == outputs[0]
