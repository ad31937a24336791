"""The `fastnn train` job: train a model on Fashion-MNIST, evaluate each epoch, checkpoint each
epoch atomically (so a kill loses at most the running epoch and --resume continues exactly),
and write metrics.json, model.safetensors and curves.png into the output directory."""
import json
import time
import warnings
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
from tqdm import tqdm

import fastnn
from fastnn import backend, checkpoint, models, nn, optim, plots
from fastnn.data import DataLoader, FashionMNIST, random_split, subset, to_float_images
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
    train_subset: int = 0  # 0: every training image; N: the first N (quick runs, tests)
    distributed: bool = False  # data-parallel over the ranks of an MPI job (mpirun -n N)
    autocast: str = ""  # "": float32; "bf16": forward passes under fastnn.autocast(bfloat16)


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


def accuracy(model, dataset, normalize=None, shard=None):
    """Fraction of `dataset` classified correctly; with a shard, each rank predicts its rows
    and the counts are summed over the ranks."""
    if shard is None:
        return float((predict(model, dataset, normalize=normalize) == dataset.labels).mean())
    lo, hi = shard.rows(len(dataset))
    part = subset(dataset, slice(lo, hi))
    correct = int((predict(model, part, normalize=normalize) == part.labels).sum())
    return shard.sum([correct])[0] / len(dataset)


def train_epoch(model, loader, loss_fn, optimizer, description, progress, shard=None):
    """One pass over the loader; returns (mean loss, accuracy) over the epoch's examples.

    With a shard, loss_fn sums over this rank's rows of the global batch and the gradient is
    scaled by world / global batch size, so that DistributedDataParallel's average over ranks
    is the global batch's mean gradient even when the shards differ in size (or one is
    empty); the epoch's totals are summed over the ranks."""
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    bar = tqdm(loader, desc=description, leave=False, disable=not progress, mininterval=0.5,
               unit="batch")
    for x, y in bar:
        logits = model(x)
        loss = loss_fn(logits, y)
        optimizer.zero_grad()
        n = len(y)
        if shard is None:
            loss.backward()
            total_loss += loss.item() * n
        else:
            (loss * (shard.world / loader.global_batch)).backward()
            total_loss += loss.item()
        optimizer.step()
        correct += int((logits._data.argmax(axis=1) == y._data).sum())
        seen += n
        bar.set_postfix(loss=f"{total_loss / max(seen, 1):.4f}", refresh=False)
    if shard is not None:
        total_loss, correct, seen = shard.sum([total_loss, correct, seen])
    return total_loss / seen, correct / seen


