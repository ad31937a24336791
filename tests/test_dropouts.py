"""Channel dropout (dropout1d/2d/3d and their modules) and alpha dropout: which elements are
zeroed together, the scaling, the identity in eval mode, torch's rank rules, and alpha dropout
keeping a standard normal's mean and variance."""
import warnings

import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn.nn import functional as F


@pytest.mark.parametrize("fn,shape,kept", [(F.dropout1d, (8, 6, 10), 2),
                                           (F.dropout1d, (6, 10), 1),
                                           (F.dropout2d, (8, 6, 4, 5), 2),
                                           (F.dropout3d, (4, 6, 2, 3, 4), 2)])
def test_whole_channels_are_zeroed_and_the_rest_scaled(fn, shape, kept):
    fastnn.manual_seed(0)
    x = fastnn.ones(*shape, requires_grad=True)
    out = fn(x, 0.4)
    values = out.detach().numpy().reshape(tuple(shape[:kept]) + (-1,))
    per_channel = values[..., 0]
    assert np.all(values == per_channel[..., None])  # one draw per channel
    assert set(np.unique(per_channel)) <= {0.0, np.float32(1.0 / 0.6)}
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.detach().numpy())
    assert fn(x, 0.4, training=False) is x


def test_modules_and_rank_rules():
    assert repr(nn.Dropout1d(0.2)) == "Dropout1d(p=0.2, inplace=False)"
    layer = nn.Dropout3d(0.5)
    layer.eval()
    x = fastnn.randn(2, 3, 2, 2, 2)
    assert layer(x) is x
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input"):
        F.dropout1d(fastnn.zeros(2, 3, 4, 5))
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(fastnn.ones(2, 3, 4), 0.5)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.dropout2d(fastnn.ones(2, 3, 4, 4), 1.5)


def test_alpha_dropout_keeps_mean_and_variance():
    fastnn.manual_seed(1)
    x = fastnn.randn(200000)
    out = F.alpha_dropout(x, 0.3, training=True).numpy()
    assert abs(out.mean()) < 0.01 and abs(out.std() - 1.0) < 0.01
    alpha = -1.7580993408473766  # -SELU scale * alpha: where SELU saturates
    a = ((1 - 0.3) * (1 + 0.3 * alpha ** 2)) ** -0.5
    dropped = np.isclose(out, a * alpha * (1 - 0.3), rtol=1e-6)  # a * alpha + b
    assert 0.29 < dropped.mean() < 0.31
    assert F.alpha_dropout(x, 0.3) is x  # training defaults to False, as torch's
    assert tuple(nn.FeatureAlphaDropout(0.2)(fastnn.randn(2, 3, 4)).shape) == (2, 3, 4)


RANK_SHAPES = [(4,), (3, 5), (2, 3, 4), (2, 3, 4, 2), (2, 3, 2, 2, 2), (2, 2, 2, 2, 2, 2)]


@pytest.mark.parametrize("name", ["dropout1d", "dropout2d", "dropout3d", "feature_alpha_dropout"])
@pytest.mark.parametrize("shape", RANK_SHAPES, ids=str)
def test_every_rank_draws_torch_s_mask(name, shape):
    """torch's feature noise is (size 0, size 1, 1, ...); dropout1d/3d first add a batch dim
    to an input not of their batched rank, dropout2d never does: a 2-D (N, C) input to
    Dropout2d loses single elements (pytorch/examples mnist_rnn applies it after an LSTM),
    where fastnn used to drop whole samples and trained that example worse than torch."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (torch, fastnn):
        lib.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                results.append(getattr(lib.nn.functional, name)(lib.ones(*shape), 0.5, True)
                               .numpy())
            except RuntimeError as error:
                results.append(str(error))
    if isinstance(results[0], str):
        assert results[1] == results[0]
    else:
        np.testing.assert_allclose(results[1], results[0], rtol=1e-6)


def test_dropout2d_of_rows_keeps_some_of_every_row():
    fastnn.manual_seed(0)
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        out = F.dropout2d(fastnn.ones(64, 64), 0.5).numpy()
    assert (out != 0).any(axis=1).all() and not (out != 0).all(axis=1).any()
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        F.dropout2d(fastnn.ones(4), 0.5)
    assert F.dropout2d(fastnn.ones(4), 0.5, training=False).shape == (4,)  # no mask drawn
