"""fastnn.load reads what torch.save wrote (fastnn/torch_checkpoint.py): the values, types and
shared storages of torch's own files; torch's weights-only rules; and damaged or hostile files
refused with an UnpicklingError before any out-of-storage read or import."""
import collections
import io
import pickle
import zipfile

import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn.serialization import CheckpointError

torch = pytest.importorskip("torch")


def saved(obj, tmp_path, name="ck.pt", **kwargs):
    path = tmp_path / name
    torch.save(obj, path, **kwargs)
    return path


def test_a_checkpoint_of_every_kind_of_value(tmp_path):
    model = torch.nn.Linear(3, 2)
    x = torch.arange(12.0).reshape(3, 4)
    obj = {"model": model.state_dict(), "t": x.t(), "row": x[1], "epoch": 3, "lr": 0.5,
           "name": "run", "none": None, "set": {1, 2}, "bytes": b"abc", "dtype": torch.float16,
           "size": torch.Size([2, 3]), "device": torch.device("cpu"), "tuple": (1, "a"),
           "empty": torch.empty(0, 3), "scalar": torch.tensor(3.5),
           "param": torch.nn.Parameter(torch.ones(2)),
           "grad": torch.ones(2, requires_grad=True)}
    for dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64,
                  torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool):
        obj[f"dtype {dtype}"] = (torch.arange(6) % 3).to(dtype).reshape(2, 3)
    ours = fastnn.load(saved(obj, tmp_path))
    assert type(ours["model"]) is collections.OrderedDict
    assert list(ours["model"]) == ["weight", "bias"]
    assert ours["model"]._metadata == model.state_dict()._metadata
    for key, theirs in obj.items():
        mine = ours[key]
        if isinstance(theirs, torch.Tensor):
            assert isinstance(mine, fastnn.Tensor), key
            assert str(mine.dtype).split(".")[1] == str(theirs.dtype).split(".")[1], key
            assert tuple(mine.shape) == tuple(theirs.shape), key
            np.testing.assert_array_equal(mine.detach().float().numpy(),
                                          theirs.detach().float().numpy())
            assert mine.requires_grad == theirs.requires_grad, key
        elif isinstance(theirs, dict):
            continue
        elif isinstance(theirs, torch.dtype):
            assert mine is fastnn.float16
        elif isinstance(theirs, torch.device):
            assert mine == fastnn.device("cpu")
        else:
            assert mine == theirs, key
    assert isinstance(ours["param"], nn.Parameter)
    assert type(ours["size"]) is fastnn.Size
    # x.t() and x[1] are views of one storage, as in torch
    assert np.shares_memory(ours["t"].numpy(), ours["row"].numpy())


