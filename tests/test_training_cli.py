"""fastnn train's checkpoints, --resume, --val-split, Ctrl-C, and evaluate / predict."""
import json

import numpy as np
import pytest

import fastnn
from fastnn import cli, models, training
from fastnn.data import DatasetNotFoundError, FashionMNIST
from conftest import requires_torch


@pytest.fixture(scope="module", autouse=True)
def _needs_data():
    try:
        FashionMNIST(train=False, download=False)
    except DatasetNotFoundError:
        pytest.skip("Fashion-MNIST is not installed (make data)")


def train(out, *extra):
    assert cli.main(["train", "--model", "softmax", "--epochs", "2", "--lr", "0.1",
                     "--out", str(out), "--no-progress", *extra]) == 0
    return json.loads((out / "metrics.json").read_text())


def test_resume_continues_exactly(tmp_path):
    straight = train(tmp_path / "a", "--epochs", "3", "--optimizer", "adam", "--lr", "0.01")
    train(tmp_path / "b", "--optimizer", "adam", "--lr", "0.01")
    assert cli.main(["train", "--resume", str(tmp_path / "b"), "--epochs", "3",
                     "--no-progress"]) == 0
    resumed = json.loads((tmp_path / "b" / "metrics.json").read_text())
    for a, b in zip(straight["epochs"], resumed["epochs"]):
        assert a["train_loss"] == pytest.approx(b["train_loss"], abs=1e-7)
        assert a["test_accuracy"] == b["test_accuracy"]
    wa = fastnn.load(tmp_path / "a" / "model.safetensors")
    wb = fastnn.load(tmp_path / "b" / "model.safetensors")
    for key in wa:
        np.testing.assert_array_equal(wa[key].numpy(), wb[key].numpy())


def test_ctrl_c_keeps_finished_epochs_and_exits_cleanly(tmp_path, monkeypatch, capsys):
    calls = {"n": 0}
    original = training.train_epoch

    def interrupted_in_second_epoch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(training, "train_epoch", interrupted_in_second_epoch)
    out = tmp_path / "run"
    code = cli.main(["train", "--model", "softmax", "--epochs", "3", "--out", str(out),
                     "--no-progress"])
    assert code == 130
    assert "--resume" in capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["epochs"]) == 1
    assert (out / "checkpoint.safetensors").exists() and (out / "model.safetensors").exists()
    assert not list(out.glob(".tmp-*"))
    monkeypatch.setattr(training, "train_epoch", original)
    assert cli.main(["train", "--resume", str(out), "--no-progress"]) == 0
    assert len(json.loads((out / "metrics.json").read_text())["epochs"]) == 3


def test_val_split_reports_validation_and_test(tmp_path, capsys):
    metrics = train(tmp_path / "v", "--val-split", "0.1")
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("epoch")]
    assert all("val acc" in line for line in lines)
    for e in metrics["epochs"]:
        assert 0.5 < e["val_accuracy"] < 1 and 0.5 < e["test_accuracy"] < 1


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw", "adagrad", "rmsprop"])
def test_every_optimizer_trains(tmp_path, optimizer):
    metrics = train(tmp_path / optimizer, "--optimizer", optimizer, "--epochs", "1",
                    "--lr", "0.01" if optimizer != "sgd" else "0.1", "--weight-decay", "1e-4")
    assert metrics["final_test_accuracy"] > 0.7


def test_evaluate_and_predict_write_pictures(tmp_path, capsys):
    out = tmp_path / "e"
    train(out)
    assert cli.main(["evaluate", str(out)]) == 0
    text = capsys.readouterr().out
    assert "test accuracy" in text and "per-class accuracy" in text and "Ankle boot" in text
    assert cli.main(["predict", str(out), "--n", "16"]) == 0
    for picture in ("confusion.png", "predictions.png", "curves.png"):
        assert (out / picture).read_bytes()[:4] == b"\x89PNG"


def test_corrupt_checkpoint_is_a_clear_error(tmp_path, capsys):
    out = tmp_path / "bad"
    out.mkdir()
    (out / "checkpoint.safetensors").write_bytes(b"not a checkpoint")
    assert cli.main(["train", "--resume", str(out)]) == 2
    assert "error" in capsys.readouterr().err


@requires_torch
@pytest.mark.parametrize("name", sorted(models.MODELS))
def test_saved_weights_load_into_the_pytorch_model(tmp_path, name):
    import torch
    from safetensors.torch import load_file
    from torch import nn

    equivalents = {
        "softmax": lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 10)),
        "mlp": lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(),
                                     nn.Linear(256, 10)),
        "mlp2": lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(),
                                      nn.Dropout(0.2), nn.Linear(512, 256), nn.ReLU(),
                                      nn.Dropout(0.2), nn.Linear(256, 10)),
        "cnn": lambda: nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10)),
        "cnn2": lambda: nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Dropout(0.25), nn.Linear(3136, 128), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(128, 10)),
    }
    ours = models.build(name)
    if name == "cnn2":  # give the batch-norm layers non-trivial running statistics
        ours(fastnn.rand(8, 1, 28, 28))
    ours.eval()
    fastnn.save(ours.state_dict(), tmp_path / "m.safetensors")
    theirs = equivalents[name]().eval()
    theirs.load_state_dict(load_file(tmp_path / "m.safetensors"))
    x = np.random.default_rng(0).random((16, 1, 28, 28), dtype=np.float32)
    with fastnn.no_grad(), torch.no_grad():
        np.testing.assert_allclose(ours(fastnn.tensor(x)).numpy(),
                                   theirs(torch.tensor(x)).numpy(), rtol=1e-4, atol=1e-5)


