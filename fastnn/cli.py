"""The `fastnn` command (also `python -m fastnn`)."""
import argparse
import sys

from fastnn import models, training


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


def build_parser():
    parser = argparse.ArgumentParser(
        prog="fastnn",
        description="fastnn: a CPU tensor engine with compiled kernels and a PyTorch-style API.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    d = training.TrainConfig()
    train = sub.add_parser(
        "train", help="train a classifier on Fashion-MNIST",
        description="Train a classifier on Fashion-MNIST, evaluating on the test set after each "
                    "epoch. Writes OUT/metrics.json, OUT/model.safetensors and OUT/curves.png.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train.add_argument("--model", choices=sorted(models.MODELS), default=d.model,
                       help="network: mlp = 784-256-10 with ReLU, weights N(0, 0.01^2) (d2l)")
    train.add_argument("--epochs", type=_positive_int, default=d.epochs,
                       help="passes over the 60,000 training images")
    train.add_argument("--lr", type=_positive_float, default=d.lr, help="learning rate")
    train.add_argument("--batch-size", type=_positive_int, default=d.batch_size,
                       help="images per SGD step")
    train.add_argument("--optimizer", choices=training.OPTIMIZERS, default=d.optimizer,
                       help="update rule")
    train.add_argument("--momentum", type=float, default=d.momentum, help="SGD momentum")
    train.add_argument("--weight-decay", type=float, default=d.weight_decay,
                       help="L2 penalty added to the gradient")
    train.add_argument("--seed", type=int, default=d.seed,
                       help="seed for weights and batch order (same seed, same run)")
    train.add_argument("--threads", type=_positive_int, default=None,
                       help="kernel threads (default: OMP_NUM_THREADS, else all cores)")
    train.add_argument("--backend", choices=["cython", "numba", "numpy"], default=None,
                       help="kernel backend (default: cython, the compiled kernels)")
    train.add_argument("--data", default=None,
                       help="directory with the Fashion-MNIST .gz files (default: search "
                            "$FASTNN_DATA, ~/.cache/fastnn/fashion-mnist, "
                            "/usr/share/datasets/fashion-mnist, then download)")
    train.add_argument("--out", default=None, help="output directory (default: runs/MODEL)")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bars")

    sub.add_parser("info", help="print the backend, instruction set, threads and versions")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.command == "info":
        import fastnn
        fastnn.show_config()
        return 0
    config = training.TrainConfig(
        model=args.model, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
        optimizer=args.optimizer, momentum=args.momentum, weight_decay=args.weight_decay,
        seed=args.seed, threads=args.threads or 0, backend=args.backend or "",
        data=args.data or "", out=args.out or f"runs/{args.model}",
        progress=not args.no_progress)
    from fastnn.data import DatasetNotFoundError, IDXError
    try:
        training.run(config)
    except (DatasetNotFoundError, IDXError) as exc:
        print(f"fastnn: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fastnn: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
