"""Pictures of a run, drawn with matplotlib's non-interactive Agg backend (no display needed)."""


def training_curves(epochs, path, title=""):
    """Loss and accuracy per epoch, side by side, saved as a PNG at `path`."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [e["epoch"] for e in epochs]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(xs, [e["train_loss"] for e in epochs], marker="o", label="train loss")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("cross-entropy")
    ax_loss.set_title("Loss")
    ax_loss.grid(alpha=0.3)
    ax_loss.legend()
    ax_acc.plot(xs, [e["train_accuracy"] for e in epochs], marker="o", label="train")
    ax_acc.plot(xs, [e["test_accuracy"] for e in epochs], marker="s", label="test")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_title("Accuracy")
    ax_acc.grid(alpha=0.3)
    ax_acc.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
