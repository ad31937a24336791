"""torch.save(model, f) / torch.load(f) of whole objects, as pytorch/examples' word_language_model
and super_resolution save their best model and load it back inside
torch.serialization.safe_globals([...]): the same allowlist (torch.nn.modules.<file>.<Layer>
paths included), weights_only by default, torch's error for a global that is not allowed, and
a file that names a dangerous global never runs it."""
import io
import math
import os
import pickle

import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import nn
from fastnn.serialization import _FORMAT_KEY, _PICKLE_KEY


class RNNModel(nn.Module):
    # word_language_model's model.py, small: encoder, recurrent layer, decoder, tied weights
    def __init__(self, kind, ntoken, ninp, nhid, nlayers, tie_weights=False):
        super().__init__()
        self.drop = nn.Dropout(0.5)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = getattr(nn, kind)(ninp, nhid, nlayers)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            self.decoder.weight = self.encoder.weight
        self.kind, self.nhid, self.nlayers = kind, nhid, nlayers

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        return F.log_softmax(self.decoder(self.drop(output)), dim=-1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        zeros = weight.new_zeros((self.nlayers, bsz, self.nhid))
        return (zeros, zeros.clone()) if self.kind == "LSTM" else zeros


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=50):
        super().__init__()
        position = fastnn.arange(0, max_len, dtype=fastnn.float32).unsqueeze(1)
        div_term = fastnn.exp(fastnn.arange(0, d_model, 2).float()
                              * (-math.log(10000.0) / d_model))
        pe = fastnn.zeros(max_len, d_model)
        pe[:, 0::2] = fastnn.sin(position * div_term)
        pe[:, 1::2] = fastnn.cos(position * div_term)
        self.register_buffer("pe", pe.unsqueeze(0).transpose(0, 1))

    def forward(self, x):
        return x + self.pe[:x.size(0), :]


class TransformerModel(nn.Module):
    def __init__(self, ntoken, ninp, nhead, nhid, nlayers):
        super().__init__()
        self.pos_encoder = PositionalEncoding(ninp)
        layer = nn.TransformerEncoderLayer(ninp, nhead, nhid, dropout=0.0)
        self.encoder = nn.TransformerEncoder(layer, nlayers)
        self.embed = nn.Embedding(ntoken, ninp)
        self.decoder = nn.Linear(ninp, ntoken)

    def forward(self, src):
        return self.decoder(self.encoder(self.pos_encoder(self.embed(src))))


class SuperResolutionNet(nn.Module):
    # super_resolution's model.py, small
    def __init__(self, upscale_factor):
        super().__init__()
        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(1, 8, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(8, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)
        nn.init.orthogonal_(self.conv1.weight, nn.init.calculate_gain("relu"))

    def forward(self, x):
        return self.pixel_shuffle(self.conv2(self.relu(self.conv1(x))))


RNN_SAFE_GLOBALS = [
    RNNModel,
    fastnn.nn.modules.dropout.Dropout,
    fastnn.nn.modules.linear.Linear,
    fastnn.nn.modules.rnn.GRU,
    fastnn.nn.modules.rnn.LSTM,
    fastnn.nn.modules.rnn.RNN,
    fastnn.nn.modules.sparse.Embedding,
]
TRANSFORMER_SAFE_GLOBALS = [
    PositionalEncoding,
    TransformerModel,
    fastnn.nn.functional.relu,
    fastnn.nn.modules.activation.MultiheadAttention,
    fastnn.nn.modules.container.ModuleList,
    fastnn.nn.modules.dropout.Dropout,
    fastnn.nn.modules.linear.Linear,
    fastnn.nn.modules.linear.NonDynamicallyQuantizableLinear,
    fastnn.nn.modules.normalization.LayerNorm,
    fastnn.nn.modules.sparse.Embedding,
    fastnn.nn.modules.transformer.TransformerEncoder,
    fastnn.nn.modules.transformer.TransformerEncoderLayer,
]


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN_TANH"])
def test_word_language_model_saves_and_reloads_its_best_model(tmp_path, kind):
    fastnn.manual_seed(0)
    model = RNNModel("RNN" if kind == "RNN_TANH" else kind, 20, 6, 6, 2, tie_weights=True)
    data = fastnn.randint(0, 20, (7, 3))
    path = tmp_path / "model.pt"
    with open(path, "wb") as f:
        fastnn.save(model, f)
    with open(path, "rb") as f:
        with fastnn.serialization.safe_globals(RNN_SAFE_GLOBALS):
            loaded = fastnn.load(f)
    model.eval()
    loaded.eval()
    assert type(loaded) is RNNModel and loaded.kind == model.kind
    assert loaded.decoder.weight is loaded.encoder.weight  # tied weights stay one tensor
    want, _ = model(data, model.init_hidden(3))
    got, _ = loaded(data, loaded.init_hidden(3))
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())
    # the reloaded model trains on: parameters, gradients, an optimizer step
    loaded.train()
    params = list(loaded.parameters())
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in params)
    optimizer = fastnn.optim.SGD(params, lr=0.1)
    out, _ = loaded(data, loaded.init_hidden(3))
    F.nll_loss(out.view(-1, 20), data.view(-1)).backward()
    before = loaded.decoder.bias.detach().numpy().copy()
    optimizer.step()
    assert not np.array_equal(before, loaded.decoder.bias.detach().numpy())


