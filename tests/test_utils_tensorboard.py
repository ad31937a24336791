"""fastnn.utils.tensorboard.SummaryWriter (torch.utils.tensorboard's name) takes fastnn tensors
in every add_*: the TensorBoard recipe's training loop logs a loss tensor each epoch. The event
file is read back record by record (TFRecord framing: length, crc, Event proto, crc)."""
import struct

import numpy as np
import pytest

import fastnn

pytest.importorskip("tensorboardX")
from tensorboardX.proto import event_pb2  # noqa: E402

from fastnn.utils.tensorboard import SummaryWriter  # noqa: E402


def _events(log_dir):
    (path,) = list(log_dir.glob("events.out.tfevents.*"))
    data, at, events = path.read_bytes(), 0, []
    while at < len(data):
        (length,) = struct.unpack("<Q", data[at:at + 8])
        event = event_pb2.Event()
        event.ParseFromString(data[at + 12:at + 12 + length])
        events.append(event)
        at += 12 + length + 4
    return events


def test_recipe_logs_the_loss_tensor_each_epoch(tmp_path):
    writer = SummaryWriter(log_dir=str(tmp_path))
    x = fastnn.arange(-5, 5, 0.1).view(-1, 1)
    y = -5 * x + 0.1 * fastnn.randn(x.size())
    model = fastnn.nn.Linear(1, 1)
    criterion = fastnn.nn.MSELoss()
    optimizer = fastnn.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for epoch in range(5):
        loss = criterion(model(x), y)
        writer.add_scalar("Loss/train", loss, epoch)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    writer.add_histogram("weight", model.weight, 4)
    writer.add_image("image", fastnn.rand(3, 8, 8), 0)
    writer.add_images("batch", fastnn.rand(2, 3, 8, 8).to(fastnn.bfloat16), 0)
    writer.add_scalars("run", {"a": fastnn.tensor(1.0), "b": 2.0}, 0)
    writer.flush()
    writer.close()
    assert writer.log_dir == writer.get_logdir() == str(tmp_path)
    found = [(e.step, v.tag, v.simple_value) for e in _events(tmp_path)
             for v in e.summary.value if v.tag == "Loss/train"]
    assert [f[0] for f in found] == list(range(5))
    np.testing.assert_allclose([f[2] for f in found], losses, rtol=1e-6)
    tags = {v.tag for e in _events(tmp_path) for v in e.summary.value}
    assert {"weight", "image", "batch"} <= tags


def test_add_graph_draws_the_modules_and_the_ops_between_them(tmp_path):
    """The TensorBoard tutorials call writer.add_graph(net, images): the event file holds a
    GraphDef whose nodes are the leaf modules (named by scope, a module called twice gets two
    nodes) and the functional ops between them, wired in data-flow order with their shapes."""
    from tensorboardX.proto.graph_pb2 import GraphDef
    F = fastnn.nn.functional

    class Net(fastnn.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = fastnn.nn.Conv2d(1, 2, 3)
            self.pool = fastnn.nn.MaxPool2d(2)
            self.head = fastnn.nn.Sequential(fastnn.nn.Linear(2, 3), fastnn.nn.ReLU(inplace=True))

        def forward(self, x):
            x = self.pool(self.pool(F.relu(self.conv(x))))
            return self.head(x.view(-1, 2)) * 2

    writer = SummaryWriter(log_dir=str(tmp_path))
    writer.add_graph(Net(), fastnn.rand(5, 1, 10, 10))
    writer.close()
    (event,) = [e for e in _events(tmp_path) if e.graph_def]
    graph = GraphDef()
    graph.ParseFromString(event.graph_def)
    wiring = [(n.name, n.op, list(n.input)) for n in graph.node]
    assert wiring == [
        ("input/input.1", "IO Node", []),
        ("Net/Conv2d[conv]/conv2d.1", "Conv2d", ["input/input.1"]),
        ("Net/relu.1", "aten::relu", ["Net/Conv2d[conv]/conv2d.1"]),
        ("Net/MaxPool2d[pool]/maxpool2d.1", "MaxPool2d", ["Net/relu.1"]),
        ("Net/MaxPool2d[pool]/maxpool2d.2", "MaxPool2d", ["Net/MaxPool2d[pool]/maxpool2d.1"]),
        ("Net/view.1", "aten::view", ["Net/MaxPool2d[pool]/maxpool2d.2"]),
        ("Net/Sequential[head]/Linear[0]/linear.1", "Linear", ["Net/view.1"]),
        ("Net/Sequential[head]/ReLU[1]/relu.1", "ReLU", ["Net/Sequential[head]/Linear[0]/linear.1"]),
        ("Net/mul.1", "aten::mul", ["Net/Sequential[head]/ReLU[1]/relu.1"]),
        ("output/output.1", "IO Node", ["Net/mul.1"])]
    shapes = {n.name: [d.size for d in n.attr["_output_shapes"].list.shape[0].dim]
              for n in graph.node}
    assert shapes["Net/MaxPool2d[pool]/maxpool2d.1"] == [5, 2, 4, 4]
    assert shapes["output/output.1"] == [20, 3]
    assert graph.node[1].attr["attr"].s.decode() == "1, 2, kernel_size=(3, 3), stride=(1, 1)"


def test_add_scalars_writes_torchs_run_folders(tmp_path):
    """The Training-with-PyTorch tutorial logs {'Training': ..., 'Validation': ...} under one main
    tag: torch's writer puts each curve in `<log_dir>/<main_tag>_<tag>` ('/' in the main tag as
    '_'), with the main tag as the value's tag."""
    writer = SummaryWriter(log_dir=str(tmp_path))
    for step in (1, 2):
        writer.add_scalars("Training vs. Validation/Loss",
                           {"Training": 0.5 / step, "Validation": fastnn.tensor(0.25 * step)}, step)
    writer.close()
    runs = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert runs == ["Training vs. Validation_Loss_Training", "Training vs. Validation_Loss_Validation"]
    seen = [(e.step, v.tag, v.simple_value)
            for e in _events(tmp_path / runs[1]) for v in e.summary.value]
    assert seen == [(1, "Training vs. Validation/Loss", 0.25), (2, "Training vs. Validation/Loss", 0.5)]


def test_add_scalar_keeps_the_tag_as_given(tmp_path):
    """torch writes 'Loss train' as it is (tensorboardX would write 'Loss_train'); new_style puts
    the value in a tensor field; more than one element is refused in torch's words."""
    writer = SummaryWriter(log_dir=str(tmp_path))
    writer.add_scalar("Loss train", fastnn.tensor([1.5]), 3)
    writer.add_scalar("Loss new", 2.5, 4, new_style=True, double_precision=True)
    with pytest.raises(AssertionError, match="Was given size: 2 and 1 dimensions"):
        writer.add_scalar("bad", fastnn.ones(2))
    writer.close()
    values = {v.tag: v for e in _events(tmp_path) for v in e.summary.value}
    assert values["Loss train"].simple_value == 1.5
    assert list(values["Loss new"].tensor.double_val) == [2.5]
    assert values["Loss new"].metadata.plugin_data.plugin_name == "scalars"
