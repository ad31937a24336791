"""Pictures of a run, drawn with matplotlib's non-interactive Agg backend (no display needed)."""
import numpy as np


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def training_curves(epochs, path, title=""):
    """Loss and accuracy per epoch, side by side, saved as a PNG at `path`."""
    plt = _pyplot()
    xs = [e["epoch"] for e in epochs]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(xs, [e["train_loss"] for e in epochs], marker="o", label="train loss")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("cross-entropy")
    ax_loss.set_title("Loss")
    ax_loss.grid(alpha=0.3)
    ax_loss.legend()
    ax_acc.plot(xs, [e["train_accuracy"] for e in epochs], marker="o", label="train")
    if any(e.get("val_accuracy") is not None for e in epochs):
        ax_acc.plot(xs, [e.get("val_accuracy") for e in epochs], marker="^", label="validation")
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


def confusion_matrix(matrix, classes, path, title=""):
    """The confusion matrix as a heat map (rows: true class, columns: predicted)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 7))
    shown = ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = matrix.max() / 2
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if matrix[i, j] > threshold else "black")
    fig.colorbar(shown, ax=ax, fraction=0.046)
    ax.set_title(title or "Confusion matrix")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def prediction_grid(images, true, predicted, classes, path, title=""):
    """Images with their true and predicted class names (d2l's predict_ch3); wrong ones in red."""
    plt = _pyplot()
    n = len(images)
    cols = min(8, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 2.3 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, t, p in zip(axes.flat, images, true, predicted):
        ax.imshow(image, cmap="gray")
        wrong = t != p
        ax.set_title(f"{classes[t]}\n{classes[p]}", fontsize=7, color="red" if wrong else "black")
        if wrong:
            for side in ax.spines.values():
                side.set_visible(True)
                side.set_color("red")
                side.set_linewidth(2)
            ax.axis("on")
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(title or "true / predicted (misclassified in red)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