def test_transformer_model_with_its_allowlist_and_a_buffer():
    fastnn.manual_seed(1)
    model = TransformerModel(16, 8, 2, 16, 2).eval()
    src = fastnn.randint(0, 16, (5, 2))
    buffer = io.BytesIO()
    fastnn.save(model, buffer)
    buffer.seek(0)
    with fastnn.serialization.safe_globals(TRANSFORMER_SAFE_GLOBALS):
        loaded = fastnn.load(buffer).eval()
    np.testing.assert_array_equal(loaded(src).detach().numpy(), model(src).detach().numpy())
    assert "pe" in dict(loaded.named_buffers()) or "pos_encoder.pe" in dict(loaded.named_buffers())
    assert not loaded.pos_encoder.pe.requires_grad


def test_super_resolution_model_saved_to_a_path(tmp_path):
    fastnn.manual_seed(2)
    model = SuperResolutionNet(upscale_factor=3)
    path = str(tmp_path / "model_epoch_1.pth")
    fastnn.save(model, path)
    with open(path, "rb") as f:
        with fastnn.serialization.safe_globals([SuperResolutionNet,
                                                fastnn.nn.modules.activation.ReLU,
                                                fastnn.nn.modules.conv.Conv2d,
                                                fastnn.nn.modules.pixelshuffle.PixelShuffle]):
            loaded = fastnn.load(f)
    x = fastnn.rand(1, 1, 6, 5)
    assert loaded(x).shape == (1, 1, 18, 15)
    np.testing.assert_array_equal(loaded(x).detach().numpy(), model(x).detach().numpy())


def _weights_unpickler_line(message):
    return [line for line in message.split("\n") if "WeightsUnpickler error" in line][0].strip()


def test_a_global_not_allowed_fails_like_torch():
    torch = pytest.importorskip("torch")
    messages = []
    for lib in (torch, fastnn):
        buffer = io.BytesIO()
        lib.save(SuperResolutionNetFor(lib)(), buffer)
        buffer.seek(0)
        with pytest.raises(pickle.UnpicklingError) as info:
            lib.load(buffer)
        messages.append(str(info.value))
        buffer.seek(0)
        with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
            with lib.serialization.safe_globals([SuperResolutionNetFor(lib)]):
                lib.load(buffer)  # its layers are not allowed either
        buffer.seek(0)
        assert type(lib.load(buffer, weights_only=False)).__name__ == "Tiny"
    theirs, ours = (_weights_unpickler_line(m) for m in messages)
    assert ours == theirs.replace("torch.serialization", "fastnn.serialization")
    assert messages[1].startswith("Weights only load failed. This file can still be loaded")


_TINY = {}


def SuperResolutionNetFor(lib):
    """The same small model class written against either library (defined once per library,
    at module level, so that both pickle it as test_save_whole_objects.Tiny)."""
    if lib.__name__ not in _TINY:
        class Tiny(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = lib.nn.Conv2d(1, 2, 3)

        Tiny.__qualname__ = "Tiny"
        _TINY[lib.__name__] = Tiny
    globals()["Tiny"] = _TINY[lib.__name__]
    return _TINY[lib.__name__]


def _file_with_pickle(payload):
    from safetensors.numpy import save as to_bytes
    return io.BytesIO(to_bytes({_PICKLE_KEY: np.frombuffer(payload, dtype=np.uint8)},
                               metadata={_FORMAT_KEY: "pickle"}))


class _RunsCommand:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def test_a_file_naming_a_dangerous_global_never_runs_it(tmp_path):
    marker = tmp_path / "ran"
    payload = pickle.dumps(_RunsCommand(f"touch {marker}"))
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL (posix|os)\.system was not an "
                                                     r"allowed global"):
        fastnn.load(_file_with_pickle(payload))
    assert not marker.exists()
    # a global's module is not even imported before it is checked
    payload = pickle.dumps(_RunsCommand("x")).replace(b"posix", b"nosuchmodule_zz"[:5])
    with pytest.raises(pickle.UnpicklingError, match="not an allowed global"):
        fastnn.load(_file_with_pickle(payload))


