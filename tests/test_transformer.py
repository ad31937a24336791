"""nn.MultiheadAttention, the Transformer layers and F.scaled_dot_product_attention against
torch: outputs, attention weights and every parameter gradient, with masks (boolean, float,
key padding), bias_kv, zero attention, separate key/value sizes, batch_first, unbatched input,
pre-norm and gelu; and a word-language-model Transformer ported by its imports."""
import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn.nn import functional as F
from conftest import requires_torch
from test_porting import compare

try:
    import torch
except ImportError:
    torch = None

L, N, E, S = 5, 3, 8, 4


def _load(ours, theirs):
    ours.load_state_dict({k: fastnn.tensor(v.detach().numpy())
                          for k, v in theirs.state_dict().items()})
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]


def _compare(theirs, ours, t_args, f_args, weights_too=False):
    rng = np.random.default_rng(5)
    t_out, f_out = theirs(*t_args), ours(*f_args)
    t0, f0 = (t_out[0], f_out[0]) if isinstance(t_out, tuple) else (t_out, f_out)
    w = rng.standard_normal(tuple(t0.shape)).astype(np.float32)
    (t0 * torch.tensor(w)).sum().backward()
    (f0 * fastnn.tensor(w)).sum().backward()
    np.testing.assert_allclose(f0.detach().numpy(), t0.detach().numpy(), rtol=1e-4, atol=1e-5)
    if weights_too:
        np.testing.assert_allclose(f_out[1].detach().numpy(), t_out[1].detach().numpy(),
                                   rtol=1e-4, atol=1e-6)
    for (name, p), q in zip(theirs.named_parameters(), ours.parameters()):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-3, atol=1e-5,
                                   err_msg=name)


@requires_torch
@pytest.mark.parametrize("kwargs", [{}, {"bias": False}, {"add_bias_kv": True},
                                    {"add_zero_attn": True}, {"kdim": 6, "vdim": 5}])
def test_multihead_attention_with_masks(kwargs):
    rng = np.random.default_rng(0)
    theirs = torch.nn.MultiheadAttention(E, 2, **kwargs)
    ours = nn.MultiheadAttention(E, 2, **kwargs)
    _load(ours, theirs)
    q = rng.standard_normal((L, N, E)).astype(np.float32)
    k = rng.standard_normal((S, N, kwargs.get("kdim", E))).astype(np.float32)
    v = rng.standard_normal((S, N, kwargs.get("vdim", E))).astype(np.float32)
    mask = np.triu(np.ones((L, S), bool), 1)
    padding = np.zeros((N, S), bool)
    padding[0, -1] = True
    arrays = (q, k, v, padding)
    _compare(theirs, ours, [torch.tensor(a) for a in arrays] + [True, torch.tensor(mask)],
             [fastnn.tensor(a) for a in arrays] + [True, fastnn.tensor(mask)], weights_too=True)


@requires_torch
def test_multihead_attention_batch_first_per_head_weights_and_unbatched():
    rng = np.random.default_rng(1)
    theirs, ours = (torch.nn.MultiheadAttention(E, 4, batch_first=True),
                    nn.MultiheadAttention(E, 4, batch_first=True))
    _load(ours, theirs)
    x = rng.standard_normal((N, L, E)).astype(np.float32)
    float_mask = rng.standard_normal((L, L)).astype(np.float32)
    _compare(theirs, ours, [torch.tensor(x)] * 3 + [None, True, torch.tensor(float_mask), False],
             [fastnn.tensor(x)] * 3 + [None, True, fastnn.tensor(float_mask), False],
             weights_too=True)
    theirs.zero_grad()
    ours.zero_grad()
    x = rng.standard_normal((L, E)).astype(np.float32)
    _compare(theirs, ours, [torch.tensor(x)] * 3, [fastnn.tensor(x)] * 3, weights_too=True)


@requires_torch
@pytest.mark.parametrize("kwargs", [{}, {"norm_first": True, "activation": "gelu",
                                         "batch_first": True}])
def test_encoder_layer(kwargs):
    theirs = torch.nn.TransformerEncoderLayer(E, 2, 16, dropout=0.0, **kwargs)
    ours = nn.TransformerEncoderLayer(E, 2, 16, dropout=0.0, **kwargs)
    _load(ours, theirs)
    shape = (N, L, E) if kwargs.get("batch_first") else (L, N, E)
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    _compare(theirs, ours, [torch.tensor(x), torch.nn.Transformer.generate_square_subsequent_mask(L)],
             [fastnn.tensor(x), nn.Transformer.generate_square_subsequent_mask(L)])


@requires_torch
def test_full_transformer():
    theirs = torch.nn.Transformer(E, 2, 2, 2, 16, dropout=0.0)
    ours = nn.Transformer(E, 2, 2, 2, 16, dropout=0.0)
    _load(ours, theirs)
    rng = np.random.default_rng(3)
    src = rng.standard_normal((L, N, E)).astype(np.float32)
    tgt = rng.standard_normal((4, N, E)).astype(np.float32)
    _compare(theirs, ours, [torch.tensor(src), torch.tensor(tgt), None,
                            torch.nn.Transformer.generate_square_subsequent_mask(4)],
             [fastnn.tensor(src), fastnn.tensor(tgt), None,
              nn.Transformer.generate_square_subsequent_mask(4)])


@requires_torch
@pytest.mark.parametrize("kwargs", [{}, {"is_causal": True}, {"scale": 0.3},
                                    {"attn_mask": "bool"}, {"attn_mask": "float"}])
