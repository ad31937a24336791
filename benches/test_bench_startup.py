"""Start-up cost: a new process that imports fastnn, picks a backend and takes one training step
of the MLP. Numba compiles on first use and caches the machine code on disk, so once a first
process has run, the Numba backend should start within a second of the compiled one."""
import subprocess
import sys

import pytest

from conftest import record

STEP = """
import numpy as np
import fastnn
from fastnn import nn
fastnn.backend.use({backend!r})
net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
opt = fastnn.optim.SGD(net.parameters(), lr=0.1)
x, y = fastnn.randn(256, 784), fastnn.from_numpy(np.zeros(256, dtype=np.int64))
loss = nn.CrossEntropyLoss()(net(x), y)
opt.zero_grad()
loss.backward()
opt.step()
assert np.isfinite(loss.item())
"""


@pytest.mark.parametrize("name", ["cython", "numba"])
def test_new_process_to_first_step(benchmark, name):
    command = [sys.executable, "-c", STEP.format(backend=name)]
    subprocess.run(command, check=True)  # the first process fills Numba's cache
    record(benchmark, "new process: import, one MLP training step", f"fastnn-{name}", 1)
    benchmark.pedantic(subprocess.run, args=(command,), kwargs={"check": True}, rounds=3,
                       warmup_rounds=0)
