"""torch.utils.tensorboard: `SummaryWriter` writes TensorBoard event files through tensorboardX,
whose writer has torch's API (torch's own wraps the `tensorboard` package the same way); no
TensorFlow or PyTorch is needed. fastnn tensors anywhere in an argument (a loss, a dict of
scalars, a batch of images) are handed over as NumPy arrays. The TensorBoard recipe
("How to use TensorBoard with PyTorch") runs with only its imports changed."""
try:
    import tensorboardX as _tensorboardX
except ImportError:  # torch raises ImportError too when its tensorboard package is missing
    raise ImportError("TensorBoard logging requires tensorboardX: pip install "
                      "'fastnn[tensorboard]' (or pip install tensorboardX)") from None

import functools

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

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        raise NotImplementedError("SummaryWriter.add_graph traces the model with TorchScript, "
                                  "which fastnn does not have; log scalars, histograms and "
                                  "images instead")


for _name in dir(_tensorboardX.SummaryWriter):
    if _name.startswith("add_") and _name != "add_graph":
        setattr(SummaryWriter, _name, _converting(getattr(_tensorboardX.SummaryWriter, _name)))
del _name
