"""nn.RNN, nn.LSTM, nn.GRU and their cells: parameter names, shapes and initialisation as
torch's; forward and every gradient against torch (float64, every layout option) and against
finite differences; torch's error messages; a language-model training loop ported by its
imports."""
import numpy as np
import pytest

import fastnn
from fastnn import nn
from conftest import requires_torch
from test_porting import compare

try:
    import torch
except ImportError:
    torch = None

CONFIGS = [
    ("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("RNN", {"num_layers": 2}),
    ("RNN", {"bias": False}), ("LSTM", {}), ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"batch_first": True, "bias": False}),
    ("LSTM", {"proj_size": 3, "num_layers": 2, "bidirectional": True}),
    ("GRU", {}), ("GRU", {"num_layers": 2, "bidirectional": True, "batch_first": True}),
    ("GRU", {"bias": False}), ("RNN", {"bidirectional": True, "batch_first": True}),
]


def _state_shapes(kwargs, batch):
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    out = kwargs.get("proj_size", 0) or 7
    lead = (layers,) if batch is None else (layers, batch)
    return lead + (out,), lead + (7,)


def _run(module, cls, x, h0, c0):
    """A scalar that depends on the output and on every final state."""
    if cls == "LSTM":
        out, (h, c) = module(x, (h0, c0))
        return (out ** 2).sum() + (h * 2).sum() + (c ** 3).sum()
    out, h = module(x, h0)
    return (out ** 2).sum() + (h * 2).sum()


