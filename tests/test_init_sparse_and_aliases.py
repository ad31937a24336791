"""nn.init.sparse_ (Martens 2010) and the deprecated nn.NLLLoss2d, as torch's."""
import numpy as np
import pytest

import fastnn

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional peer
    torch = None


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.5, 1.0])
def test_sparse_init_zeroes_a_fraction_of_each_column(sparsity):
    w = fastnn.empty(50, 7)
    fastnn.manual_seed(0)
    out = fastnn.nn.init.sparse_(w, sparsity, std=0.02)
    assert out is w
    zeros = (w.numpy() == 0).sum(axis=0)
    assert zeros.tolist() == [int(np.ceil(sparsity * 50))] * 7
    live = w.numpy()[w.numpy() != 0]
    if live.size > 100:
        assert live.std() == pytest.approx(0.02, rel=0.2)
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        fastnn.nn.init.sparse_(fastnn.empty(2, 3, 4), 0.1)
    meta = fastnn.empty(4, 4, device="meta")
    assert fastnn.nn.init.sparse_(meta, 0.5) is meta


def test_nll_loss_2d_is_nll_loss_with_torch_warning():
    x = fastnn.randn(2, 3, 4, 4).log_softmax(1)
    t = fastnn.randint(0, 3, (2, 4, 4))
    with pytest.warns(FutureWarning, match="NLLLoss2d` has been deprecated"):
        loss = fastnn.nn.NLLLoss2d()
    assert loss(x, t).item() == pytest.approx(fastnn.nn.NLLLoss()(x, t).item())
    if torch is not None:
        with pytest.warns(FutureWarning):
            expected = torch.nn.NLLLoss2d()(torch.tensor(x.numpy()), torch.tensor(t.numpy()))
        assert loss(x, t).item() == pytest.approx(expected.item(), rel=1e-6)