def test_a_pickle_pointing_at_a_missing_tensor_is_an_error():
    class Pointing(pickle.Pickler):
        def persistent_id(self, obj):
            return ("tensor", "t9", "tensor", False) if obj == "here" else None
    stream = io.BytesIO()
    Pointing(stream).dump(["here"])
    with pytest.raises(pickle.UnpicklingError, match="tensor 't9' the file does not hold"):
        fastnn.load(_file_with_pickle(stream.getvalue()))
    assert fastnn.load(_file_with_pickle(pickle.dumps([1, "a"]))) == [1, "a"]


def test_a_checkpoint_holding_a_module_is_pickled_and_keeps_its_values():
    model = nn.Linear(2, 2)
    buffer = io.BytesIO()
    fastnn.save({"epoch": 2, "model": model, "ids": np.arange(3)}, buffer)
    with fastnn.serialization.safe_globals([nn.Linear]):
        back = fastnn.load(io.BytesIO(buffer.getvalue()))
    assert back["epoch"] == 2 and type(back["model"]) is nn.Linear
    np.testing.assert_array_equal(back["ids"], np.arange(3))
    np.testing.assert_array_equal(back["model"].weight.detach().numpy(),
                                  model.weight.detach().numpy())


def test_add_and_clear_safe_globals_and_tuple_entries():
    model = SuperResolutionNet(2)
    buffer = io.BytesIO()
    fastnn.save(model, buffer)
    names = [SuperResolutionNet, nn.ReLU, nn.Conv2d]
    try:
        fastnn.serialization.add_safe_globals(names)
        assert fastnn.serialization.get_safe_globals() == names
        with pytest.raises(pickle.UnpicklingError, match="PixelShuffle"):
            fastnn.load(io.BytesIO(buffer.getvalue()))
        # a (global, "module.name") pair allows the name it gives
        pair = (nn.PixelShuffle, f"{nn.PixelShuffle.__module__}.PixelShuffle")
        with fastnn.serialization.safe_globals([pair]):
            assert type(fastnn.load(io.BytesIO(buffer.getvalue()))) is SuperResolutionNet
        with pytest.raises(ValueError, match="Expected tuple of length 2"):
            with fastnn.serialization.safe_globals([(nn.PixelShuffle,)]):
                fastnn.load(io.BytesIO(buffer.getvalue()))
    finally:
        fastnn.serialization.clear_safe_globals()
    assert fastnn.serialization.get_safe_globals() == []


def test_state_dicts_and_checkpoint_trees_keep_their_formats():
    # a state dict stays a plain safetensors file; a checkpoint tree stays JSON + tensors
    model = nn.Linear(3, 2)
    buffer = io.BytesIO()
    fastnn.save(model.state_dict(), buffer)
    from safetensors.numpy import load as from_bytes
    assert set(from_bytes(buffer.getvalue())) == {"weight", "bias"}
    buffer = io.BytesIO()
    fastnn.save({"epoch": 3, "model": model.state_dict(), "sizes": (1, 2)}, buffer)
    buffer.seek(0)
    back = fastnn.load(buffer)
    assert back["epoch"] == 3 and back["sizes"] == (1, 2)
    assert _PICKLE_KEY not in from_bytes(buffer.getvalue())


def test_torch_nn_modules_paths_name_the_same_classes():
    torch = pytest.importorskip("torch")
    checked = 0
    for file in ("activation", "container", "conv", "dropout", "linear", "normalization",
                 "batchnorm", "instancenorm", "sparse", "rnn", "transformer", "pixelshuffle",
                 "pooling", "loss", "flatten", "padding", "upsampling", "distance", "fold",
                 "channelshuffle", "module"):
        theirs = getattr(torch.nn.modules, file)
        ours = getattr(fastnn.nn.modules, file)
        for name in dir(ours):
            if name.startswith("_"):
                continue
            assert hasattr(theirs, name), (file, name)  # no class in the wrong file
            if hasattr(nn, name):
                assert getattr(ours, name) is getattr(nn, name)
                checked += 1
    assert checked > 100
    import fastnn.nn.modules.rnn as rnn_file  # importable as a module, too
    assert rnn_file.LSTM is nn.LSTM
    assert issubclass(fastnn.nn.modules.linear.NonDynamicallyQuantizableLinear, nn.Linear)


@pytest.mark.parametrize("entry_of", [lambda lib: (lib.nn.PixelShuffle,),
                                      lambda lib: (lib.nn.PixelShuffle, 3)])
def test_a_malformed_allowlist_pair_fails_at_the_load_like_torch(entry_of):
    torch = pytest.importorskip("torch")
    errors = []
    for lib in (torch, fastnn):
        buffer = io.BytesIO()
        lib.save(lib.nn.PixelShuffle(2), buffer)
        buffer.seek(0)
        with lib.serialization.safe_globals([entry_of(lib)]):  # accepted here, as torch does
            with pytest.raises(Exception) as info:
                lib.load(buffer)
        errors.append((type(info.value), str(info.value)))
    assert errors[1] == errors[0]