class Run:
    """One training run: its data, model, optimizer, and the record of finished epochs."""

    def __init__(self, config, log=print):
        self.config, self.log = config, log
        self.shard = None
        if config.distributed:
            from fastnn.distributed.sharding import Shard, threads_per_rank
            self.shard = Shard()
            if not config.threads:
                fastnn.set_num_threads(threads_per_rank())
        # rank 0 alone prints, draws progress bars and writes files
        self.writer = self.shard is None or self.shard.rank == 0
        if not self.writer:
            self.log = _silent
        if config.threads:
            fastnn.set_num_threads(config.threads)
        if config.backend:
            backend.use(config.backend)
        fastnn.manual_seed(config.seed)
        root = config.data or None
        self.train_set, self.test_set = FashionMNIST(root, train=True), FashionMNIST(root, train=False)
        if config.train_subset:
            if not 0 < config.train_subset <= len(self.train_set):
                raise ValueError(f"--train-subset must be between 1 and {len(self.train_set)}, "
                                 f"got {config.train_subset}")
            self.train_set = subset(self.train_set, slice(0, config.train_subset))
        self.val_set = None
        if config.val_split:
            if not 0 < config.val_split < 1:
                raise ValueError(f"--val-split must be in (0, 1), got {config.val_split}")
            n_val = int(round(len(self.train_set) * config.val_split))
            self.train_set, self.val_set = random_split(
                self.train_set, [len(self.train_set) - n_val, n_val], seed=config.seed)
        self.model = models.build(config.model)
        self.loss_fn = nn.CrossEntropyLoss()
        self.trained = self.model  # what the training step calls: the model, or its DDP wrapper
        if self.shard is not None:
            from fastnn.nn.parallel import DistributedDataParallel
            self.trained = DistributedDataParallel(self.model)
            self.loss_fn = nn.CrossEntropyLoss(reduction="sum")  # see train_epoch
        self.optimizer = make_optimizer(config, self.model.parameters())
        self.loader = DataLoader(self.train_set, batch_size=config.batch_size, shuffle=True,
                                 seed=config.seed, augment=config.augment,
                                 normalize=normalization(config), shard=self.shard)
        self.scheduler = make_scheduler(config, self.optimizer)
        self.out = Path(config.out)
        self.epochs = []
        self.board = None
        if config.tensorboard and self.writer:
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
        if self.scheduler is not None:
            # Replay the schedule to the resumed epoch from the initial rate: the schedules are
            # chainable (each step scales the rate the optimizer holds), and the loaded state
            # holds the rate already scheduled for the last finished epoch.
            for group in self.optimizer.param_groups:
                group["lr"] = group.get("initial_lr", learning_rate(self.config))
            self.scheduler = make_scheduler(self.config, self.optimizer)
            with warnings.catch_warnings():
                # "lr_scheduler.step() before optimizer.step()": true of a replay, and harmless
                warnings.simplefilter("ignore", UserWarning)
                for _ in self.epochs:
                    self.scheduler.step()
        self.log(f"resuming {self.out} after epoch {len(self.epochs)}")

    def save_checkpoint(self):
        if not self.writer:
            return
        checkpoint.save(self.out / CHECKPOINT, self.model, self.optimizer,
                        {"epochs": self.epochs, "config": asdict(self.config)})

    def run(self):
        config = self.config
        self.out.mkdir(parents=True, exist_ok=True)
        split = f"{len(self.train_set)} train"
        ranks = "" if self.shard is None else f" x {self.shard.world} ranks"
        if self.val_set is not None:
            split += f" / {len(self.val_set)} validation"
        self.log(f"fastnn {fastnn.__version__}: {config.model} on Fashion-MNIST ({split} / "
                 f"{len(self.test_set)} test), {config.optimizer} lr {learning_rate(config):g}, "
                 f"backend {backend.current()}, {fastnn.get_num_threads()} threads{ranks}"
                 + (", autocast bfloat16" if config.autocast == "bf16" else ""))
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

    def autocast(self):
        """The mixed precision the run trains and evaluates under (--autocast)."""
        if self.config.autocast not in ("", "bf16"):
            raise ValueError(f"--autocast must be bf16, got {self.config.autocast!r}")
        return fastnn.autocast("cpu", dtype=fastnn.bfloat16, enabled=self.config.autocast == "bf16")

    def _epoch(self, epoch):
        config = self.config
        start = time.perf_counter()
        with self.autocast():
            train_loss, train_acc = train_epoch(self.trained, self.loader, self.loss_fn,
                                                self.optimizer, f"epoch {epoch}/{config.epochs}",
                                                config.progress and self.writer, self.shard)
        seconds = time.perf_counter() - start
        with self.autocast():
            test_accuracy = accuracy(self.model, self.test_set, normalization(config), self.shard)
            val_accuracy = (None if self.val_set is None else
                            accuracy(self.model, self.val_set, normalization(config), self.shard))
        record = dict(epoch=epoch, train_loss=train_loss, train_accuracy=train_acc,
                      test_accuracy=test_accuracy, seconds=seconds)
        line = (f"epoch {epoch:3d}  train loss {train_loss:.4f}  train acc {train_acc:.4f}  ")
        if self.val_set is not None:
            record["val_accuracy"] = val_accuracy
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
        # metrics.json holds only what the run computed, so the same command gives the same
        # file byte for byte (at a given thread count); wall-clock times go to timing.json.
        metrics = {
            "epochs": [{k: v for k, v in e.items() if k != "seconds"} for e in epochs],
            "final_test_accuracy": epochs[-1]["test_accuracy"] if epochs else None,
            "config": {**asdict(config), "lr": learning_rate(config),
                       "threads": fastnn.get_num_threads(), "backend": backend.current(),
                       "world_size": 1 if self.shard is None else self.shard.world},
            "system": fastnn.config.config(),
        }
        if not self.writer:
            return metrics
        _write_json(self.out / "metrics.json", metrics)
        _write_json(self.out / "timing.json", {
            "epochs": [{"epoch": e["epoch"], "seconds": e["seconds"]} for e in epochs],
            "total_train_seconds": sum(e["seconds"] for e in epochs)})
        fastnn.save(self.model.state_dict(), self.out / "model.safetensors")
        if epochs:
            plots.training_curves(epochs, self.out / "curves.png", title=f"fastnn {config.model}")
            self.log(f"test accuracy {metrics['final_test_accuracy']:.4f}; wrote "
                     f"{self.out}/metrics.json, model.safetensors, curves.png")
        return metrics


def _silent(*args, **kwargs):
    pass


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
