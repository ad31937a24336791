"""d2l's modern CNNs (chapter 8: NiN, GoogLeNet's Inception, ResNet's Residual), written as
the book writes them for PyTorch and shrunk to run in seconds, run once on torch and once with
only the imports changed. The same initial weights (drawn from NumPy and loaded with
load_state_dict) must give the same outputs, loss and updated weights after SGD steps in
training mode (batch norm on batch statistics)."""
import numpy as np
import pytest

from conftest import requires_torch
from test_porting import compare

COMMON = """
import torch
from torch import nn
from torch.nn import functional as F

def init_from(net, seed):
    rng = np.random.default_rng(seed)
    state = {}
    for name, value in net.state_dict().items():
        if name.endswith("num_batches_tracked"):
            state[name] = value
        elif name.endswith("running_var"):
            state[name] = torch.from_numpy(np.ones(tuple(value.shape), np.float32))
        elif name.endswith("running_mean"):
            state[name] = torch.from_numpy(np.zeros(tuple(value.shape), np.float32))
        else:
            scale = 1.0 / np.sqrt(max(1, int(np.prod(tuple(value.shape)[1:]))))
            state[name] = torch.from_numpy(
                (rng.standard_normal(tuple(value.shape)) * scale).astype(np.float32))
    net.load_state_dict(state)

def train(net, X, y, steps=3, lr=0.05):
    trainer = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    loss = nn.CrossEntropyLoss()
    losses = []
    net.train()
    for _ in range(steps):
        trainer.zero_grad()
        l = loss(net(X), y)
        l.backward()
        trainer.step()
        losses.append(l.item())
    net.eval()
    with torch.no_grad():
        out = net(X)
    return losses, out
"""

NIN = COMMON + """
def nin_block(in_channels, out_channels, kernel_size, strides, padding):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, strides, padding), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU())

net = nn.Sequential(
    nin_block(1, 8, kernel_size=5, strides=2, padding=2),
    nn.MaxPool2d(3, stride=2),
    nin_block(8, 16, kernel_size=3, strides=1, padding=1),
    nn.MaxPool2d(3, stride=2),
    nn.Dropout(0.0),
    nin_block(16, 10, kernel_size=3, strides=1, padding=1),
    nn.AdaptiveAvgPool2d((1, 1)),
    nn.Flatten())
init_from(net, 1)
X, y = torch.from_numpy(IMAGES), torch.from_numpy(LABELS)
losses, out = train(net, X, y)
result = {"losses": losses, "out": out, "w": net[5][0].weight.data}
"""

GOOGLENET = COMMON + """
class Inception(nn.Module):
    def __init__(self, in_channels, c1, c2, c3, c4, **kwargs):
        super(Inception, self).__init__(**kwargs)
        self.p1_1 = nn.Conv2d(in_channels, c1, kernel_size=1)
        self.p2_1 = nn.Conv2d(in_channels, c2[0], kernel_size=1)
        self.p2_2 = nn.Conv2d(c2[0], c2[1], kernel_size=3, padding=1)
        self.p3_1 = nn.Conv2d(in_channels, c3[0], kernel_size=1)
        self.p3_2 = nn.Conv2d(c3[0], c3[1], kernel_size=5, padding=2)
        self.p4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.p4_2 = nn.Conv2d(in_channels, c4, kernel_size=1)

    def forward(self, x):
        p1 = F.relu(self.p1_1(x))
        p2 = F.relu(self.p2_2(F.relu(self.p2_1(x))))
        p3 = F.relu(self.p3_2(F.relu(self.p3_1(x))))
        p4 = F.relu(self.p4_2(self.p4_1(x)))
        return torch.cat((p1, p2, p3, p4), dim=1)

b1 = nn.Sequential(nn.Conv2d(1, 8, kernel_size=7, stride=2, padding=3), nn.ReLU(),
                   nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
b2 = nn.Sequential(Inception(8, 4, (4, 8), (2, 4), 4), Inception(20, 8, (8, 12), (4, 6), 6),
                   nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
net = nn.Sequential(b1, b2, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(32, 10))
init_from(net, 2)
X, y = torch.from_numpy(IMAGES), torch.from_numpy(LABELS)
losses, out = train(net, X, y)
result = {"losses": losses, "out": out, "w": net[1][1].p3_2.weight.data}
"""

