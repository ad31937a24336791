"""torch.nn.utils.prune as the pruning tutorial uses it: masks as buffers, the original as
`name_orig`, masks combined over repeated prunings, remove(), global pruning, custom methods,
and gradients only through the entries left."""
import numpy as np
import pytest

import fastnn
from conftest import requires_torch
from fastnn import nn
from fastnn.nn.utils import prune


def _linear(seed=0):
    fastnn.manual_seed(seed)
    return nn.Linear(8, 6)


def test_l1_pruning_moves_the_parameter_and_masks_the_smallest():
    m = _linear()
    prune.l1_unstructured(m, "weight", amount=0.25)
    assert [n for n, _ in m.named_parameters()] == ["bias", "weight_orig"]
    assert [n for n, _ in m.named_buffers()] == ["weight_mask"]
    w = m.weight_orig.detach().numpy()
    dropped = m.weight_mask.numpy() == 0
    assert dropped.sum() == 12
    assert np.abs(w[dropped]).max() <= np.abs(w[~dropped]).min()
    np.testing.assert_array_equal(m.weight.detach().numpy(), w * ~dropped)
    m(fastnn.randn(3, 8)).sum().backward()
    assert (m.weight_orig.grad.numpy()[dropped] == 0).all()


def test_repeated_pruning_combines_masks_and_remove_makes_it_permanent():
    m = _linear()
    prune.ln_structured(m, "weight", amount=0.5, n=2, dim=0)
    prune.l1_unstructured(m, "weight", amount=6)
    hook = [h for h in m._forward_pre_hooks.values() if h._tensor_name == "weight"][0]
    assert isinstance(hook, prune.PruningContainer) and len(hook) == 2
    mask = m.weight_mask.numpy()
    assert (mask.sum(axis=1) == 0).sum() == 3 and (mask == 0).sum() == 3 * 8 + 6
    prune.remove(m, "weight")
    assert [n for n, _ in m.named_parameters()] == ["bias", "weight"]
    assert isinstance(m.weight, nn.Parameter) and (m.weight.detach().numpy() == 0).sum() == 30
    assert not prune.is_pruned(m)
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(m, "weight")


def test_global_and_custom_pruning():
    a, b = _linear(1), _linear(2)
    prune.global_unstructured([(a, "weight"), (b, "weight")],
                              pruning_method=prune.L1Unstructured, amount=0.5)
    both = np.concatenate([a.weight_orig.detach().numpy().ravel(),
                           b.weight_orig.detach().numpy().ravel()])
    masks = np.concatenate([a.weight_mask.numpy().ravel(), b.weight_mask.numpy().ravel()])
    assert (masks == 0).sum() == 48
    assert np.abs(both[masks == 0]).max() <= np.abs(both[masks == 1]).min()

    class EveryOther(prune.BasePruningMethod):
        PRUNING_TYPE = "unstructured"

        def compute_mask(self, t, default_mask):
            mask = default_mask.clone()
            mask.view(-1)[::2] = 0
            return mask

    EveryOther.apply(a, "bias")
    assert a.bias_mask.numpy().tolist() == [0, 1, 0, 1, 0, 1]
    with pytest.raises(ValueError, match="should be smaller than the number of parameters"):
        prune.l1_unstructured(b, "bias", amount=7)


@requires_torch
def test_pruned_models_agree_with_torch():
    import torch
    import torch.nn.utils.prune  # noqa: F401 (torch does not import it with torch.nn.utils)

    w = np.random.RandomState(0).randn(6, 8).astype(np.float32)

    def run(lib):
        m = lib.nn.Linear(8, 6)
        with lib.no_grad():
            m.weight.copy_(lib.tensor(w))
            m.bias.zero_()
        lib.nn.utils.prune.ln_structured(m, "weight", amount=2, n=1, dim=0)
        lib.nn.utils.prune.l1_unstructured(m, "weight", amount=0.2)
        return m.weight_mask.numpy(), list(m.state_dict())

    mine, theirs = run(fastnn), run(torch)
    np.testing.assert_array_equal(mine[0], theirs[0])
    assert mine[1] == theirs[1]