def test_scaled_dot_product_attention(kwargs):
    rng = np.random.default_rng(4)
    q, k, v = (rng.standard_normal((2, 3, 5, 4)).astype(np.float32) for _ in range(3))
    t_kwargs, f_kwargs = dict(kwargs), dict(kwargs)
    if kwargs.get("attn_mask") == "bool":
        mask = np.tril(np.ones((5, 5), bool))
        t_kwargs["attn_mask"], f_kwargs["attn_mask"] = torch.tensor(mask), fastnn.tensor(mask)
    elif kwargs.get("attn_mask") == "float":
        mask = rng.standard_normal((5, 5)).astype(np.float32)
        t_kwargs["attn_mask"], f_kwargs["attn_mask"] = torch.tensor(mask), fastnn.tensor(mask)
    t_in = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    f_in = [fastnn.tensor(a, requires_grad=True) for a in (q, k, v)]
    t_out = torch.nn.functional.scaled_dot_product_attention(*t_in, **t_kwargs)
    f_out = F.scaled_dot_product_attention(*f_in, **f_kwargs)
    (t_out ** 2).sum().backward()
    (f_out ** 2).sum().backward()
    np.testing.assert_allclose(f_out.detach().numpy(), t_out.detach().numpy(), atol=1e-5)
    for t, f in zip(t_in, f_in):
        np.testing.assert_allclose(f.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_square_subsequent_mask():
    mask = nn.Transformer.generate_square_subsequent_mask(3).numpy()
    assert mask.tolist() == [[0, -np.inf, -np.inf], [0, 0, -np.inf], [0, 0, 0]]


def test_attention_errors():
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(10, 3)
    attn = nn.MultiheadAttention(8, 2)
    x = fastnn.randn(5, 2, 8)
    with pytest.raises(RuntimeError, match=r"The shape of the 2D attn_mask is \(4, 4\), but "
                                           r"should be \(5, 5\)."):
        attn(x, x, x, attn_mask=fastnn.zeros(4, 4))


WORD_LANGUAGE_MODEL = """
import math
import torch
import torch.nn as nn

class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.1, max_len=50):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        pe = pe.unsqueeze(0).transpose(0, 1)
        self.register_buffer('pe', pe)

    def forward(self, x):
        x = x + self.pe[:x.size(0), :]
        return self.dropout(x)

class TransformerModel(nn.Transformer):
    # pytorch/examples word_language_model's Transformer, scaled down
    def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.0):
        super().__init__(d_model=ninp, nhead=nhead, dim_feedforward=nhid,
                         num_encoder_layers=nlayers)
        self.src_mask = None
        self.pos_encoder = PositionalEncoding(ninp, dropout)
        self.input_emb = nn.Embedding(ntoken, ninp)
        self.ninp = ninp
        self.decoder = nn.Linear(ninp, ntoken)

    def forward(self, src):
        if self.src_mask is None or self.src_mask.size(0) != len(src):
            self.src_mask = nn.Transformer.generate_square_subsequent_mask(len(src))
        src = self.input_emb(src) * math.sqrt(self.ninp)
        src = self.pos_encoder(src)
        output = self.encoder(src, mask=self.src_mask)
        output = self.decoder(output)
        return torch.log_softmax(output, dim=-1)

model = TransformerModel(11, 8, 2, 16, 2)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.linspace(-0.2, 0.2, p.numel()).reshape(p.shape))
model.eval()  # no dropout: the two runs must agree
criterion = nn.NLLLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
data = torch.tensor(TOKENS)
losses = []
for i in range(0, data.size(0) - 6, 5):
    source, target = data[i:i + 5], data[i + 1:i + 6].reshape(-1)
    model.zero_grad()
    output = model(source)
    loss = criterion(output.view(-1, 11), target)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
    optimizer.step()
    losses.append(loss.item())
result = {"losses": losses}
"""


@requires_torch
def test_word_language_model_transformer_ports_by_its_imports():
    import warnings
    tokens = np.random.default_rng(6).integers(0, 11, size=(26, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's nested-tensor advice
        ours = compare(WORD_LANGUAGE_MODEL, rtol=1e-4, atol=1e-5, TOKENS=tokens)
    assert len(ours["losses"]) == 4 and np.isfinite(ours["losses"]).all()


@requires_torch
def test_transformer_warnings_as_torch():
    """pytorch/examples' language_translation builds nn.Transformer (batch_first=False) and
    passes a float causal mask with bool padding masks: torch warns that the nested-tensor fast
    path is off, and that mismatched mask types are deprecated; an integer mask is refused."""
    import warnings
    import torch

    def run(m):
        seen = []
        layers = [lambda: m.nn.TransformerEncoderLayer(8, 2, 16),
                  lambda: m.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True),
                  lambda: m.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True,
                                                       norm_first=True),
                  lambda: m.nn.TransformerEncoderLayer(8, 1, 16, batch_first=True),
                  lambda: m.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True,
                                                       activation=m.tanh),
                  lambda: m.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, bias=False)]
        for make in layers:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                encoder = m.nn.TransformerEncoder(make(), 2)
            seen.append(([str(c.message) for c in caught], encoder.use_nested_tensor,
                         encoder.enable_nested_tensor, encoder.mask_check))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m.nn.TransformerEncoder(layers[0](), 1, enable_nested_tensor=False)
            m.nn.Transformer(8, 2, 1, 1, 16)
        seen.append([str(c.message) for c in caught])
        attn = m.nn.MultiheadAttention(8, 2)
        x = m.ones(3, 2, 8)
        causal = m.zeros(3, 3)
        padding = m.tensor([[False, False, True], [False, False, False]])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            attn(x, x, x, key_padding_mask=padding, attn_mask=causal)
            attn(x, x, x, key_padding_mask=padding, attn_mask=causal.bool())
        seen.append([str(c.message) for c in caught])
        try:
            attn(x, x, x, key_padding_mask=padding.long())
        except AssertionError as error:
            seen.append(str(error))
        return seen
    assert run(fastnn) == run(torch)
