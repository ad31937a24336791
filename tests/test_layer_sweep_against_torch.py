"""34 layers built alike in torch and fastnn, torch's weights loaded into fastnn's, run in
float32 and float64: the same output dtype, shape and values, and the same input gradient
(to 1e-9 in float64, which the float64 convolution, pooling and batch-norm paths make
possible)."""
import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")

CASES = [
    ("Linear", (5, 3), {}, [(4, 5)]), ("Bilinear", (5, 5, 3), {}, [(2, 5), (2, 5)]),
    ("Conv1d", (2, 3, 3), dict(padding=1), [(2, 2, 7)]),
    ("Conv2d", (2, 3, 3), dict(stride=2, padding=1), [(2, 2, 7, 6)]),
    ("ConvTranspose2d", (2, 3, 3), dict(stride=2), [(2, 2, 4, 4)]),
    ("Conv3d", (2, 3, 2), {}, [(1, 2, 4, 4, 4)]), ("BatchNorm1d", (5,), {}, [(4, 5)]),
    ("BatchNorm2d", (2,), {}, [(3, 2, 4, 4)]), ("LayerNorm", (5,), {}, [(3, 5)]),
    ("GroupNorm", (2, 4), {}, [(2, 4, 3, 3)]),
    ("InstanceNorm2d", (2,), dict(affine=True), [(2, 2, 4, 4)]), ("RMSNorm", (5,), {}, [(3, 5)]),
    ("LSTM", (5, 4), dict(batch_first=True), [(2, 3, 5)]), ("GRU", (5, 4), {}, [(3, 2, 5)]),
    ("RNN", (5, 4), dict(num_layers=2), [(3, 2, 5)]),
    ("MultiheadAttention", (4, 2), dict(batch_first=True), [(2, 3, 4)] * 3),
    ("TransformerEncoderLayer", (4, 2), dict(dim_feedforward=8, dropout=0.0, batch_first=True),
     [(2, 3, 4)]),
    ("PReLU", (), {}, [(3, 5)]), ("LocalResponseNorm", (2,), {}, [(2, 4, 3, 3)]),
    ("Upsample", (), dict(scale_factor=2, mode="bilinear"), [(1, 2, 3, 3)]),
    ("PixelShuffle", (2,), {}, [(1, 4, 2, 2)]), ("MaxPool2d", (2,), {}, [(1, 2, 4, 4)]),
    ("AvgPool1d", (2,), {}, [(1, 2, 6)]), ("AdaptiveMaxPool2d", (2,), {}, [(1, 2, 5, 5)]),
    ("Softmax2d", (), {}, [(1, 3, 2, 2)]), ("LogSoftmax", (), dict(dim=1), [(3, 4)]),
    ("Hardtanh", (-0.5, 0.5), {}, [(3, 4)]), ("CosineSimilarity", (), {}, [(3, 4), (3, 4)]),
    ("PairwiseDistance", (), {}, [(3, 4), (3, 4)]), ("Flatten", (), {}, [(2, 3, 4)]),
    ("Unflatten", (1, (2, 2)), {}, [(3, 4)]), ("MaxPool3d", (2,), {}, [(1, 2, 4, 4, 4)]),
    ("AvgPool3d", (2,), {}, [(1, 2, 4, 4, 4)]), ("ConvTranspose1d", (2, 3, 3), {}, [(2, 2, 5)]),
]


def _run(lib, name, args, kwargs, arrays, dtype, state=None):
    module = getattr(lib.nn, name)(*args, **kwargs).to(getattr(lib, dtype))
    if state is not None:
        module.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    inputs = [lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=True) for a in arrays]
    out = module(*inputs)
    if isinstance(out, tuple):
        out = out[0]
    out.sum().backward()
    saved = {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}
    return (str(out.dtype).split(".")[-1], tuple(out.shape), out.detach().numpy(),
            inputs[0].grad.numpy(), saved)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_layer_as_torch(case, dtype):
    name, args, kwargs, shapes = case
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    if name == "MultiheadAttention":
        arrays = arrays[:1] * 3  # self-attention: query, key and value the same tensor
    theirs = _run(torch, name, args, kwargs, arrays, dtype)
    mine = _run(fastnn, name, args, kwargs, arrays, dtype, state=theirs[4])
    assert mine[:2] == theirs[:2]
    tolerance = 1e-4 if dtype == "float32" else 1e-9
    np.testing.assert_allclose(mine[2], theirs[2], rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(mine[3], theirs[3], rtol=tolerance, atol=tolerance)
