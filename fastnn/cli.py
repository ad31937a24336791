"""The `fastnn` command (also `python -m fastnn`): train, evaluate, predict, info."""
import argparse
import sys
from dataclasses import replace

from fastnn import models, training

_D = training.TrainConfig()


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _non_negative_float(text):
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be zero or positive, got {text}")
    return value


def _fraction(text):
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {text}")
    return value


def _add_train(sub):
    # Defaults are None here so that --resume can tell which options were given explicitly;
    # the help text shows the real defaults.
    train = sub.add_parser(
        "train", help="train a classifier on Fashion-MNIST",
        description="Train a classifier on Fashion-MNIST, evaluating after each epoch. Writes "
                    "OUT/metrics.json, OUT/model.safetensors, OUT/curves.png, and "
                    "OUT/checkpoint.safetensors after every epoch (atomically: a kill loses at "
                    "most the running epoch). Ctrl-C writes the outputs of the finished epochs "
                    "and exits; --resume OUT continues.")
    models_help = "; ".join(f"{k} = {v}" for k, v in models.DESCRIPTIONS.items())
    train.add_argument("--model", choices=sorted(models.MODELS),
                       help=f"network (default {_D.model}): {models_help}")
    train.add_argument("--epochs", type=_positive_int,
                       help=f"passes over the training images (default {_D.epochs})")
    lr_defaults = ", ".join(f"{k} {v[1]:g}" for k, v in training.OPTIMIZERS.items())
    train.add_argument("--lr", type=_positive_float,
                       help=f"learning rate (default per optimizer: {lr_defaults})")
    train.add_argument("--batch-size", type=_positive_int,
                       help=f"images per step (default {_D.batch_size})")
    train.add_argument("--optimizer", choices=list(training.OPTIMIZERS),
                       help=f"update rule, with PyTorch's defaults (default {_D.optimizer})")
    train.add_argument("--momentum", type=_non_negative_float,
                       help="momentum for sgd and rmsprop (default 0)")
    train.add_argument("--weight-decay", type=_non_negative_float,
                       help="weight decay: L2 in the gradient, decoupled for adamw (default 0)")
    train.add_argument("--val-split", type=_fraction,
                       help="hold out this fraction of the training set and report its "
                            "accuracy each epoch, e.g. 0.1 (default: none)")
    train.add_argument("--lr-schedule", choices=training.SCHEDULES,
                       help="learning rate per epoch: none (constant, default), cosine "
                            "(annealed to 0 over --epochs), step (x0.1 every third of them)")
    train.add_argument("--augment", action="store_true", default=None,
                       help="randomly flip and shift (by up to 2 pixels) training images")
    train.add_argument("--normalize", action=argparse.BooleanOptionalAction, default=None,
                       help="standardise pixels with the training set's mean and std "
                            "(default; --no-normalize feeds them in [0, 1] as d2l does)")
    train.add_argument("--seed", type=int,
                       help=f"seed for weights, dropout and batch order (default {_D.seed})")
    train.add_argument("--threads", type=_positive_int,
                       help="kernel threads (default: OMP_NUM_THREADS, else all cores)")
    train.add_argument("--backend", choices=["cython", "numba", "numpy"],
                       help="kernel backend (default: cython, the compiled kernels)")
    train.add_argument("--data",
                       help="directory with the Fashion-MNIST .gz files (default: search "
                            "$FASTNN_DATA, ~/.cache/fastnn/fashion-mnist, "
                            "/usr/share/datasets/fashion-mnist, then download)")
    train.add_argument("--out", help="output directory (default: runs/MODEL)")
    train.add_argument("--resume", metavar="OUT",
                       help="continue the run in OUT from its last checkpoint (its settings are "
                            "kept; --epochs, --threads, --distributed and --no-progress may be "
                            "changed)")
    train.add_argument("--tensorboard", metavar="DIR",
                       help="also log scalars (and, for CNNs, feature-map grids) to DIR for "
                            "`tensorboard --logdir DIR` (needs tensorboardX)")
    train.add_argument("--train-subset", type=_positive_int, metavar="N",
                       help="train on the first N training images only (quick runs; default: "
                            "all 60000)")
    train.add_argument("--distributed", action="store_true", default=None,
                       help="data-parallel training over the ranks of a job launched as "
                            "`python -m fastnn.distributed.run --nproc-per-node N -m fastnn "
                            "train ... --distributed` (gloo over TCP) or `mpirun -n N fastnn "
                            "train ... --distributed` (MPI, needs mpi4py): rank "
                            "r takes rows [r*B/N, (r+1)*B/N) of every global batch of size B, "
                            "gradients are averaged over the ranks, rank 0 alone prints and "
                            "writes OUT; threads per rank default to the cores per rank")
    train.add_argument("--autocast", choices=["bf16"],
                       help="train and evaluate under fastnn.autocast('cpu', dtype=bfloat16): "
                            "linear, matmul and conv2d take bfloat16 operands with float32 "
                            "accumulation, weights stay float32 (default: float32 throughout)")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="fastnn",
        description="fastnn: a CPU tensor engine with compiled kernels and a PyTorch-style API.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    _add_train(sub)
    evaluate = sub.add_parser(
        "evaluate", help="test accuracy, per-class accuracy and confusion matrix of a run",
        description="Evaluate OUT/model.safetensors on the test set: prints accuracy, "
                    "per-class accuracy and the confusion matrix, writes OUT/confusion.png.")
    evaluate.add_argument("out", metavar="OUT", help="a directory written by fastnn train")
    predict = sub.add_parser(
        "predict", help="a picture of test images with true and predicted classes",
        description="Write OUT/predictions.png: the first N test images with their true and "
                    "predicted class names, misclassified ones in red.")
    predict.add_argument("out", metavar="OUT", help="a directory written by fastnn train")
    predict.add_argument("--n", type=_positive_int, default=16, help="images to show (16)")
    feats = sub.add_parser(
        "features", help="pictures of a CNN's feature maps on a few test images",
        description="Write OUT/features_*.png: N test images and the outputs of each conv, "
                    "pool and activation layer of a trained CNN (cnn, cnn2) as image grids.")
    feats.add_argument("out", metavar="OUT", help="a directory written by fastnn train")
    feats.add_argument("--n", type=_positive_int, default=8, help="test images (8)")
    sub.add_parser("info", help="print the backend, instruction set, threads and versions")
    return parser