def test_tied_weights_load_as_one_storage(tmp_path):
    class Tied(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = torch.nn.Embedding(5, 4)
            self.decoder = torch.nn.Linear(4, 5)
            self.decoder.weight = self.encoder.weight

    state = fastnn.load(saved(Tied().state_dict(), tmp_path))
    assert np.shares_memory(state["encoder.weight"].numpy(), state["decoder.weight"].numpy())


def test_a_model_trained_in_torch_predicts_the_same_in_fastnn(tmp_path):
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    opt = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    x, y = torch.randn(32, 8), torch.randint(0, 3, (32,))
    for _ in range(5):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(theirs(x), y).backward()
        opt.step()
    path = saved({"model": theirs.state_dict(), "optimizer": opt.state_dict(), "epoch": 5},
                 tmp_path)

    checkpoint = fastnn.load(path)
    ours = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    ours.load_state_dict(checkpoint["model"])
    ours_opt = fastnn.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    ours_opt.load_state_dict(checkpoint["optimizer"])
    np.testing.assert_allclose(ours(fastnn.from_numpy(x.numpy())).detach().numpy(),
                               theirs(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    # and training continues from the same momentum
    for model, optimizer, lib, inputs, labels in (
            (theirs, opt, torch, x, y),
            (ours, ours_opt, fastnn, fastnn.from_numpy(x.numpy()), fastnn.from_numpy(y.numpy()))):
        optimizer.zero_grad()
        lib.nn.functional.cross_entropy(model(inputs), labels).backward()
        optimizer.step()
    np.testing.assert_allclose(ours[0].weight.detach().numpy(),
                               theirs[0].weight.detach().numpy(), rtol=1e-5, atol=1e-6)


class Config:
    def __init__(self, depth):
        self.depth = depth


def test_weights_only_refuses_other_globals_as_torch(tmp_path):
    path = saved({"config": Config(3)}, tmp_path)
    with pytest.raises(pickle.UnpicklingError, match="Unsupported global: GLOBAL "
                       f"{__name__}.Config was not an allowed global"):
        fastnn.load(path)
    with fastnn.serialization.safe_globals([Config]):
        assert fastnn.load(path)["config"].depth == 3
    assert fastnn.load(path, weights_only=False)["config"].depth == 3


def test_weights_only_false_loads_numpy_arrays(tmp_path):
    # pytorch/examples time_sequence_prediction saves a NumPy array with torch.save
    data = np.sin(np.arange(12.0)).reshape(3, 4)
    path = saved(data, tmp_path)
    with pytest.raises(pickle.UnpicklingError, match="Unsupported global"):
        fastnn.load(path)
    np.testing.assert_array_equal(fastnn.load(path, weights_only=False), data)


def test_the_legacy_format_gets_a_clear_error(tmp_path):
    path = saved({"a": torch.ones(2)}, tmp_path, _use_new_zipfile_serialization=False)
    with pytest.raises(CheckpointError, match="_use_new_zipfile_serialization=False"):
        fastnn.load(path)


# --- damaged and hostile files --------------------------------------------------------------
class _Marker:
    """Pickled as a storage's persistent id."""

    def __init__(self, pid):
        self.pid = pid


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, _Marker) else None


class _Tensor:
    """Pickles as torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride, False, collections.OrderedDict())

    def __reduce__(self):
        return torch._utils._rebuild_tensor_v2, self.args


def torch_zip(obj, records, byteorder="little"):
    """A zip laid out as torch.save's, holding obj's pickle and these storage records."""
    buffer, stream = io.BytesIO(), io.BytesIO()
    _Pickler(stream, protocol=2).dump(obj)
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ck/data.pkl", stream.getvalue())
        archive.writestr("ck/byteorder", byteorder)
        for key, raw in records.items():
            archive.writestr(f"ck/data/{key}", raw)
    buffer.seek(0)
    return buffer


def storage(key="0", numel=4, kind=None):
    return _Marker(("storage", kind or torch.FloatStorage, key, "cpu", numel))


FOUR = {"0": np.arange(4, dtype=np.float32).tobytes()}


def test_a_handmade_file_in_torch_layout_loads():
    t = fastnn.load(torch_zip({"w": _Tensor(storage(), 1, (3,), (1,))}, FOUR))["w"]
    np.testing.assert_array_equal(t.numpy(), [1, 2, 3])


def test_a_big_endian_file_loads():
    raw = {"0": np.arange(4, dtype=">f4").tobytes()}
    t = fastnn.load(torch_zip({"w": _Tensor(storage(), 0, (2, 2), (2, 1))}, raw, "big"))["w"]
    np.testing.assert_array_equal(t.numpy(), [[0, 1], [2, 3]])


@pytest.mark.parametrize("obj, records, message", [
    ({"w": _Tensor(storage(), 0, (5,), (1,))}, FOUR, "reaches element 4 of a storage of 4"),
    ({"w": _Tensor(storage(), 3, (2,), (1,))}, FOUR, "reaches element 4"),
    ({"w": _Tensor(storage(), 0, (2, 2), (3, 1))}, FOUR, "reaches element 4"),
    ({"w": _Tensor(storage(), 0, (2,), (-1,))}, FOUR, "invalid tensor layout"),
    ({"w": _Tensor(storage(), -1, (2,), (1,))}, FOUR, "invalid tensor layout"),
    ({"w": _Tensor(storage(), 0, (2, 2), (1,))}, FOUR, "invalid tensor layout"),
    ({"w": _Tensor(storage(key="7"), 0, (2,), (1,))}, FOUR, "storage '7' the file does not"),
    ({"w": _Tensor(storage(numel=8), 0, (2,), (1,))}, FOUR, "holds 16 bytes, not 8 elements"),
    ({"w": _Tensor(storage(numel=-1), 0, (2,), (1,))}, FOUR, "not -1 elements"),
    ({"w": _Marker(("storage", "FloatStorage", "0", "cpu", 4))}, FOUR,
     "unsupported persistent id"),
    ({"w": _Tensor(3, 0, (2,), (1,))}, FOUR, "rebuilt from a storage"),
])
def test_a_damaged_file_is_refused(obj, records, message):
    with pytest.raises(pickle.UnpicklingError, match=message):
        fastnn.load(torch_zip(obj, records))


class _RunsCode:
    def __reduce__(self):
        import os
        return os.system, ("echo should never run",)


def test_a_file_that_would_run_code_is_refused_before_any_import(capfd):
    with pytest.raises(pickle.UnpicklingError, match="GLOBAL posix.system"):
        fastnn.load(torch_zip({"x": _RunsCode()}, {}))
    assert "should never run" not in capfd.readouterr().out


def test_not_one_pickle_and_a_bad_byte_order_are_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a/data.pkl", pickle.dumps(1))
        archive.writestr("b/data.pkl", pickle.dumps(2))
    buffer.seek(0)
    with pytest.raises(pickle.UnpicklingError, match="one <name>/data.pkl, this one 2"):
        fastnn.load(buffer)
    with pytest.raises(pickle.UnpicklingError, match="unknown byte order"):
        fastnn.load(torch_zip({"a": 1}, {}, byteorder="middle"))


def test_a_torchscript_archive_is_named(tmp_path):
    path = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), path)
    with pytest.raises(pickle.UnpicklingError, match="TorchScript archive"):
        fastnn.load(path)


def test_a_whole_torch_model_loads_as_the_fastnn_model_when_trusted(tmp_path):
    # torch.save(model, f), as pytorch/examples word_language_model saves its best model:
    # with weights_only=False torch's class names resolve to fastnn's layers
    torch.manual_seed(3)
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2),
                                 torch.nn.Flatten(), torch.nn.Linear(8, 2)).eval()
    path = saved(theirs, tmp_path)
    with pytest.raises(pickle.UnpicklingError, match="Unsupported global"):
        fastnn.load(path)
    ours = fastnn.load(path, weights_only=False)
    assert isinstance(ours, nn.Sequential) and isinstance(ours[1], nn.BatchNorm2d)
    assert not ours.training
    x = torch.randn(2, 1, 4, 4)
    np.testing.assert_allclose(ours(fastnn.from_numpy(x.numpy())).detach().numpy(),
                               theirs(x).detach().numpy(), rtol=1e-5, atol=1e-6)


def language_model_class(lib):
    """A language model as pytorch/examples word_language_model builds one, on lib: the same
    class name in torch's program and in its port."""
    class TinyLM(lib.nn.Module):
        def __init__(self, tokens=12, size=8):
            super().__init__()
            self.drop = lib.nn.Dropout(0.2)
            self.encoder = lib.nn.Embedding(tokens, size)
            self.rnn = lib.nn.LSTM(size, size, 2)
            self.decoder = lib.nn.Linear(size, tokens)

        def forward(self, x, hidden):
            out, hidden = self.rnn(self.drop(self.encoder(x)), hidden)
            return self.decoder(self.drop(out)), hidden

    TinyLM.__module__, TinyLM.__qualname__ = __name__, "TinyLM"
    globals()["TinyLM"] = TinyLM  # where pickle finds it by name
    return TinyLM


def test_a_torch_language_model_samples_the_same_words(tmp_path):
    # torch.save(model) in torch; in fastnn, torch.load under safe_globals naming the layers
    # by torch's paths, then seeded sampling with multinomial as generate.py does
    torch.manual_seed(0)
    path = saved(language_model_class(torch)(), tmp_path)
    theirs = torch.load(path, weights_only=False)
    ours_class = language_model_class(fastnn)
    allowed = [ours_class, fastnn.nn.modules.dropout.Dropout, fastnn.nn.modules.sparse.Embedding,
               fastnn.nn.modules.rnn.LSTM, fastnn.nn.modules.linear.Linear]
    with fastnn.serialization.safe_globals(allowed):
        ours = fastnn.load(path)

    def sample(lib, model):
        lib.manual_seed(7)
        model.eval()
        word = lib.randint(12, (1, 1), dtype=lib.long)
        hidden = (lib.zeros(2, 1, 8), lib.zeros(2, 1, 8))
        words = []
        with lib.no_grad():
            for _ in range(30):
                logits, hidden = model(word, hidden)
                weights = logits.squeeze().div(0.8).exp()
                word.fill_(lib.multinomial(weights, 1)[0])
                words.append(word.item())
        return words

    assert type(ours) is ours_class and isinstance(ours, fastnn.nn.Module)
    assert isinstance(ours.rnn, fastnn.nn.LSTM)
    assert sample(fastnn, ours) == sample(torch, theirs)


def test_torch_onnx_names_exist_and_export_says_it_cannot():
    import fastnn.onnx
    assert fastnn.onnx.is_in_onnx_export() is False
    with pytest.raises(fastnn.onnx.OnnxExporterError, match="cannot export ONNX"):
        fastnn.onnx.export(nn.Linear(2, 2), (fastnn.ones(1, 2),), "model.onnx")


def test_one_record_read_in_two_dtypes_shares_its_bytes():
    # (torch.save refuses to write this; a handmade file gets each dtype's own view)
    obj = {"f": _Tensor(storage(), 0, (4,), (1,)),
           "d": _Tensor(storage(numel=2, kind=torch.DoubleStorage), 0, (2,), (1,))}
    ours = fastnn.load(torch_zip(obj, FOUR))
    np.testing.assert_array_equal(ours["f"].numpy(), [0, 1, 2, 3])
    np.testing.assert_array_equal(ours["d"].numpy(),
                                  np.arange(4, dtype=np.float32).view(np.float64))
    assert np.shares_memory(ours["f"].numpy(), ours["d"].numpy())
