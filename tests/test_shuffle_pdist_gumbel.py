"""F.channel_shuffle / nn.ChannelShuffle, F.pdist, F.gumbel_softmax and the triplet loss with
any distance: values and gradients against torch and finite differences, torch's errors."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from conftest import requires_torch
from gradcheck import check_op, raised

try:
    import torch
except ImportError:
    torch = None


@requires_torch
@pytest.mark.parametrize("shape,groups", [((2, 6, 3, 4), 3), ((1, 4, 5), 2),
                                          ((2, 5, 1, 1), 1), ((0, 6, 2, 2), 2)])
def test_channel_shuffle_matches_torch(shape, groups):
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    ours = fastnn.nn.ChannelShuffle(groups)(fastnn.tensor(x)).numpy()
    theirs = torch.nn.ChannelShuffle(groups)(torch.tensor(x)).numpy()
    np.testing.assert_array_equal(ours, theirs)
    assert repr(fastnn.nn.ChannelShuffle(groups)) == repr(torch.nn.ChannelShuffle(groups))


@requires_torch
def test_pdist_matches_torch_and_finite_differences():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3))
    for p in (1.0, 2.0, 3.0):
        check_op(lambda a: F.pdist(a, p), [x], torch_fn=lambda a: torch.nn.functional.pdist(a, p))
    assert F.pdist(fastnn.zeros(1, 4)).shape == (0,)


@requires_torch
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_triplet_loss_with_a_custom_distance_matches_torch(swap, reduction):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((6, 4)).astype(np.float32) for _ in range(3)]
    results = []
    for m in (fastnn, torch):
        tensors = [m.tensor(a, requires_grad=True) for a in arrays]
        cosine = m.nn.CosineSimilarity()
        for distance in (None, lambda a, b: 1.0 - cosine(a, b)):
            loss = m.nn.TripletMarginWithDistanceLoss(distance_function=distance, margin=0.5,
                                                      swap=swap, reduction=reduction)(*tensors)
            loss.sum().backward()
            results.append([loss.detach().numpy()] + [t.grad.numpy().copy() for t in tensors])
    half = len(results) // 2
    for ours, theirs in zip(results[:half], results[half:]):
        for got, want in zip(ours, theirs):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_gumbel_softmax_samples_are_distributions_and_hard_is_straight_through():
    fastnn.manual_seed(0)
    logits = fastnn.tensor([[0.0, 1.0, 2.0]] * 4000, requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.detach().numpy().sum(1), 1, rtol=1e-5)
    hard = F.gumbel_softmax(logits, hard=True)
    counts = hard.detach().numpy().sum(0) / 4000
    # Gumbel-max: the argmax is a sample of softmax(logits)
    expected = np.exp([0.0, 1.0, 2.0]) / np.exp([0.0, 1.0, 2.0]).sum()
    np.testing.assert_allclose(counts, expected, atol=0.03)
    assert set(np.unique(hard.detach().numpy())) == {0.0, 1.0}
    (hard * fastnn.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert np.abs(logits.grad.numpy()).sum() > 0  # the soft sample's gradient


@requires_torch
def test_errors_are_torchs():
    def errors(m):
        return raised((lambda: m.nn.functional.channel_shuffle(m.zeros(2, 4, 3), 3),
                       lambda: m.nn.functional.channel_shuffle(m.zeros(3, 8), 4),
                       lambda: m.nn.functional.pdist(m.zeros(2, 4, 3)),
                       lambda: m.nn.functional.triplet_margin_with_distance_loss(
                           m.zeros(2, 3), m.zeros(2, 3), m.zeros(3), margin=1.0),
                       lambda: m.nn.functional.triplet_margin_with_distance_loss(
                           m.zeros(2, 3), m.zeros(2, 3), m.zeros(2, 3), margin=0.0),
                       lambda: m.nn.TripletMarginWithDistanceLoss(margin=-1.0)))
    assert errors(fastnn) == errors(torch)