def train_config(args):
    given = {
        "model": args.model, "epochs": args.epochs, "lr": args.lr,
        "batch_size": args.batch_size, "optimizer": args.optimizer, "momentum": args.momentum,
        "weight_decay": args.weight_decay, "val_split": args.val_split, "seed": args.seed,
        "threads": args.threads, "backend": args.backend, "data": args.data, "out": args.out,
        "tensorboard": args.tensorboard, "lr_schedule": args.lr_schedule,
        "augment": args.augment, "normalize": args.normalize,
        "train_subset": args.train_subset, "distributed": args.distributed,
        "autocast": args.autocast,
    }
    given = {k: v for k, v in given.items() if v is not None}
    if args.resume:
        config = training.load_config(args.resume)
        changeable = {k: given[k] for k in ("epochs", "threads", "distributed") if k in given}
        config = replace(config, out=args.resume, **changeable)
    else:
        config = replace(_D, **given)
        if "out" not in given:
            config = replace(config, out=f"runs/{config.model}")
    return replace(config, progress=not args.no_progress)


def main(argv=None):
    args = build_parser().parse_args(argv)
    from fastnn import evaluation
    from fastnn.data import DatasetNotFoundError, IDXError
    from fastnn.serialization import CheckpointError
    try:
        if args.command == "info":
            import fastnn
            fastnn.show_config()
        elif args.command == "train":
            training.run(train_config(args), resume=bool(args.resume))
        elif args.command == "evaluate":
            evaluation.evaluate(args.out)
        elif args.command == "predict":
            evaluation.predict_grid(args.out, args.n)
        elif args.command == "features":
            from fastnn import features
            features.features(args.out, args.n)
    except (DatasetNotFoundError, IDXError, CheckpointError, FileNotFoundError,
            ValueError, ImportError) as exc:
        print(f"fastnn: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fastnn: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
