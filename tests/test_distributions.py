"""fastnn.distributions against torch.distributions: log_prob, entropy, means and their
gradients; sample frequencies and shapes; rsample's gradient; argument validation; and
pytorch/examples' REINFORCE update with fixed actions, ported by its imports."""
import numpy as np
import pytest

import fastnn
from fastnn.distributions import (Bernoulli, Categorical, Multinomial, Normal,
                                  OneHotCategorical, Uniform)
from conftest import requires_torch
from test_porting import compare

try:
    import torch
except ImportError:
    torch = None


def test_categorical_sampling_frequencies_and_shapes():
    fastnn.manual_seed(0)
    dist = Categorical(probs=fastnn.tensor([[0.1, 0.6, 0.3], [1.0, 0.0, 0.0]]))
    draws = dist.sample((5000,)).numpy()
    assert draws.shape == (5000, 2) and draws.dtype == np.int64
    freq = np.bincount(draws[:, 0], minlength=3) / 5000
    assert np.abs(freq - [0.1, 0.6, 0.3]).max() < 0.03 and (draws[:, 1] == 0).all()
    assert tuple(Categorical(logits=fastnn.zeros(4)).sample().shape) == ()


def test_normal_rsample_is_differentiable_and_sample_is_not():
    loc = fastnn.tensor([0.5, -1.0], requires_grad=True)
    scale = fastnn.tensor([2.0, 0.5], requires_grad=True)
    dist = Normal(loc, scale)
    fastnn.manual_seed(1)
    x = dist.rsample((20000,))
    x.mean().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [0.5, 0.5], rtol=1e-3)  # a float32 mean
    assert not dist.sample().requires_grad
    values = x.detach().numpy()
    np.testing.assert_allclose(values.mean(0), [0.5, -1.0], atol=0.05)
    np.testing.assert_allclose(values.std(0), [2.0, 0.5], rtol=0.03)


@requires_torch
@pytest.mark.parametrize("build", [
    lambda D, T: D.Categorical(probs=T.tensor([[0.1, 0.6, 0.3], [0.5, 0.25, 0.25]])),
    lambda D, T: D.Categorical(logits=T.tensor([1.0, -2.0, 0.5, 0.0])),
    lambda D, T: D.Bernoulli(probs=T.tensor([0.2, 0.7])),
    lambda D, T: D.Bernoulli(logits=T.tensor([-1.0, 3.0])),
    lambda D, T: D.Normal(T.tensor([0.0, 1.5]), T.tensor([1.0, 0.3])),
    lambda D, T: D.Uniform(T.tensor([0.0, -1.0]), T.tensor([2.0, 1.0])),
])
def test_log_prob_and_entropy_match_torch(build):
    ours, theirs = build(fastnn.distributions, fastnn), build(torch.distributions, torch)
    assert repr(ours).replace("fastnn", "torch") == repr(theirs)
    value = theirs.sample()
    np.testing.assert_allclose(ours.log_prob(fastnn.tensor(value.numpy())).numpy(),
                               theirs.log_prob(value).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.entropy().numpy(), theirs.entropy().numpy(), rtol=1e-5)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)


@requires_torch
def test_multinomial_and_one_hot_match_torch():
    probs = [0.1, 0.2, 0.3, 0.4]
    counts = [2.0, 0.0, 1.0, 3.0]
    ours = Multinomial(6, fastnn.tensor(probs)).log_prob(fastnn.tensor(counts))
    theirs = torch.distributions.Multinomial(6, torch.tensor(probs)).log_prob(
        torch.tensor(counts))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5)
    sample = Multinomial(10, fastnn.tensor(probs)).sample((3,))
    assert tuple(sample.shape) == (3, 4) and sample.sum(1).tolist() == [10.0, 10.0, 10.0]
    one_hot = OneHotCategorical(fastnn.tensor(probs)).sample((2,))
    assert tuple(one_hot.shape) == (2, 4) and one_hot.sum(1).tolist() == [1.0, 1.0]


def test_invalid_parameters_raise_torchs_error():
    with pytest.raises(ValueError, match=r"Expected parameter probs \(Tensor of shape \(2,\)\) "
                                         r"of distribution Categorical\(probs: .*Size\(\[2\]\)\)"
                                         r" to satisfy the constraint Simplex\(\)"):
        Categorical(probs=fastnn.tensor([-0.2, 0.8]))
    with pytest.raises(ValueError, match="constraint GreaterThan\\(lower_bound=0.0\\)"):
        Normal(fastnn.tensor([0.0]), fastnn.tensor([-1.0]))
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified"):
        Bernoulli()
    with pytest.raises(ValueError, match="to be within the support"):
        Categorical(probs=fastnn.tensor([0.5, 0.5])).log_prob(fastnn.tensor(2))


REINFORCE = """
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.distributions import Categorical

class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.affine1 = nn.Linear(4, 16)
        self.affine2 = nn.Linear(16, 2)

    def forward(self, x):
        return F.softmax(self.affine2(F.relu(self.affine1(x))), dim=1)

policy = Policy()
with torch.no_grad():
    for p in policy.parameters():
        p.copy_(torch.linspace(-0.5, 0.5, p.numel()).reshape(p.shape))
optimizer = optim.Adam(policy.parameters(), lr=1e-2)
log_probs = []
for state, action in zip(STATES, ACTIONS):
    probs = policy(torch.from_numpy(state).float().unsqueeze(0))
    m = Categorical(probs)
    log_probs.append(m.log_prob(torch.tensor([action])))
returns = torch.tensor(RETURNS)
returns = (returns - returns.mean()) / (returns.std() + 1e-6)
policy_loss = torch.cat([-lp * R for lp, R in zip(log_probs, returns)]).sum()
optimizer.zero_grad()
policy_loss.backward()
optimizer.step()
result = {"loss": policy_loss, "weight": policy.affine1.weight}
"""


@requires_torch
def test_reinforce_update_ports_by_its_imports():
    rng = np.random.default_rng(2)
    compare(REINFORCE, rtol=1e-4, atol=1e-6, STATES=rng.standard_normal((6, 4)),
            ACTIONS=[0, 1, 1, 0, 1, 0], RETURNS=[1.0, 0.9, 0.81, 0.73, 0.66, 0.59])
