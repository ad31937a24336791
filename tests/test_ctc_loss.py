"""nn.CTCLoss / F.ctc_loss (fastnn/ops/ctc.py): losses and gradients against finite differences
of the logits (through log_softmax, whose gradient torch's CTC gradient assumes), against a
brute-force sum over every alignment, and against torch when it is installed: padded and
concatenated targets, repeated labels, empty targets, short inputs, impossible alignments with
zero_infinity, each reduction, unbatched input."""
import itertools

import numpy as np
import pytest

import fastnn
from fastnn.nn import functional as F

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional peer
    torch = None

T, N, C, S = 12, 4, 5, 4


def _batch(seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((T, N, C))
    targets = rng.integers(1, C, (N, S))
    targets[0, 1] = targets[0, 2]  # a repeated label needs a blank between
    input_lengths = np.array([12, 10, 3, 5])
    target_lengths = np.array([4, 3, 0, 2])
    return logits, targets, input_lengths, target_lengths


def _brute_force_nll(log_probs, labels, blank=0):
    """-log of the sum over every length-T path that collapses to `labels`."""
    steps, classes = log_probs.shape
    total = 0.0
    for path in itertools.product(range(classes), repeat=steps):
        collapsed = [c for i, c in enumerate(path) if c != blank and (i == 0 or c != path[i - 1])]
        if collapsed == list(labels):
            total += np.exp(sum(log_probs[t, c] for t, c in enumerate(path)))
    return -np.log(total)


def test_ctc_matches_the_sum_over_alignments():
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((5, 1, 3))
    for labels in ([1, 2], [1, 1], [2], []):
        lp = fastnn.tensor(logits).log_softmax(2)
        loss = F.ctc_loss(lp, fastnn.tensor(np.array([labels + [0] * (2 - len(labels))])),
                          [5], [len(labels)], reduction="none")
        expected = _brute_force_nll(lp.numpy()[:, 0], labels)
        assert loss.item() == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_ctc_gradient_against_finite_differences(reduction):
    logits, targets, il, tl = _batch()
    x = fastnn.tensor(logits, requires_grad=True)
    loss = F.ctc_loss(x.log_softmax(2), fastnn.tensor(targets), il, tl, reduction=reduction)
    (loss.sum() if reduction == "none" else loss).backward()

    def value(v):
        out = F.ctc_loss(fastnn.tensor(v).log_softmax(2), fastnn.tensor(targets), il, tl,
                         reduction=reduction)
        return float(out.sum())
    direction = np.random.default_rng(1).standard_normal(logits.shape)
    eps = 1e-6
    numeric = (value(logits + eps * direction) - value(logits - eps * direction)) / (2 * eps)
    assert float((x.grad.numpy() * direction).sum()) == pytest.approx(numeric, rel=1e-6)
    assert np.all(x.grad.numpy()[il[2]:, 2] == 0)  # steps past an input's length


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("concatenated", [False, True])
def test_ctc_as_torch(reduction, zero_infinity, concatenated):
    logits, targets, il, tl = _batch(5)
    il = il.copy()
    il[3] = 1  # two labels in one step: impossible, an infinite loss
    if concatenated:
        targets = np.concatenate([targets[i, :tl[i]] for i in range(N)])
    found = []
    for lib in (fastnn, torch):
        x = lib.tensor(logits.astype(np.float32), requires_grad=True)
        loss = lib.nn.CTCLoss(blank=0, reduction=reduction, zero_infinity=zero_infinity)(
            x.log_softmax(2), lib.tensor(targets), lib.tensor(il), lib.tensor(tl))
        if zero_infinity or reduction == "none":
            (loss.sum() if reduction == "none" else loss).backward()
            grad = x.grad.numpy()
        else:
            grad = None
        found.append((loss.detach().numpy(), grad))
    np.testing.assert_allclose(found[0][0], found[1][0], rtol=1e-5)
    if found[0][1] is not None:
        finite = np.isfinite(found[1][1])
        np.testing.assert_allclose(found[0][1][finite], found[1][1][finite], rtol=1e-4,
                                   atol=1e-5)


@pytest.mark.skipif(torch is None, reason="torch is not installed")
def test_ctc_unbatched_and_grad_fn_as_torch():
    logits, targets, _, _ = _batch(7)
    found = []
    for lib in (fastnn, torch):
        lp = lib.tensor(logits[:, 0].astype(np.float32), requires_grad=True).log_softmax(1)
        loss = lib.nn.functional.ctc_loss(lp, lib.tensor(targets[0, :3]), (12,), (3,))
        found.append((round(loss.item(), 4), loss.grad_fn.name(), tuple(loss.shape)))
    assert found[0] == found[1]


def test_ctc_rejects_bad_arguments():
    logits, targets, il, tl = _batch()
    lp = fastnn.tensor(logits).log_softmax(2)
    with pytest.raises(RuntimeError, match="input_lengths"):
        F.ctc_loss(lp, fastnn.tensor(targets), [13, 1, 1, 1], tl)
    with pytest.raises(RuntimeError, match="target labels"):
        F.ctc_loss(lp, fastnn.tensor(targets + C), il, tl)
    with pytest.raises(RuntimeError, match="blank"):
        F.ctc_loss(lp, fastnn.tensor(targets), il, tl, blank=C)
    with pytest.raises(ValueError, match="reduction"):
        F.ctc_loss(lp, fastnn.tensor(targets), il, tl, reduction="avg")
