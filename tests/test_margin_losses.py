"""Embedding, ranking and count losses against torch: values and gradients for each reduction,
the modules' reprs, and finite differences."""
import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn.nn import functional as F
from gradcheck import check_op

try:
    import torch
except ImportError:
    torch = None

RNG = np.random.default_rng(3)
A, B, C = (RNG.standard_normal((4, 5)) for _ in range(3))
SIGNS = np.array([1.0, -1.0, -1.0, 1.0])
MULTI = (RNG.random((4, 5)) > 0.5).astype(np.float64)
COUNTS = np.array([[0.0, 1.0, 3.0, 2.0, 5.0]] * 4)

CASES = {
    "pairwise_distance": (lambda F_, T, a, b: F_.pairwise_distance(a, b), [A, B]),
    "pairwise_distance_p1": (lambda F_, T, a, b: F_.pairwise_distance(a, b, 1.0, keepdim=True),
                             [A, B]),
    "triplet": (lambda F_, T, a, b, c: F_.triplet_margin_loss(a, b, c, margin=2.0), [A, B, C]),
    "triplet_swap": (lambda F_, T, a, b, c: F_.triplet_margin_loss(a, b, c, swap=True,
                                                                   reduction="none"),
                     [A, B, C]),
    "margin_ranking": (lambda F_, T, a, b: F_.margin_ranking_loss(
        a[:, 0], b[:, 0], T.tensor(SIGNS, dtype=a.dtype), margin=0.3), [A, B]),
    "cosine_embedding": (lambda F_, T, a, b: F_.cosine_embedding_loss(
        a, b, T.tensor(SIGNS, dtype=a.dtype), margin=0.1, reduction="sum"), [A, B]),
    "hinge_embedding": (lambda F_, T, a: F_.hinge_embedding_loss(
        a, T.tensor(np.sign(B), dtype=a.dtype), reduction="none"), [A]),
    "soft_margin": (lambda F_, T, a: F_.soft_margin_loss(a, T.tensor(np.sign(B),
                                                                     dtype=a.dtype)), [A]),
    "multilabel_soft_margin": (lambda F_, T, a: F_.multilabel_soft_margin_loss(
        a, T.tensor(MULTI, dtype=a.dtype), reduction="none"), [A]),
    "multi_margin": (lambda F_, T, a: F_.multi_margin_loss(a, T.tensor([0, 4, 2, 1])), [A]),
    "multi_margin_p2_weight": (lambda F_, T, a: F_.multi_margin_loss(
        a, T.tensor([0, 4, 2, 1]), p=2, margin=0.5,
        weight=T.tensor([1.0, 2.0, 0.5, 1.0, 3.0], dtype=a.dtype), reduction="none"), [A]),
    "poisson_nll": (lambda F_, T, a: F_.poisson_nll_loss(a, T.tensor(COUNTS, dtype=a.dtype)),
                    [A]),
    "poisson_nll_full": (lambda F_, T, a: F_.poisson_nll_loss(
        a * a + 0.5, T.tensor(COUNTS, dtype=a.dtype), log_input=False, full=True,
        reduction="sum"), [A]),
    "gaussian_nll": (lambda F_, T, a, v: F_.gaussian_nll_loss(a, T.tensor(B, dtype=a.dtype),
                                                              v * v + 0.1), [A, C]),
    "gaussian_nll_vector_var": (lambda F_, T, a, v: F_.gaussian_nll_loss(
        a, T.tensor(B, dtype=a.dtype), v[:, 0] * v[:, 0] + 0.1, full=True, reduction="none"),
        [A, C]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients(name):
    fn, arrays = CASES[name]
    check_op(lambda *t: fn(F, fastnn, *t), arrays, rtol=3e-2,
             torch_fn=(lambda *t: fn(torch.nn.functional, torch, *t))
             if torch is not None else None)


def _inputs(T, name):
    a, b, c = (T.tensor(x, dtype=T.float32) for x in (A, B, C))
    signs = T.tensor(SIGNS, dtype=T.float32)
    return {
        "PairwiseDistance": (a, b), "TripletMarginLoss": (a, b, c),
        "MarginRankingLoss": (a[:, 0], b[:, 0], signs), "CosineEmbeddingLoss": (a, b, signs),
        "HingeEmbeddingLoss": (a, T.tensor(np.sign(B), dtype=T.float32)),
        "SoftMarginLoss": (a, T.tensor(np.sign(B), dtype=T.float32)),
        "MultiLabelSoftMarginLoss": (a, T.tensor(MULTI, dtype=T.float32)),
        "MultiMarginLoss": (a, T.tensor([0, 4, 2, 1])),
        "PoissonNLLLoss": (a, T.tensor(COUNTS, dtype=T.float32)),
        "GaussianNLLLoss": (a, b, c * c + 0.1),
    }[name]


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("name,args", [
    ("PairwiseDistance", ()), ("TripletMarginLoss", (0.5,)), ("MarginRankingLoss", ()),
    ("CosineEmbeddingLoss", ()), ("HingeEmbeddingLoss", ()), ("SoftMarginLoss", ()),
    ("MultiLabelSoftMarginLoss", ()), ("MultiMarginLoss", ()), ("PoissonNLLLoss", ()),
    ("GaussianNLLLoss", ()),
])
def test_modules_match_torch(name, args):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    np.testing.assert_allclose(ours(*_inputs(fastnn, name)).numpy(),
                               theirs(*_inputs(torch, name)).numpy(), rtol=1e-5, atol=1e-6)
