"""The `fastnn train` job: train a model on Fashion-MNIST, evaluate on the test set each epoch,
and write metrics.json, model.safetensors and curves.png into the output directory."""
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

import fastnn
from fastnn import backend, models, nn, optim, plots
from fastnn.data import DataLoader, FashionMNIST


@dataclass
class TrainConfig:
    model: str = "mlp"
    epochs: int = 10
    lr: float = 0.1
    batch_size: int = 256
    optimizer: str = "sgd"
    momentum: float = 0.0
    weight_decay: float = 0.0
    seed: int = 0
    threads: int = 0  # 0: fastnn's default (OMP_NUM_THREADS, else all cores)
    backend: str = ""  # "": the default backend
    data: str = ""  # "": the standard search path (see fastnn.data.fashion_mnist)
    out: str = "runs/mlp"
    progress: bool = True


OPTIMIZERS = ("sgd",)


def make_optimizer(config, params):
    if config.optimizer == "sgd":
        return optim.SGD(params, lr=config.lr, momentum=config.momentum,
                         weight_decay=config.weight_decay)
    raise ValueError(f"unknown optimizer {config.optimizer!r}; expected one of {OPTIMIZERS}")


@fastnn.no_grad()
def evaluate(model, dataset, batch_size=1000):
    """Accuracy of `model` on `dataset` (forward passes only)."""
    model.eval()
    correct = 0
    for x, y in DataLoader(dataset, batch_size=batch_size):
        correct += int((model(x).argmax(dim=1) == y).sum().item())
    return correct / len(dataset)


def train_epoch(model, loader, loss_fn, optimizer, description, progress):
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    bar = tqdm(loader, desc=description, leave=False, disable=not progress, mininterval=0.5,
               unit="batch")
    for x, y in bar:
        logits = model(x)
        loss = loss_fn(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        n = len(y)
        total_loss += loss.item() * n
        correct += int((logits.data.argmax(axis=1) == y.data).sum())
        seen += n
        bar.set_postfix(loss=f"{total_loss / seen:.4f}", refresh=False)
    return total_loss / seen, correct / seen


def run(config, log=print):
    """Train as `config` says; returns the metrics dict that is also written to metrics.json."""
    if config.threads:
        fastnn.set_num_threads(config.threads)
    if config.backend:
        backend.use(config.backend)
    fastnn.manual_seed(config.seed)
    root = config.data or None
    train_set, test_set = FashionMNIST(root, train=True), FashionMNIST(root, train=False)

    model = models.build(config.model)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = make_optimizer(config, model.parameters())
    loader = DataLoader(train_set, batch_size=config.batch_size, shuffle=True, seed=config.seed)

    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    log(f"fastnn {fastnn.__version__}: {config.model} on Fashion-MNIST "
        f"({len(train_set)} train / {len(test_set)} test), backend {backend.current()}, "
        f"{fastnn.get_num_threads()} threads")
    epochs = []
    for epoch in range(1, config.epochs + 1):
        start = time.perf_counter()
        train_loss, train_acc = train_epoch(model, loader, loss_fn, optimizer,
                                            f"epoch {epoch}/{config.epochs}", config.progress)
        seconds = time.perf_counter() - start
        test_acc = evaluate(model, test_set)
        record = dict(epoch=epoch, train_loss=train_loss, train_accuracy=train_acc,
                      test_accuracy=test_acc, seconds=seconds)
        epochs.append(record)
        log(f"epoch {epoch:3d}  train loss {train_loss:.4f}  train acc {train_acc:.4f}  "
            f"test acc {test_acc:.4f}  {seconds:.2f} s")

    metrics = {
        "epochs": epochs,
        "final_test_accuracy": epochs[-1]["test_accuracy"] if epochs else None,
        "total_train_seconds": sum(e["seconds"] for e in epochs),
        "config": {**asdict(config), "threads": fastnn.get_num_threads(),
                   "backend": backend.current()},
        "system": fastnn.config.config(),
    }
    _write_json(out / "metrics.json", metrics)
    fastnn.save(model.state_dict(), out / "model.safetensors")
    if epochs:
        plots.training_curves(epochs, out / "curves.png", title=f"fastnn {config.model}")
    log(f"test accuracy {metrics['final_test_accuracy']:.4f}; wrote {out}/metrics.json, "
        "model.safetensors, curves.png")
    return metrics


def _write_json(path, obj):
    tmp = Path(str(path) + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=_json_default))
    os.replace(tmp, path)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
