"""Logging a run for TensorBoard through tensorboardX (no PyTorch needed): scalars each epoch
and, for CNNs, the feature-map grids of a few test images."""


class TensorBoardLogger:
    def __init__(self, log_dir):
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            raise ImportError("--tensorboard needs tensorboardX: pip install 'fastnn[tensorboard]'"
                              " (or pip install tensorboardX)") from None
        self.writer = SummaryWriter(log_dir)

    def epoch(self, record):
        step = record["epoch"]
        for key in ("train_loss", "train_accuracy", "test_accuracy", "val_accuracy", "seconds"):
            if record.get(key) is not None:
                group = "loss" if "loss" in key else "time" if key == "seconds" else "accuracy"
                self.writer.add_scalar(f"{group}/{key}", record[key], step)

    def feature_maps(self, model, images, step):
        from fastnn import features, nn
        if not any(isinstance(m, nn.Conv2d) for m in model.modules()):
            return
        for name, array in features.feature_maps(model, images):
            self.writer.add_image(f"features/{name}", features.tile(array), step,
                                  dataformats="HW")

    def close(self):
        self.writer.close()
