"""The `fastnn train` job: train a model on Fashion-MNIST, evaluate each epoch, checkpoint each
epoch atomically (so a kill loses at most the running epoch and --resume continues exactly),
and write metrics.json, model.safetensors and curves.png into the output directory."""
import json
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
from tqdm import tqdm

import fastnn
from fastnn import backend, checkpoint, models, nn, optim, plots
from fastnn.data import DataLoader, FashionMNIST, random_split, to_float_images
from fastnn.data.fashion_mnist import MEAN, STD
from fastnn.serialization import atomic_write

CHECKPOINT = "checkpoint.safetensors"

# name -> (class, default learning rate): SGD keeps d2l's 0.1, the others torch's defaults.
OPTIMIZERS = {
    "sgd": (optim.SGD, 0.1),
    "adam": (optim.Adam, 1e-3),
    "adamw": (optim.AdamW, 1e-3),
    "adagrad": (optim.Adagrad, 1e-2),
    "rmsprop": (optim.RMSprop, 1e-2),
}


@dataclass
class TrainConfig:
    model: str = "mlp"
    epochs: int = 10
    lr: float = 0.0  # 0: the optimizer's default (see OPTIMIZERS)
    batch_size: int = 256
    optimizer: str = "sgd"
    momentum: float = 0.0
    weight_decay: float = 0.0
    val_split: float = 0.0
    lr_schedule: str = "none"  # none | cosine | step (x0.1 every third of the epochs)
    augment: bool = False  # random horizontal flips and 2-pixel shifts of training images
    normalize: bool = True  # standardise pixels with the training set's mean and std
    seed: int = 0
    threads: int = 0  # 0: fastnn's default (OMP_NUM_THREADS, else all cores)
    backend: str = ""  # "": the default backend
    data: str = ""  # "": the standard search path (see fastnn.data.fashion_mnist)
    out: str = "runs/mlp"
    tensorboard: str = ""  # "": no TensorBoard log
    progress: bool = True


def learning_rate(config):
    return config.lr or OPTIMIZERS[config.optimizer][1]


def make_optimizer(config, params):
    if config.optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {config.optimizer!r}; expected one of "
                         f"{sorted(OPTIMIZERS)}")
    cls = OPTIMIZERS[config.optimizer][0]
    kwargs = dict(lr=learning_rate(config), weight_decay=config.weight_decay)
    if config.optimizer in ("sgd", "rmsprop"):
        kwargs["momentum"] = config.momentum
    return cls(params, **kwargs)


SCHEDULES = ("none", "cosine", "step")


