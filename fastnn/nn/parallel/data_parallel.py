"""nn.DataParallel on a CPU-only build: torch replicates the module over its CUDA devices; with
none (device_ids empty, as torch has on a machine without GPUs) it calls the wrapped module
directly, which is what this does. Training across processes is DistributedDataParallel's."""
from fastnn.nn.module import Module


class DataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = []  # no CUDA devices
        self.output_device, self.dim = None, dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