RESNET = COMMON + """
class Residual(nn.Module):
    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1,
                               stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.Conv2d(input_channels, num_channels, kernel_size=1, stride=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)

def resnet_block(input_channels, num_channels, num_residuals, first_block=False):
    blk = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.append(Residual(input_channels, num_channels, use_1x1conv=True, strides=2))
        else:
            blk.append(Residual(num_channels, num_channels))
    return blk

b1 = nn.Sequential(nn.Conv2d(1, 8, kernel_size=7, stride=2, padding=3), nn.BatchNorm2d(8),
                   nn.ReLU(), nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
b2 = nn.Sequential(*resnet_block(8, 8, 2, first_block=True))
b3 = nn.Sequential(*resnet_block(8, 16, 2))
net = nn.Sequential(b1, b2, b3, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(16, 10))
init_from(net, 3)
X, y = torch.from_numpy(IMAGES), torch.from_numpy(LABELS)
losses, out = train(net, X, y)
result = {"losses": losses, "out": out, "w": net[2][0].conv3.weight.data,
          "running_var": net[2][1].bn2.running_var}
"""


@pytest.fixture(scope="module")
def inputs():
    rng = np.random.default_rng(0)
    return dict(np=np, IMAGES=rng.standard_normal((6, 1, 24, 24)).astype(np.float32),
                LABELS=rng.integers(0, 10, 6).astype(np.int64))


@requires_torch
@pytest.mark.parametrize("name,source", [("nin", NIN), ("googlenet", GOOGLENET),
                                         ("resnet", RESNET)])
def test_d2l_modern_cnn_ports_by_changing_imports(name, source, inputs):
    ours = compare(source, rtol=2e-4, atol=2e-5, **inputs)
    assert ours["losses"][-1] < ours["losses"][0]


# pytorch/examples mnist/main.py: its Net, train() and test() as written there (dropout made a
# parameter so the two libraries' random masks cannot differ), Adadelta and StepLR as in main(),
# on Fashion-MNIST-shaped data handed over through a TensorDataset.
EXAMPLES_MNIST = """
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(DROPOUT)
        self.dropout2 = nn.Dropout(DROPOUT)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(model, train_loader, optimizer):
    model.train()
    losses = []
    for batch_idx, (data, target) in enumerate(train_loader):
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test(model, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    return test_loss / len(test_loader.dataset), correct


model = Net()
init_from(model, 5)
data = TensorDataset(torch.from_numpy(IMAGES), torch.from_numpy(LABELS))
train_loader = DataLoader(data, batch_size=16)
test_loader = DataLoader(data, batch_size=32)
optimizer = optim.Adadelta(model.parameters(), lr=1.0)
scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
losses, tests = [], []
for epoch in range(1, 3):
    losses += train(model, train_loader, optimizer)
    tests.append(test(model, test_loader))
    scheduler.step()
result = {"losses": losses, "test_loss": [t[0] for t in tests], "correct": [t[1] for t in tests],
          "lr": scheduler.get_last_lr()[0], "fc2": model.fc2.weight.data}
"""


@requires_torch
def test_pytorch_examples_mnist_ports_by_changing_imports():
    rng = np.random.default_rng(1)
    images = rng.random((48, 1, 28, 28), dtype=np.float32)
    labels = (images.reshape(48, -1) @ rng.standard_normal((784, 10))).argmax(1)
    ours = compare(COMMON + EXAMPLES_MNIST, rtol=5e-4, atol=5e-5, np=np, DROPOUT=0.0,
                   IMAGES=images, LABELS=labels.astype(np.int64))
    assert ours["lr"] == pytest.approx(0.49)
    assert ours["losses"][-1] < ours["losses"][0]