def make_scheduler(config, optimizer):
    """The per-epoch learning-rate schedule --lr-schedule names (None for a constant rate)."""
    if config.lr_schedule == "cosine":
        return optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    if config.lr_schedule == "step":
        return optim.lr_scheduler.StepLR(optimizer, step_size=max(1, config.epochs // 3))
    if config.lr_schedule != "none":
        raise ValueError(f"unknown schedule {config.lr_schedule!r}; expected one of {SCHEDULES}")
    return None


def normalization(config):
    """The (mean, std) the run's images are standardised with, or None (pixels in [0, 1]).
    Standardising (LeCun et al. 1998, "Efficient BackProp", section 4.3) is worth about half a
    point of test accuracy to mlp2 and one point to cnn after 5 epochs here."""
    return (MEAN, STD) if config.normalize else None


def model_inputs(config, images):
    """uint8 images (B, 28, 28) as the float32 array (B, 1, 28, 28) the run's model takes."""
    return to_float_images(images, normalization(config))


@fastnn.no_grad()
def predict(model, dataset, batch_size=1000, normalize=None):
    """Predicted class of every example (forward passes only, eval mode)."""
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, normalize=normalize)
    out = [model(x)._data.argmax(axis=1) for x, _ in loader]
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def accuracy(model, dataset, normalize=None):
    return float((predict(model, dataset, normalize=normalize) == dataset.labels).mean())


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
        correct += int((logits._data.argmax(axis=1) == y._data).sum())
        seen += n
        bar.set_postfix(loss=f"{total_loss / seen:.4f}", refresh=False)
    return total_loss / seen, correct / seen


class Run:
    """One training run: its data, model, optimizer, and the record of finished epochs."""

    def __init__(self, config, log=print):
        self.config, self.log = config, log
        if config.threads:
            fastnn.set_num_threads(config.threads)
        if config.backend:
            backend.use(config.backend)
        fastnn.manual_seed(config.seed)
        root = config.data or None
        self.train_set, self.test_set = FashionMNIST(root, train=True), FashionMNIST(root, train=False)
        self.val_set = None
        if config.val_split:
            if not 0 < config.val_split < 1:
                raise ValueError(f"--val-split must be in (0, 1), got {config.val_split}")
            n_val = int(round(len(self.train_set) * config.val_split))
            self.train_set, self.val_set = random_split(
                self.train_set, [len(self.train_set) - n_val, n_val], seed=config.seed)
        self.model = models.build(config.model)
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = make_optimizer(config, self.model.parameters())
        self.loader = DataLoader(self.train_set, batch_size=config.batch_size, shuffle=True,
                                 seed=config.seed, augment=config.augment,
                                 normalize=normalization(config))
        self.scheduler = make_scheduler(config, self.optimizer)
        self.out = Path(config.out)
        self.epochs = []
        self.board = None
        if config.tensorboard:
            from fastnn.tensorboard import TensorBoardLogger
            self.board = TensorBoardLogger(config.tensorboard)

    def resume(self):
        """Continue from OUT/checkpoint.safetensors: weights, optimizer state, finished epochs,
        the shuffling position and the random generator, so the run continues exactly."""
        model_state, optim_state, info = checkpoint.load(self.out / CHECKPOINT)
        self.model.load_state_dict(model_state)
        self.optimizer.load_state_dict(optim_state)
        checkpoint.restore_rng(info)
        self.epochs = info["epochs"]
        self.loader._epoch = len(self.epochs)
        if self.scheduler is not None:  # replay the schedule to the resumed epoch
            self.scheduler = make_scheduler(self.config, self.optimizer)
            for _ in self.epochs:
                self.scheduler.step()
        self.log(f"resuming {self.out} after epoch {len(self.epochs)}")

    def save_checkpoint(self):
        checkpoint.save(self.out / CHECKPOINT, self.model, self.optimizer,
                        {"epochs": self.epochs, "config": asdict(self.config)})

    def run(self):
        config = self.config
        self.out.mkdir(parents=True, exist_ok=True)
        split = f"{len(self.train_set)} train"
        if self.val_set is not None:
            split += f" / {len(self.val_set)} validation"
        self.log(f"fastnn {fastnn.__version__}: {config.model} on Fashion-MNIST ({split} / "
                 f"{len(self.test_set)} test), {config.optimizer} lr {learning_rate(config):g}, "
                 f"backend {backend.current()}, {fastnn.get_num_threads()} threads")
        interrupted = False
        try:
            for epoch in range(len(self.epochs) + 1, config.epochs + 1):
                self._epoch(epoch)
                if self.scheduler is not None:
                    self.scheduler.step()
                self.save_checkpoint()
        except KeyboardInterrupt:
            interrupted = True
            self.log(f"interrupted during epoch {len(self.epochs) + 1}; the checkpoint after "
                     f"epoch {len(self.epochs)} is in {self.out / CHECKPOINT} "
                     f"(continue with --resume {self.out})")
        metrics = self.write_outputs()
        if self.board is not None:
            self.board.close()
        if interrupted:
            raise KeyboardInterrupt
        return metrics

    def _epoch(self, epoch):
        config = self.config
        start = time.perf_counter()
        train_loss, train_acc = train_epoch(self.model, self.loader, self.loss_fn,
                                            self.optimizer, f"epoch {epoch}/{config.epochs}",
                                            config.progress)
        seconds = time.perf_counter() - start
        record = dict(epoch=epoch, train_loss=train_loss, train_accuracy=train_acc,
                      test_accuracy=accuracy(self.model, self.test_set, normalization(config)),
                      seconds=seconds)
        line = (f"epoch {epoch:3d}  train loss {train_loss:.4f}  train acc {train_acc:.4f}  ")
        if self.val_set is not None:
            record["val_accuracy"] = accuracy(self.model, self.val_set, normalization(config))
            line += f"val acc {record['val_accuracy']:.4f}  "
        else:
            line += f"test acc {record['test_accuracy']:.4f}  "
        self.epochs.append(record)
        self.log(line + f"{seconds:.2f} s")
        if self.board is not None:
            self.board.epoch(record)
            self.model.eval()
            self.board.feature_maps(self.model, model_inputs(config, self.test_set.images[:8]),
                                    epoch)

    def write_outputs(self):
        config, epochs = self.config, self.epochs
        metrics = {
            "epochs": epochs,
            "final_test_accuracy": epochs[-1]["test_accuracy"] if epochs else None,
            "total_train_seconds": sum(e["seconds"] for e in epochs),
            "config": {**asdict(config), "lr": learning_rate(config),
                       "threads": fastnn.get_num_threads(), "backend": backend.current()},
            "system": fastnn.config.config(),
        }
        _write_json(self.out / "metrics.json", metrics)
        fastnn.save(self.model.state_dict(), self.out / "model.safetensors")
        if epochs:
            plots.training_curves(epochs, self.out / "curves.png", title=f"fastnn {config.model}")
            self.log(f"test accuracy {metrics['final_test_accuracy']:.4f}; wrote "
                     f"{self.out}/metrics.json, model.safetensors, curves.png")
        return metrics


def run(config, log=print, resume=False):
    """Train as `config` says (continuing OUT's checkpoint if resume); returns the metrics."""
    job = Run(config, log)
    if resume:
        job.resume()
    return job.run()


def load_config(out):
    """The TrainConfig a finished or checkpointed run in `out` used."""
    out = Path(out)
    if (out / "metrics.json").exists():
        saved = json.loads((out / "metrics.json").read_text())["config"]
    elif (out / CHECKPOINT).exists():
        saved = checkpoint.load(out / CHECKPOINT)[2]["config"]
    else:
        raise FileNotFoundError(f"{out} holds no fastnn run (no metrics.json or {CHECKPOINT})")
    names = {f.name for f in fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in saved.items() if k in names})


def _write_json(path, obj):
    atomic_write(path, json.dumps(obj, indent=2, default=checkpoint.json_default).encode())