def test_features_and_tensorboard_for_a_cnn(tmp_path, monkeypatch):
    """One short CNN epoch on a slice of the data, then the feature-map pictures and the
    TensorBoard event file (scalars and image grids)."""
    pytest.importorskip("tensorboardX")
    from fastnn.data import fashion_mnist

    full = fashion_mnist.FashionMNIST.__init__

    def small(self, root=None, train=True, download=True):
        full(self, root, train, download)
        keep = 2048 if train else 512
        self.images, self.labels = self.images[:keep], self.labels[:keep]

    monkeypatch.setattr(training, "FashionMNIST", type("Small", (FashionMNIST,), {"__init__": small}))
    out, board = tmp_path / "cnn", tmp_path / "tb"
    assert cli.main(["train", "--model", "cnn", "--optimizer", "adam", "--lr", "1e-3",
                     "--batch-size", "128", "--epochs", "1", "--out", str(out),
                     "--tensorboard", str(board), "--no-progress"]) == 0
    assert cli.main(["features", str(out), "--n", "4"]) == 0
    pictures = sorted(p.name for p in out.glob("features_*.png"))
    assert pictures[0].startswith("features_00_input")
    for kind in ("Conv2d", "ReLU", "MaxPool2d"):
        assert any(kind in p for p in pictures), kind
    events = list(board.glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 1000
    from tensorboardX.proto import event_pb2  # read back what TensorBoard will read
    import struct
    data = events[0].read_bytes()
    tags, pos = set(), 0
    while pos < len(data):
        (length,) = struct.unpack("<Q", data[pos:pos + 8])
        event = event_pb2.Event.FromString(data[pos + 12:pos + 12 + length])
        tags.update(v.tag for v in event.summary.value)
        pos += 12 + length + 4
    assert "loss/train_loss" in tags and "accuracy/test_accuracy" in tags
    assert any(t.startswith("features/") for t in tags)


def test_features_needs_a_cnn(tmp_path, capsys):
    out = tmp_path / "mlp"
    train(out, "--epochs", "1")
    assert cli.main(["features", str(out)]) == 2
    assert "no convolution layers" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--normalize", "--no-normalize"])
def test_evaluate_feeds_the_model_as_training_did(tmp_path, flag):
    # evaluate must standardise the test images exactly when training did, or its accuracy
    # would differ from the one training measured with the same weights
    out = tmp_path / flag
    metrics = train(out, flag)
    assert metrics["config"]["normalize"] == (flag == "--normalize")
    assert cli.main(["evaluate", str(out)]) == 0
    from fastnn.evaluation import evaluate
    assert evaluate(out, log=lambda _: None)["accuracy"] == metrics["final_test_accuracy"]


def test_augmentation_keeps_labels_and_shapes_and_changes_pixels():
    from fastnn.data.augment import flip_and_shift
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (64, 28, 28)).astype(np.uint8)
    out = flip_and_shift(images, rng)
    assert out.shape == images.shape and out.dtype == images.dtype
    assert (out != images).any()
    # a flip without a shift is exact
    same = flip_and_shift(images[:1], np.random.default_rng(3), shift=0)
    assert (same[0] == images[0]).all() or (same[0] == images[0, :, ::-1]).all()


def test_lr_schedule_and_augment_train_and_resume(tmp_path):
    metrics = train(tmp_path / "s", "--lr-schedule", "cosine", "--augment", "--epochs", "2")
    assert metrics["config"]["lr_schedule"] == "cosine" and metrics["config"]["augment"]
    assert metrics["final_test_accuracy"] > 0.7


def test_autocast_bf16_trains_on_the_bfloat16_kernels(tmp_path, capsys):
    """--autocast bf16: the run says so, the products go through the bfloat16 GEMM (its call
    counter moves), the weights stay float32, and the accuracy is the float32 run's to within
    a point on the same seed and subset."""
    from fastnn import _kernels
    before = _kernels.call_counts()["gemm_bf16"]
    common = ("--model", "mlp", "--epochs", "1", "--train-subset", "6400")
    low = train(tmp_path / "bf16", *common, "--autocast", "bf16")
    assert _kernels.call_counts()["gemm_bf16"] > before
    assert "autocast bfloat16" in capsys.readouterr().out
    full = train(tmp_path / "fp32", *common)
    assert abs(low["final_test_accuracy"] - full["final_test_accuracy"]) < 0.01
    state = fastnn.load(tmp_path / "bf16" / "model.safetensors")
    assert all(v.dtype == fastnn.float32 for v in state.values())
