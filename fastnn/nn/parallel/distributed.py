"""DistributedDataParallel as torch's: one model replica per MPI rank, gradients averaged over
the ranks during backward.

How the averaging overlaps backward (Li et al., "PyTorch Distributed: Experiences on
Accelerating Data Parallel Training", VLDB 2020): parameters are grouped into buckets in the
reverse of their registration order (roughly the order backward produces their gradients); the
first bucket holds about 1 MiB, the others `bucket_cap_mb` (25 MB). A post-accumulate-grad
hook counts each parameter in; when a bucket's last gradient arrives, its gradients are copied
into one flat buffer and a non-blocking all-reduce starts, while backward goes on with the
layers below. A callback queued on the autograd engine waits for every bucket at the end of
backward and writes the averages back into `.grad`. Parameters that got no gradient in a pass
count as zeros (torch's find_unused_parameters=True behaviour, without the flag).
"""
import contextlib

import numpy as np

from fastnn import distributed as dist
from fastnn.autograd import engine
from fastnn.nn.module import Module
from fastnn.tensor import Tensor

_FIRST_BUCKET_BYTES = 1 << 20  # torch's dist._DEFAULT_FIRST_BUCKET_BYTES


class _Bucket:
    def __init__(self, params, group=None):
        self.params, self.group = params, group
        self.sizes = [p._data.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int)
        self.flat = np.empty(int(self.offsets[-1]), dtype=params[0]._data.dtype)
        self.ready = set()
        self.work = None

    def launch(self):
        """Gather the gradients into the flat buffer and start its all-reduce (SUM)."""
        for p, lo, hi in zip(self.params, self.offsets[:-1], self.offsets[1:]):
            if p.grad is None:
                self.flat[lo:hi] = 0
            else:
                self.flat[lo:hi] = p.grad._data.reshape(-1)
        self.work = dist.all_reduce(Tensor._wrap(self.flat), dist.ReduceOp.SUM, group=self.group,
                                    async_op=True)

    def finish(self, world_size):
        """Wait for the all-reduce and leave each parameter's .grad as a view of its slice of
        the averaged buffer (torch's gradient_as_bucket_view: no copy back; the next launch's
        copy in is then a copy onto itself if .grad was kept rather than set to None)."""
        self.work.wait()
        np.divide(self.flat, world_size, out=self.flat)
        for p, lo, hi in zip(self.params, self.offsets[:-1], self.offsets[1:]):
            average = self.flat[lo:hi].reshape(p._data.shape)
            if p.grad is None or p.grad._data.base is not self.flat:
                p.grad = Tensor._wrap(average)
        self.ready.clear()
        self.work = None

    def discard(self):
        if self.work is not None:
            self.work.wait()
        self.ready.clear()
        self.work = None


def _make_buckets(params, bucket_cap_bytes, group=None):
    """Reverse registration order, one dtype per bucket; a bucket closes once it holds at least
    its cap (the first one at 1 MiB or the cap if smaller, so the first all-reduce starts
    early)."""
    buckets, open_by_dtype = [], {}
    for p in reversed(params):
        key = p._data.dtype
        current = open_by_dtype.setdefault(key, [])
        current.append(p)
        cap = min(_FIRST_BUCKET_BYTES, bucket_cap_bytes) if not buckets else bucket_cap_bytes
        if sum(q._data.nbytes for q in current) >= cap:
            buckets.append(_Bucket(current, group))
            open_by_dtype[key] = []
    buckets += [_Bucket(ps, group) for ps in open_by_dtype.values() if ps]
    return buckets


class DistributedDataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False):
        super().__init__()
        if device_ids or output_device is not None:
            raise ValueError(
                f"DistributedDataParallel device_ids and output_device arguments only work "
                f"with single-device/multiple-device GPU modules or CPU modules, but got "
                f"device_ids {device_ids}, output_device {output_device}, and module "
                f"parameters {{device(type='cpu')}}.")
        self._world_size = dist.get_world_size(process_group)  # raises if not initialised
        self.module = module
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.process_group = process_group
        # the group's first rank (a global rank) holds the weights every rank starts from
        self._source = dist.get_process_group_ranks(process_group)[0] \
            if process_group is not None else 0
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        self._sync_module_states()
        cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self._buckets = _make_buckets(params, cap, process_group)
        self._bucket_of = {id(p): b for b in self._buckets for p in b.params}
        self._sync_this_pass = True
        self._queued_in = None  # the backward pass whose callback list holds our finisher
        self._handles = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in params]

    def _sync_module_states(self):
        """Every rank starts from rank 0's parameters and buffers."""
        with_values = list(self.module.parameters()) + list(self.module.buffers())
        works = [dist.broadcast(_detached(t), self._source, group=self.process_group,
                                async_op=True) for t in with_values]
        for work in works:
            work.wait()

    def forward(self, *inputs, **kwargs):
        self._sync_this_pass = self.require_backward_grad_sync
        for bucket in self._buckets:  # left over from a backward that raised part-way
            bucket.discard()
        if self.broadcast_buffers and self.training and self._world_size > 1:
            for work in [dist.broadcast(_detached(b), self._source, group=self.process_group,
                                        async_op=True) for b in self.module.buffers()]:
                work.wait()
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Inside, backward accumulates gradients locally with no communication (gradient
        accumulation); the first backward after it averages the accumulated gradients."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def _grad_ready(self, param):
        if not self._sync_this_pass or self._world_size == 1:
            return
        running = engine.running_pass()
        if self._queued_in is not running:
            engine.queue_callback(self._finish_reduction)
            self._queued_in = running
        bucket = self._bucket_of[id(param)]
        bucket.ready.add(id(param))
        if len(bucket.ready) == len(bucket.params) and bucket.work is None:
            bucket.launch()
        for b in self._buckets:  # MPI progresses non-blocking collectives only when called
            if b.work is not None:
                b.work.is_completed()

    def _finish_reduction(self):
        self._queued_in = None
        for bucket in self._buckets:  # buckets with unused parameters: zeros for those
            if bucket.work is None:
                bucket.launch()
        for bucket in self._buckets:
            bucket.finish(self._world_size)


def _detached(t):
    """A tensor on t's storage that is not part of any graph (collectives write in place)."""
    return Tensor._wrap(t._data)
