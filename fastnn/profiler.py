"""torch.profiler (and torch.autograd.profiler's profile): where the time of a run goes, per op.

While a profile is active, every op (Function.apply) and every backward node the engine runs
is timed, as are record_function ranges; key_averages() groups the events by name (and input
shapes) and .table() prints torch's table: self and total CPU time, their shares, the average
and the call count. export_chrome_trace writes the events in the Chrome trace format that
chrome://tracing, Perfetto and TensorBoard's profiler plugin read.

Ops are named fastnn::<Op> (torch's are aten::<op>); backward nodes are named as torch's,
"autograd::engine::evaluate_function: MulBackward0". Recording works by swapping the timed
versions of Function.apply and the engine's node runner in while a profile is active, so an
unprofiled run pays nothing for the feature.
"""
import enum
import json
import os
import socket
import threading
import time
from collections import OrderedDict

_lock = threading.Lock()
_active = []  # the profiles recording now (nesting is allowed, as torch's)
_local = threading.local()  # this thread's stack of open events
_saved = {}  # the original Function.apply and engine._run while patched


class ProfilerActivity(enum.Enum):
    CPU = 0
    CUDA = 1
    XPU = 2
    MTIA = 3
    PrivateUse1 = 4


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """torch.profiler.schedule: which action each step() number falls in."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError("Invalid profiler schedule arguments")
    cycle = wait + warmup + active

    def action(step):
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        phase = step % cycle
        if phase < wait:
            return ProfilerAction.NONE
        if phase < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if phase < cycle - 1 else ProfilerAction.RECORD_AND_SAVE
    return action


class _Event:
    __slots__ = ("name", "start", "end", "children", "shapes", "thread")

    def __init__(self, name, shapes):
        self.name, self.shapes, self.children = name, shapes, 0
        self.thread = threading.get_ident()
        self.start = time.perf_counter_ns()
        self.end = None


def _stack():
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


def _open(name, shapes=()):
    event = _Event(name, shapes)
    _stack().append(event)
    return event


def _close(event):
    event.end = time.perf_counter_ns()
    stack = _stack()
    if stack and stack[-1] is event:
        stack.pop()
    if stack:
        stack[-1].children += event.end - event.start
    with _lock:
        for prof in _active:
            if prof._recording:
                prof._events.append(event)


def _shapes_of(args):
    from fastnn.tensor import Tensor
    return [list(a.shape) if isinstance(a, Tensor) else [] for a in args]


def _patch():
    from fastnn.autograd import engine
    from fastnn.autograd.function import Function, _extras
    original_apply = Function.__dict__["apply"].__func__
    original_run = engine._run
    _saved.update(apply=Function.__dict__["apply"], run=original_run)

    def apply(cls, *args, **kwargs):
        shapes = _shapes_of(args) if any(p.record_shapes for p in _active) else ()
        event = _open(f"fastnn::{cls.__name__}", shapes)
        try:
            return original_apply(cls, *args, **kwargs)
        finally:
            _close(event)

    def run(entry, g, mask):
        event = _open(f"autograd::engine::evaluate_function: {entry.name()}")
        try:
            return original_run(entry, g, mask)
        finally:
            _close(event)
    Function.apply = classmethod(apply)
    engine._run = run
    _extras.profiling = True  # the ops' shortcuts around apply are off (records_nothing)
    _extras.update()


def _unpatch():
    from fastnn.autograd import engine
    from fastnn.autograd.function import Function, _extras
    Function.apply = _saved.pop("apply")
    engine._run = _saved.pop("run")
    _extras.profiling = False
    _extras.update()


def _format_time(us):
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


class FunctionEventAvg:
    """One row of key_averages(): the events of one name (and shapes) summed."""

    def __init__(self, key, input_shapes):
        self.key, self.input_shapes = key, input_shapes
        self.count = 0
        self.cpu_time_total = 0.0  # microseconds, as torch's
        self.self_cpu_time_total = 0.0

    def add(self, event):
        self.count += 1
        total = (event.end - event.start) / 1e3
        self.cpu_time_total += total
        self.self_cpu_time_total += total - event.children / 1e3
        return self

    @property
    def cpu_time(self):
        return self.cpu_time_total / max(self.count, 1)

    @property
    def cpu_time_str(self):
        return _format_time(self.cpu_time)

    @property
    def cpu_time_total_str(self):
        return _format_time(self.cpu_time_total)

    @property
    def self_cpu_time_total_str(self):
        return _format_time(self.self_cpu_time_total)

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} "
                f"cpu_time={self.cpu_time_str} input_shapes={self.input_shapes}>")


class EventList(list):
    """key_averages()'s rows, printable as torch's table."""

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False):
        rows = list(self)
        if sort_by is not None:
            key = {"cpu_time_total": "cpu_time_total", "self_cpu_time_total":
                   "self_cpu_time_total", "cpu_time": "cpu_time", "count": "count"}.get(sort_by)
            if key is None:
                raise AttributeError(f"'FunctionEventAvg' object has no attribute '{sort_by}'")
            rows.sort(key=lambda r: getattr(r, key), reverse=True)
        if row_limit is not None and row_limit > 0:
            rows = rows[:row_limit]
        total_self = sum(r.self_cpu_time_total for r in self) or 1.0
        name_width = min(max([len(r.key) for r in rows] + [4]) + 4, max_name_column_width)
        with_shapes = any(r.input_shapes is not None for r in rows)
        widths = [name_width] + [12] * 6
        headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total",
                   "CPU time avg", "# of Calls"]
        if with_shapes:
            shapes_width = min(max(len(str(r.input_shapes)) for r in rows) + 4,
                               max_shapes_column_width)
            widths.append(shapes_width)
            headers.append("Input Shapes")
        line = "  ".join("-" * w for w in widths) + "  "

        def row(values):
            return "  ".join(str(v).rjust(w) for v, w in zip(values, widths)) + "  "
        out = [line, row(headers), line]
        for r in rows:
            name = r.key if len(r.key) <= name_width else r.key[:name_width - 3] + "..."
            values = [name, f"{r.self_cpu_time_total / total_self * 100:.2f}%",
                      r.self_cpu_time_total_str, f"{r.cpu_time_total / total_self * 100:.2f}%",
                      r.cpu_time_total_str, r.cpu_time_str, r.count]
            if with_shapes:
                values.append(str(r.input_shapes)[:widths[-1]])
            out.append(row(values))
        out.append(line)
        out.append(f"Self CPU time total: {_format_time(sum(r.self_cpu_time_total for r in self))}")
        return ("" if header is None else header + "\n") + "\n".join(out) + "\n"

    def __str__(self):
        return self.table()

    @property
    def self_cpu_time_total(self):
        return sum(r.self_cpu_time_total for r in self)


class profile:
    """torch.profiler.profile / torch.autograd.profiler.profile: a context manager that records
    the ops run inside it. With a schedule, step() moves it through wait/warmup/active phases
    and on_trace_ready(prof) is called at the end of each active one."""

    def __init__(self, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False,
                 use_cuda=None, enabled=True, use_device=None, use_cpu=True, use_kineto=True,
                 custom_trace_id_callback=None, **kwargs):
        self.enabled = enabled
        self.record_shapes = record_shapes
        self.schedule = schedule
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self._events = []
        self._recording = schedule is None
        self._started = None

    # --- recording ------------------------------------------------------------------------
    def start(self):
        if not self.enabled:
            return
        with _lock:
            if not _active:
                _patch()
            _active.append(self)
        self._started = time.time()
        if self.schedule is not None:
            self._apply_action(self.schedule(self.step_num))

    def stop(self):
        if not self.enabled or self not in _active:
            return
        with _lock:
            _active.remove(self)
            if not _active:
                _unpatch()
        if self.schedule is not None and self._recording and self.on_trace_ready:
            self.on_trace_ready(self)
        elif self.schedule is None and self.on_trace_ready:
            self.on_trace_ready(self)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _apply_action(self, action):
        recording = action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)
        if recording and not self._recording:
            self._events = []  # a new active phase starts a new trace
        self._recording = recording
        self._action = action

    def step(self):
        """The end of one training step: moves a scheduled profile to its next phase."""
        if self.schedule is None:
            self.step_num += 1
            return
        finished = getattr(self, "_action", None) is ProfilerAction.RECORD_AND_SAVE
        self.step_num += 1
        if finished and self.on_trace_ready:
            self.on_trace_ready(self)
        self._apply_action(self.schedule(self.step_num))

    # --- results --------------------------------------------------------------------------
    def events(self):
        return list(self._events)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        groups = OrderedDict()
        for event in self._events:
            shapes = event.shapes if group_by_input_shape else None
            key = (event.name, str(shapes))
            if key not in groups:
                groups[key] = FunctionEventAvg(event.name, shapes if group_by_input_shape
                                               else None)
            groups[key].add(event)
        return EventList(groups.values())

    def table(self, *args, **kwargs):
        return self.key_averages().table(*args, **kwargs)

    def export_chrome_trace(self, path):
        """The events as a Chrome trace (complete events, microsecond timestamps)."""
        base = min((e.start for e in self._events), default=0)
        trace = {"traceEvents": [
            {"name": e.name, "ph": "X", "cat": "cpu_op", "ts": (e.start - base) / 1e3,
             "dur": (e.end - e.start) / 1e3, "pid": os.getpid(), "tid": e.thread,
             "args": {"Input Dims": e.shapes} if e.shapes else {}}
            for e in self._events]}
        with open(path, "w") as f:
            json.dump(trace, f)
        return path


class record_function:
    """A named range in the profile (its ops are its children); a context manager and a
    decorator, as torch's."""

    def __init__(self, name, args=None):
        self.name, self.args = name, args
        self._event = None

    def __enter__(self):
        if _active:
            self._event = _open(self.name)
        return self

    def __exit__(self, *exc):
        if self._event is not None:
            _close(self._event)
            self._event = None
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with record_function(self.name):
                return fn(*args, **kwargs)
        return wrapped


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """on_trace_ready handler that writes each trace into dir_name as
    <worker>.<time>.pt.trace.json, where TensorBoard's profiler plugin looks."""
    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        name = f"{worker}.{time.time_ns() // 1_000_000}.pt.trace.json"
        prof.export_chrome_trace(os.path.join(dir_name, name))
    return handler
