"""`fastnn evaluate OUT` and `fastnn predict OUT`: look at a trained model's test results."""
from pathlib import Path

import numpy as np

import fastnn
from fastnn import models, plots, training
from fastnn.data import CLASSES, FashionMNIST


def load_model(out):
    """The model of run `out` with its trained weights, and its configuration."""
    config = training.load_config(out)
    model = models.build(config.model)
    model.load_state_dict(fastnn.load(Path(out) / "model.safetensors"))
    model.eval()
    return model, config


def confusion(true, predicted, n_classes=len(CLASSES)):
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (true, predicted), 1)
    return matrix


def evaluate(out, log=print):
    model, config = load_model(out)
    test = FashionMNIST(config.data or None, train=False)
    predicted = training.predict(model, test, normalize=training.normalization(config))
    matrix = confusion(test.labels, predicted)
    acc = float((predicted == test.labels).mean())
    log(f"test accuracy {acc:.4f} ({int((predicted == test.labels).sum())}/{len(test)}), "
        f"model {config.model}")
    log("per-class accuracy:")
    per_class = matrix.diagonal() / matrix.sum(axis=1)
    for name, value in zip(CLASSES, per_class):
        log(f"  {name:<12} {value:.4f}")
    log("confusion matrix (rows: true, columns: predicted):")
    width = max(5, len(str(matrix.max())) + 1)
    log("  " + "".join(f"{i:>{width}}" for i in range(len(CLASSES))))
    for i, row in enumerate(matrix):
        log(f"{i:>2}" + "".join(f"{v:>{width}}" for v in row) + f"  {CLASSES[i]}")
    plots.confusion_matrix(matrix, CLASSES, Path(out) / "confusion.png",
                           title=f"fastnn {config.model}: test accuracy {acc:.4f}")
    log(f"wrote {Path(out) / 'confusion.png'}")
    return {"accuracy": acc, "per_class": per_class.tolist(), "confusion": matrix.tolist()}


def predict_grid(out, n=16, log=print):
    model, config = load_model(out)
    test = FashionMNIST(config.data or None, train=False)
    images = test.images[:n]
    with fastnn.no_grad():
        x = fastnn.tensor(training.model_inputs(config, images))
        predicted = model(x)._data.argmax(axis=1)
    true = test.labels[:n]
    plots.prediction_grid(images, true, predicted, CLASSES, Path(out) / "predictions.png")
    wrong = int((true != predicted).sum())
    log(f"{n - wrong}/{n} correct; wrote {Path(out) / 'predictions.png'}")
    return predicted
