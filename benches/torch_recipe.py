"""PyTorch running a `fastnn train` recipe the same way (same network, initialisation scheme,
optimizer, batch size, epochs, input standardisation, shuffling and per-epoch test evaluation),
so the two wall times can be compared on one machine at one thread count.

    python benches/torch_recipe.py --model mlp2 --optimizer adam --lr 1e-3 --epochs 20 --threads 2
"""
import argparse
import json
import time

import numpy as np
import torch
from torch import nn

from fastnn.data import FashionMNIST, to_float_images
from fastnn.data.fashion_mnist import MEAN, STD


def build(name):
    if name == "mlp2":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2),
                             nn.Linear(512, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10))
    if name == "mlp":
        net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
        for m in net:
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.01)
                nn.init.zeros_(m.bias)
        return net
    if name in ("cnn", "cnn2"):
        bn = name == "cnn2"
        layers = [nn.Conv2d(1, 32, 3, padding=1)] + ([nn.BatchNorm2d(32)] if bn else []) + [
            nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1)] + (
            [nn.BatchNorm2d(64)] if bn else []) + [nn.ReLU(), nn.MaxPool2d(2), nn.Flatten()] + (
            [nn.Dropout(0.25)] if bn else []) + [nn.Linear(3136, 128), nn.ReLU()] + (
            [nn.Dropout(0.5)] if bn else []) + [nn.Linear(128, 10)]
        return nn.Sequential(*layers)
    raise ValueError(name)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="mlp2")
    parser.add_argument("--optimizer", default="adam")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--normalize", action=argparse.BooleanOptionalAction, default=True,
                        help="standardise pixels as `fastnn train` does (default)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    start = time.perf_counter()
    train, test = FashionMNIST(train=True), FashionMNIST(train=False)
    stats = (MEAN, STD) if args.normalize else None
    x_train = torch.from_numpy(to_float_images(train.images, stats))
    y_train = torch.from_numpy(train.labels)
    x_test = torch.from_numpy(to_float_images(test.images, stats))
    y_test = torch.from_numpy(test.labels)
    net = build(args.model)
    opt = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD,
           "adamw": torch.optim.AdamW}[args.optimizer](net.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(args.seed)
    epochs = []
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        net.train()
        order = torch.from_numpy(rng.permutation(len(y_train)))
        for i in range(0, len(order), args.batch_size):
            idx = order[i:i + args.batch_size]
            loss = loss_fn(net(x_train[idx]), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        seconds = time.perf_counter() - t0
        net.eval()
        with torch.no_grad():
            acc = sum((net(x_test[i:i + 1000]).argmax(1) == y_test[i:i + 1000]).sum().item()
                      for i in range(0, len(y_test), 1000)) / len(y_test)
        epochs.append({"epoch": epoch, "test_accuracy": acc, "seconds": seconds})
        print(f"epoch {epoch:3d}  test acc {acc:.4f}  {seconds:.2f} s", flush=True)
    wall = time.perf_counter() - start
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "wall_seconds": wall,
                      "train_seconds": sum(e["seconds"] for e in epochs),
                      "final_test_accuracy": epochs[-1]["test_accuracy"]}))


if __name__ == "__main__":
    main()
