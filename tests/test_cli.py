"""The `fastnn` command, and the d2l recipe end to end on the real data."""
import json
import subprocess
import sys

import pytest

from fastnn import cli
from fastnn.data import DatasetNotFoundError, FashionMNIST


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    text = capsys.readouterr().out
    for option in ("--model", "--epochs", "--lr", "--batch-size", "--optimizer", "--seed",
                   "--threads", "--out", "--backend", "--data"):
        assert option in text
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "train" in capsys.readouterr().out


def test_bad_arguments_are_rejected(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--epochs", "0"])
    assert "positive" in capsys.readouterr().err


def test_d2l_mlp_reaches_083_on_the_real_test_set(tmp_path):
    """The main job, as a user runs it: 10 epochs of the d2l recipe (PyTorch here: 0.83-0.85)."""
    try:
        FashionMNIST(train=False, download=False)
    except DatasetNotFoundError:
        pytest.skip("Fashion-MNIST is not installed (make data)")
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "fastnn", "train", "--out", str(out),
                             "--no-progress"], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("epoch")]
    assert len(lines) == 10
    metrics = json.loads((out / "metrics.json").read_text())
    assert [e["epoch"] for e in metrics["epochs"]] == list(range(1, 11))
    assert set(metrics["epochs"][0]) >= {"epoch", "train_loss", "train_accuracy",
                                         "test_accuracy"}
    timing = json.loads((out / "timing.json").read_text())
    assert [e["epoch"] for e in timing["epochs"]] == list(range(1, 11))
    assert all(e["seconds"] > 0 for e in timing["epochs"])
    assert metrics["config"]["lr"] == 0.1 and metrics["config"]["batch_size"] == 256
    assert metrics["final_test_accuracy"] >= 0.83
    assert (out / "model.safetensors").stat().st_size > 0
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