@requires_torch
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("cls,kwargs", CONFIGS)
def test_matches_torch(cls, kwargs, batched):
    rng = np.random.default_rng(0)
    theirs = getattr(torch.nn, cls)(5, 7, **kwargs).double()
    ours = getattr(nn, cls)(5, 7, **kwargs, dtype=fastnn.float64)
    assert [(k, tuple(p.shape)) for k, p in ours.named_parameters()] == \
        [(k, tuple(p.shape)) for k, p in theirs.named_parameters()]
    ours.load_state_dict({k: fastnn.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    batch = None
    shape = (4, 5)
    if batched:
        batch = 3
        shape = (3, 4, 5) if kwargs.get("batch_first") else (4, 3, 5)
    h_shape, c_shape = _state_shapes(kwargs, batch)
    arrays = [rng.standard_normal(s) for s in (shape, h_shape, c_shape)]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    f_in = [fastnn.tensor(a, requires_grad=True) for a in arrays]
    _run(theirs, cls, *t_in).backward()
    loss = _run(ours, cls, *f_in)
    loss.backward()
    np.testing.assert_allclose(loss.item(), _run(theirs, cls, *t_in).item(), rtol=1e-12)
    used = t_in if cls == "LSTM" else t_in[:2]
    for t, f in zip(used, f_in):
        np.testing.assert_allclose(f.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)
    for (name, p), q in zip(theirs.named_parameters(), ours.parameters()):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_gradients_match_finite_differences(cls):
    """float64 central differences of a 2-layer bidirectional layer's loss, for the input,
    the initial state and one weight."""
    fastnn.manual_seed(1)
    module = getattr(nn, cls)(3, 4, num_layers=2, bidirectional=True, dtype=fastnn.float64)
    rng = np.random.default_rng(1)
    x, h0, c0 = rng.standard_normal((5, 2, 3)), rng.standard_normal((4, 2, 4)), \
        rng.standard_normal((4, 2, 4))
    weight = module.weight_hh_l0_reverse

    def loss(x_, h_, w_):
        weight.data = fastnn.tensor(w_)
        return _run(module, cls, fastnn.tensor(x_), fastnn.tensor(h_), fastnn.tensor(c0)).item()

    w0 = weight.detach().numpy().copy()
    tx, th = fastnn.tensor(x, requires_grad=True), fastnn.tensor(h0, requires_grad=True)
    weight.data = fastnn.tensor(w0)
    _run(module, cls, tx, th, fastnn.tensor(c0)).backward()
    analytic = [tx.grad.numpy(), th.grad.numpy(), weight.grad.numpy()]
    for which, base in enumerate([x, h0, w0]):
        numeric = np.zeros_like(base)
        for index in np.ndindex(*base.shape):
            values = []
            for step in (1e-6, -1e-6):
                args = [x, h0, w0]
                args[which] = base.copy()
                args[which][index] += step
                values.append(loss(*args))
            numeric[index] = (values[0] - values[1]) / 2e-6
        np.testing.assert_allclose(analytic[which], numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", ["RNN"])
def test_float32_runs_on_the_compiled_gemm(cls, monkeypatch):
    """float32 layers take fastnn's GEMM for the input projection and the recurrence."""
    from fastnn.ops import recurrent
    calls = []
    real = recurrent.backend.gemm
    monkeypatch.setattr(recurrent.backend, "gemm", lambda *a, **k: calls.append(1) or real(*a, **k))
    module = getattr(nn, cls)(6, 8)
    out = module(fastnn.randn(5, 3, 6, requires_grad=True))[0]
    out.sum().backward()
    assert out.dtype == fastnn.float32 and len(calls) >= 5 * 2 + 1
    assert np.isfinite(module.weight_hh_l0.grad.numpy()).all()


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_float32_lstm_and_gru_run_the_compiled_time_loop(cls):
    """A float32 LSTM's or GRU's recurrence runs in the compiled kernels (kernels/rnn.c), once
    forward and once backward per layer; its large products on fastnn's GEMM."""
    from fastnn import _kernels
    before = _kernels.call_counts()
    module = getattr(nn, cls)(6, 8, num_layers=2)
    out = module(fastnn.randn(5, 3, 6, requires_grad=True))[0]
    out.sum().backward()
    after = _kernels.call_counts()
    assert after[cls.lower()] - before[cls.lower()] == 4
    assert after["gemm"] - before["gemm"] >= 2 * (5 * 2 + 1 + 3)
    assert np.isfinite(module.weight_hh_l0.grad.numpy()).all()


def test_default_init_is_torchs_uniform():
    module = nn.LSTM(10, 16, num_layers=2)
    bound = 1 / 16 ** 0.5
    values = np.concatenate([p.detach().numpy().ravel() for p in module.parameters()])
    assert values.min() >= -bound and values.max() <= bound
    assert values.std() > bound / 2.5  # uniform on the interval, not zeros


def test_shapes_unbatched_batch_first_and_default_state():
    lstm = nn.LSTM(4, 6, num_layers=3, batch_first=True, bidirectional=True)
    out, (h, c) = lstm(fastnn.randn(2, 5, 4))
    assert tuple(out.shape) == (2, 5, 12) and tuple(h.shape) == (6, 2, 6) == tuple(c.shape)
    out, h = nn.GRU(4, 6)(fastnn.randn(5, 4))
    assert tuple(out.shape) == (5, 6) and tuple(h.shape) == (1, 6)
    out, (h, c) = nn.LSTM(4, 6, proj_size=2)(fastnn.randn(5, 3, 4))
    assert tuple(out.shape) == (5, 3, 2) and tuple(h.shape) == (1, 3, 2)
    assert tuple(c.shape) == (1, 3, 6)


def test_dropout_between_layers_only_while_training():
    gru = nn.GRU(4, 6, num_layers=2, dropout=0.5)
    x = fastnn.randn(5, 3, 4)
    gru.eval()
    first, second = gru(x)[0].detach(), gru(x)[0].detach()
    assert np.array_equal(first.numpy(), second.numpy())
    gru.train()
    assert not np.array_equal(gru(x)[0].detach().numpy(), first.numpy())
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(4, 6, dropout=0.2)


@pytest.mark.parametrize("call,error,message", [
    (lambda: nn.LSTM(4, 6)(fastnn.randn(2, 3, 4, 5)), ValueError,
     "LSTM: Expected input to be 2D or 3D, got 4D instead"),
    (lambda: nn.RNN(4, 6)(fastnn.randn(5, 3, 2)), RuntimeError,
     r"input.size\(-1\) must be equal to input_size. Expected 4, got 2"),
    (lambda: nn.GRU(4, 6)(fastnn.randn(5, 3, 4), fastnn.zeros(2, 3, 6)), RuntimeError,
     r"Expected hidden size \(1, 3, 6\), got \[2, 3, 6\]"),
    (lambda: nn.LSTM(4, 6)(fastnn.randn(5, 3, 4), (fastnn.zeros(1, 3, 6), fastnn.zeros(1, 2, 6))),
     RuntimeError, r"Expected hidden\[1\] size \(1, 3, 6\), got \[1, 2, 6\]"),
    (lambda: nn.RNN(4, 6)(fastnn.randn(5, 3, 4), fastnn.zeros(3, 6)), RuntimeError,
     "For batched 3-D input, hx should also be 3-D but got 2-D tensor"),
    (lambda: nn.RNN(4, 6)(fastnn.randn(5, 3, 4, dtype=fastnn.float64)), ValueError,
     "input must have the type fastnn.float32, got type fastnn.float64"),
    (lambda: nn.RNN(4, 6, nonlinearity="sigmoid"), ValueError, "Unknown nonlinearity 'sigmoid'"),
    (lambda: nn.LSTM(4, 6, proj_size=6), ValueError, "proj_size has to be smaller than hidden"),
    (lambda: nn.GRU(4, 6, dropout=1.5), ValueError, "dropout should be a number in range"),
    (lambda: nn.GRU(4, 0), ValueError, "hidden_size must be greater than zero"),
    (lambda: nn.GRU(4, 6, proj_size=2), ValueError, "proj_size argument is only supported"),
    (lambda: nn.LSTMCell(4, 6)(fastnn.randn(3, 5)), RuntimeError,
     "input has inconsistent input_size: got 5 expected 4"),
    (lambda: nn.GRUCell(4, 6)(fastnn.randn(3, 4), fastnn.zeros(2, 6)), RuntimeError,
     "Input batch size 3 doesn't match hidden0 batch size 2"),
    (lambda: nn.RNNCell(4, 6)(fastnn.randn(2, 3, 4)), ValueError,
     "RNNCell: Expected input to be 1D or 2D, got 3D instead"),
])
def test_errors_are_torchs(call, error, message):
    with pytest.raises(error, match=message):
        call()


@requires_torch
@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_torch(cls, batched):
    rng = np.random.default_rng(2)
    theirs = getattr(torch.nn, cls)(5, 7).double()
    ours = getattr(nn, cls)(5, 7, dtype=fastnn.float64)
    ours.load_state_dict({k: fastnn.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    lead = (3,) if batched else ()
    x, h, c = (rng.standard_normal(lead + (n,)) for n in (5, 7, 7))
    t_in = [torch.tensor(a, requires_grad=True) for a in (x, h, c)]
    f_in = [fastnn.tensor(a, requires_grad=True) for a in (x, h, c)]

    def loss(module, x_, h_, c_):
        if cls == "LSTMCell":
            h1, c1 = module(x_, (h_, c_))
            return (h1 ** 2).sum() + (c1 ** 3).sum()
        return (module(x_, h_) ** 2).sum()

    loss(theirs, *t_in).backward()
    loss(ours, *f_in).backward()
    for t, f in zip(t_in if cls == "LSTMCell" else t_in[:2], f_in):
        np.testing.assert_allclose(f.grad.numpy(), t.grad.numpy(), rtol=1e-10)
    for p, q in zip(theirs.parameters(), ours.parameters()):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-10, atol=1e-13)
    assert repr(ours) == repr(theirs)


@requires_torch
@pytest.mark.parametrize("cls,kwargs", [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}),
                                        ("LSTMCell", {}), ("GRUCell", {"bias": False})])
def test_float32_cells_match_torch_with_its_grad_fn_names(cls, kwargs):
    """A cell's step is the layer op on a sequence of one, shaped by the op (float32: the
    compiled LSTM/GRU kernels); h and c show the grad_fn torch's CPU cells end in."""
    rng = np.random.default_rng(3)
    theirs, ours = getattr(torch.nn, cls)(5, 7, **kwargs), getattr(nn, cls)(5, 7, **kwargs)
    ours.load_state_dict({k: fastnn.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    arrays = [rng.standard_normal((4, n)).astype(np.float32) for n in (5, 7, 7)]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    f_in = [fastnn.tensor(a, requires_grad=True) for a in arrays]
    results = []
    for lib, module, (x, h, c) in ((torch, theirs, t_in), (fastnn, ours, f_in)):
        out = module(x, (h, c)) if cls == "LSTMCell" else (module(x, h),)
        names = [o.grad_fn.name() for o in out]
        sum((o * lib.arange(1.0, 29.0).reshape(4, 7)).sum() for o in out).backward()
        results.append((names, [o.detach().numpy() for o in out]))
    assert results[1][0] == results[0][0]
    for f, t in zip(results[1][1], results[0][1]):
        np.testing.assert_allclose(f, t, rtol=1e-5, atol=1e-6)
    for t, f in zip(t_in if cls == "LSTMCell" else t_in[:2], f_in):
        np.testing.assert_allclose(f.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-4)
    for p, q in zip(theirs.parameters(), ours.parameters()):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-4, atol=1e-4)


@requires_torch
@pytest.mark.parametrize("args", [
    ("LSTM", (4, 6), {"num_layers": 2, "dropout": 0.1}), ("GRU", (4, 6), {"bias": False}),
    ("RNN", (4, 6), {"nonlinearity": "relu", "bidirectional": True, "batch_first": True}),
    ("LSTM", (4, 6), {"proj_size": 2}), ("RNNCell", (4, 6), {"nonlinearity": "relu"}),
    ("LSTMCell", (4, 6), {"bias": False}),
])
def test_reprs_are_torchs(args):
    name, positional, kwargs = args
    assert repr(getattr(nn, name)(*positional, **kwargs)) == \
        repr(getattr(torch.nn, name)(*positional, **kwargs))


LANGUAGE_MODEL = """
import torch
from torch import nn

class RNNModel(nn.Module):
    # pytorch/examples word_language_model's shape: embedding, a stacked recurrent layer,
    # a decoder, the hidden state carried between batches and detached
    def __init__(self, kind, ntoken, ninp, nhid, nlayers):
        super().__init__()
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = getattr(nn, kind)(ninp, nhid, nlayers)
        self.decoder = nn.Linear(nhid, ntoken)
        self.kind, self.nhid, self.nlayers = kind, nhid, nlayers

    def forward(self, input, hidden):
        output, hidden = self.rnn(self.encoder(input), hidden)
        return self.decoder(output).view(-1, self.decoder.out_features), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.kind == 'LSTM':
            return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                    weight.new_zeros(self.nlayers, bsz, self.nhid))
        return weight.new_zeros(self.nlayers, bsz, self.nhid)

def repackage_hidden(h):
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)

model = RNNModel(KIND, 11, 6, 8, 2)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.linspace(-0.3, 0.3, p.numel()).reshape(p.shape))
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
data = torch.tensor(TOKENS)
hidden = model.init_hidden(4)
losses = []
for i in range(0, data.size(0) - 6, 5):
    source, target = data[i:i + 5], data[i + 1:i + 6].reshape(-1)
    hidden = repackage_hidden(hidden)
    model.zero_grad()
    output, hidden = model(source, hidden)
    loss = criterion(output, target)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
    optimizer.step()
    losses.append(loss.item())
result = {"losses": losses, "decoder": model.decoder.weight}
"""


@requires_torch
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_language_model_ports_by_its_imports(kind):
    tokens = np.random.default_rng(3).integers(0, 11, size=(31, 4))
    ours = compare(LANGUAGE_MODEL, rtol=1e-4, atol=1e-5, KIND=kind, TOKENS=tokens)
    assert min(ours["losses"]) < ours["losses"][0]  # (LBFGS may try a worse point first)


@requires_torch
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("cls,kwargs", [("LSTM", {}), ("GRU", {}), ("RNN", {}),
                                        ("LSTM", {"num_layers": 2, "bidirectional": True,
                                                  "batch_first": True}),
                                        ("GRU", {"num_layers": 2, "bidirectional": True,
                                                 "batch_first": True})])
def test_packed_sequences_match_torch(cls, kwargs, enforce_sorted):
    from torch.nn.utils.rnn import pack_padded_sequence as t_pack
    from torch.nn.utils.rnn import pad_packed_sequence as t_pad
    from fastnn.nn.utils.rnn import pack_padded_sequence as f_pack
    from fastnn.nn.utils.rnn import pad_packed_sequence as f_pad
    rng = np.random.default_rng(7)
    theirs = getattr(torch.nn, cls)(3, 5, **kwargs).double()
    ours = getattr(nn, cls)(3, 5, **kwargs, dtype=fastnn.float64)
    ours.load_state_dict({k: fastnn.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    batch_first = kwargs.get("batch_first", False)
    x = rng.standard_normal((4, 5, 3) if batch_first else (5, 4, 3))
    tx, fx = torch.tensor(x, requires_grad=True), fastnn.tensor(x, requires_grad=True)
    t_out, t_h = theirs(t_pack(tx, lengths, batch_first, enforce_sorted))
    f_out, f_h = ours(f_pack(fx, lengths, batch_first, enforce_sorted))
    if cls == "LSTM":
        t_h, f_h = t_h[0] + t_h[1] ** 2, f_h[0] + f_h[1] ** 2
    assert f_out.batch_sizes.tolist() == t_out.batch_sizes.tolist()
    np.testing.assert_allclose(f_out.data.detach().numpy(), t_out.data.detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    t_padded, t_lengths = t_pad(t_out, batch_first=batch_first)
    f_padded, f_lengths = f_pad(f_out, batch_first=batch_first)
    assert f_lengths.tolist() == t_lengths.tolist()
    ((t_padded ** 2).sum() + (t_h * 3).sum()).backward()
    ((f_padded ** 2).sum() + (f_h * 3).sum()).backward()
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    for p, q in zip(theirs.parameters(), ours.parameters()):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-9, atol=1e-12)


@requires_torch
def test_pad_and_pack_utilities_match_torch():
    from torch.nn.utils import rnn as t_rnn
    from fastnn.nn.utils import rnn as f_rnn
    seqs = [np.arange(n * 2, dtype=np.float32).reshape(n, 2) + n for n in (2, 4, 1)]
    for kwargs in ({}, {"batch_first": True, "padding_value": -1.0},
                   {"padding_side": "left"}):
        ours = f_rnn.pad_sequence([fastnn.tensor(s) for s in seqs], **kwargs)
        theirs = t_rnn.pad_sequence([torch.tensor(s) for s in seqs], **kwargs)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours = f_rnn.pack_sequence([fastnn.tensor(s) for s in seqs], enforce_sorted=False)
    theirs = t_rnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    np.testing.assert_array_equal(ours.data.numpy(), theirs.data.numpy())
    assert ours.sorted_indices.tolist() == theirs.sorted_indices.tolist()
    back = f_rnn.unpack_sequence(ours)
    assert [b.numpy().tolist() for b in back] == [s.tolist() for s in seqs]
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        f_rnn.pack_padded_sequence(fastnn.zeros(4, 2, 1), [2, 4])


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_an_empty_batch_gives_empty_outputs_like_torch(cls):
    """torch runs a recurrent layer on a batch of 0 sequences: (L, 0, H) outputs, (layers, 0, H)
    states (the reshapes with -1 were ambiguous at 0 elements and raised)."""
    module = getattr(nn, cls)(7, 5, num_layers=2, bidirectional=True)
    x = fastnn.zeros(6, 0, 7, requires_grad=True)
    out, state = module(x)
    states = state if cls == "LSTM" else (state,)
    assert tuple(out.shape) == (6, 0, 10)
    assert all(tuple(s.shape) == (4, 0, 5) for s in states)
    out.sum().backward()
    assert tuple(x.grad.shape) == (6, 0, 7)
    assert np.all(module.weight_hh_l0.grad.numpy() == 0)


# pytorch/examples time_sequence_prediction (its train.py, scaled down: 12 sine waves of 120
# points, 2 LBFGS steps of 4 iterations, 30 predicted points): two LSTMCells and a Linear in
# float64, trained by LBFGS through 119 steps a sample. Written as the example writes it; the
# initial weights come from torch.manual_seed, whose draws fastnn's initialisation repeats.
TIME_SEQUENCE = """
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


class Sequence(nn.Module):
    def __init__(self):
        super(Sequence, self).__init__()
        self.lstm1 = nn.LSTMCell(1, 51)
        self.lstm2 = nn.LSTMCell(51, 51)
        self.linear = nn.Linear(51, 1)

    def forward(self, input, future = 0):
        outputs = []
        h_t = torch.zeros(input.size(0), 51, dtype=torch.double)
        c_t = torch.zeros(input.size(0), 51, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), 51, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), 51, dtype=torch.double)
        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for i in range(future):
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        outputs = torch.cat(outputs, dim=1)
        return outputs


np.random.seed(2)
T, L, N = 20, 120, 12
x = np.empty((N, L), 'int64')
x[:] = np.array(range(L)) + np.random.randint(-4 * T, 4 * T, N).reshape(N, 1)
data = np.sin(x / 1.0 / T).astype('float64')
torch.manual_seed(0)
input = torch.from_numpy(data[3:, :-1])
target = torch.from_numpy(data[3:, 1:])
test_input = torch.from_numpy(data[:3, :-1])
test_target = torch.from_numpy(data[:3, 1:])
seq = Sequence()
seq.double()
criterion = nn.MSELoss()
optimizer = optim.LBFGS(seq.parameters(), lr=0.8, max_iter=4)
losses = []
for i in range(2):
    def closure():
        optimizer.zero_grad()
        out = seq(input)
        loss = criterion(out, target)
        losses.append(loss.item())
        loss.backward()
        return loss
    optimizer.step(closure)
    with torch.no_grad():
        future = 30
        pred = seq(test_input, future=future)
        loss = criterion(pred[:, :-future], test_target)
        y = pred.detach().numpy()
result = {"losses": losses, "test_loss": loss.item(), "prediction": y,
          "h_grad_fn": seq.lstm1(input[:, :1])[0].grad_fn.name(), "dtype": str(pred.dtype)[-7:]}
"""


@requires_torch
def test_time_sequence_prediction_ports_by_changing_imports():
    ours = compare(TIME_SEQUENCE, rtol=1e-9, atol=1e-11)
    assert min(ours["losses"]) < ours["losses"][0]  # (LBFGS may try a worse point first)
    assert ours["h_grad_fn"] == "MulBackward0" and ours["dtype"] == "float64"
