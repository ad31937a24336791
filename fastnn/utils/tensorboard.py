"""torch.utils.tensorboard: `SummaryWriter` writes TensorBoard event files through tensorboardX,
whose writer has torch's API (torch's own wraps the `tensorboard` package the same way); no
TensorFlow or PyTorch is needed. fastnn tensors anywhere in an argument (a loss, a dict of
scalars, a batch of images) are handed over as NumPy arrays. The TensorBoard recipe
("How to use TensorBoard with PyTorch") runs with only its imports changed, and add_graph draws
the model from one recorded forward pass (fastnn/utils/tensorboard_graph.py)."""
try:
    import tensorboardX as _tensorboardX
except ImportError:  # torch raises ImportError too when its tensorboard package is missing
    raise ImportError("TensorBoard logging requires tensorboardX: pip install "
                      "'fastnn[tensorboard]' (or pip install tensorboardX)") from None

import functools
import time

import numpy as np

from fastnn import dtypes
from fastnn.tensor import Tensor

__all__ = ["SummaryWriter"]


def _numpy(value):
    """value with every fastnn Tensor in it (nested in dicts, lists, tuples) as an ndarray."""
    if isinstance(value, Tensor):
        array = value.detach().numpy()  # (bfloat16 widened: NumPy's writers do not know it)
        return array.astype(np.float32) if array.dtype == dtypes.bfloat16.numpy else array
    if isinstance(value, dict):
        return {k: _numpy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and any(isinstance(v, (Tensor, dict, list, tuple))
                                                for v in value):
        return type(value)(_numpy(v) for v in value)
    return value


def _scalar_summary(tag, value, new_style=False, double_precision=False):
    """torch.utils.tensorboard.summary.scalar: one value, its tag unchanged; new_style puts it in
    a tensor field for the scalars plugin."""
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboardX.proto.tensor_pb2 import TensorProto
    array = np.asarray(_numpy(value)).squeeze()
    if array.ndim != 0:
        raise AssertionError(f"Tensor should contain one element (0 dimensions). Was given size: "
                             f"{array.size} and {array.ndim} dimensions.")
    number = float(array)
    if not new_style:
        return Summary(value=[Summary.Value(tag=tag, simple_value=number)])
    proto = TensorProto(double_val=[number], dtype="DT_DOUBLE") if double_precision else \
        TensorProto(float_val=[number], dtype="DT_FLOAT")
    plugin = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    return Summary(value=[Summary.Value(tag=tag, tensor=proto, metadata=plugin)])


def _converting(method):
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        return method(self, *[_numpy(a) for a in args],
                      **{k: _numpy(v) for k, v in kwargs.items()})
    return call


class SummaryWriter(_tensorboardX.SummaryWriter):
    """torch.utils.tensorboard.SummaryWriter(log_dir=None, comment='', purge_step=None,
    max_queue=10, flush_secs=120, filename_suffix=''): every add_* takes fastnn tensors."""

    @property
    def log_dir(self):  # torch's name for tensorboardX's logdir
        return self.logdir

    def get_logdir(self):
        """The directory the event files are written to (torch's method)."""
        return self.logdir

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        """torch's add_scalar: the tag is written as given (tensorboardX would rewrite spaces
        and other characters as '_')."""
        summary = _scalar_summary(tag, scalar_value, new_style, double_precision)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Each curve in its own run, named as torch names it: `<log_dir>/<main_tag>_<tag>` (with
        `/` in main_tag written `_`), so TensorBoard lists the runs torch's writer makes
        (tensorboardX nests them as `<main_tag>/<tag>`)."""
        from tensorboardX.writer import FileWriter
        walltime = time.time() if walltime is None else walltime
        root = self._get_file_writer().get_logdir()
        for tag, value in tag_scalar_dict.items():
            run = f"{root}/{main_tag.replace('/', '_')}_{tag}"
            writer = self.all_writers.get(run)
            if writer is None:
                writer = self.all_writers[run] = FileWriter(
                    logdir=run, max_queue=self._max_queue, flush_secs=self._flush_secs,
                    filename_suffix=self._filename_suffix)
            writer.add_summary(_scalar_summary(main_tag, value), global_step, walltime)

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """The model's graph for TensorBoard's Graphs tab, from one forward pass on
        input_to_model (torch traces it with TorchScript; fastnn records the pass: see
        fastnn/utils/tensorboard_graph.py). use_strict_trace has no meaning without a tracer."""
        from tensorboardX.proto import event_pb2
        from fastnn.utils.tensorboard_graph import graph_def
        graph = graph_def(model, input_to_model, verbose)
        self._get_file_writer().add_event(event_pb2.Event(graph_def=graph.SerializeToString()))


for _name in dir(_tensorboardX.SummaryWriter):
    if _name.startswith("add_") and _name not in ("add_graph", "add_scalar", "add_scalars"):
        setattr(SummaryWriter, _name, _converting(getattr(_tensorboardX.SummaryWriter, _name)))
del _name
