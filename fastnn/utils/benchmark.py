"""torch.utils.benchmark: Timer, Measurement and Compare, as the tutorials time code with them
(the "Jacobians, Hessians" tutorial's jacrev-against-loop comparison, the PyTorch Benchmark
recipe). Statements run in fastnn's thread setting num_threads (set for the measurement and
restored after), timed with time.perf_counter through the standard library's timeit.
"""
import statistics
import timeit as _timeit

__all__ = ["Compare", "Measurement", "Timer"]


def _unit(seconds):
    for scale, name in ((1e-9, "ns"), (1e-6, "us"), (1e-3, "ms")):
        if seconds < scale * 1000:
            return scale, name
    return 1.0, "s"


def _format(seconds):
    scale, name = _unit(seconds)
    return f"{seconds / scale:.2f} {name}"


class Measurement:
    """The result of a Timer: per-run times of each measured block (`times`, in seconds), and
    the block size (`number_per_run`)."""

    def __init__(self, number_per_run, raw_times, task_spec):
        self.number_per_run = number_per_run
        self.raw_times = list(raw_times)
        self.task_spec = task_spec

    @property
    def times(self):
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def median(self):
        return statistics.median(self.times)

    @property
    def mean(self):
        return statistics.mean(self.times)

    @property
    def iqr(self):
        if len(self.times) < 2:
            return 0.0
        q = statistics.quantiles(self.times, n=4, method="inclusive")
        return q[2] - q[0]

    @property
    def stmt(self):
        return self.task_spec["stmt"]

    @property
    def label(self):
        return self.task_spec["label"]

    @property
    def sub_label(self):
        return self.task_spec["sub_label"]

    @property
    def description(self):
        return self.task_spec["description"]

    @property
    def num_threads(self):
        return self.task_spec["num_threads"]

    def __repr__(self):
        threads = self.num_threads
        thread_text = f"{threads} thread" + ("s" if threads != 1 else "")
        lines = [f"<{type(self).__module__}.{type(self).__name__} object at {hex(id(self))}>"]
        if self.label:
            lines.append(self.label + (f": {self.sub_label}" if self.sub_label else ""))
        lines.append(self.description or self.stmt)
        if len(self.times) == 1:
            lines.append(f"  {_format(self.median)}")
            lines.append(f"  1 measurement, {self.number_per_run} runs , {thread_text}")
        else:
            q = statistics.quantiles(self.times, n=4, method="inclusive")
            scale, name = _unit(self.median)
            lines.append(f"  Median: {self.median / scale:.2f} {name}")
            lines.append(f"  IQR:    {self.iqr / scale:.2f} {name} ({q[0] / scale:.2f} to "
                         f"{q[2] / scale:.2f})")
            lines.append(f"  {len(self.times)} measurements, {self.number_per_run} runs per "
                         f"measurement, {thread_text}")
        return "\n".join(lines)


class Timer:
    """Timer(stmt, setup, globals=...): timeit(number) runs stmt `number` times as one block;
    blocked_autorange(min_run_time) picks a block size and measures blocks until
    min_run_time seconds have passed."""

    def __init__(self, stmt="pass", setup="pass", global_setup="", timer=None, globals=None,
                 label=None, sub_label=None, description=None, env=None, num_threads=1,
                 language="python"):
        if language not in ("python", "py"):
            raise ValueError("fastnn's Timer runs Python statements only")
        import time
        self._timer = _timeit.Timer(stmt=stmt, setup=setup, timer=timer or time.perf_counter,
                                    globals=dict(globals or {}))
        self._spec = {"stmt": stmt, "label": label, "sub_label": sub_label,
                      "description": description, "num_threads": int(num_threads), "env": env}

    def _run(self, number):
        import fastnn
        before = fastnn.get_num_threads()
        fastnn.set_num_threads(self._spec["num_threads"])
        try:
            return self._timer.timeit(number)
        finally:
            fastnn.set_num_threads(before)

    def timeit(self, number=1000000):
        self._run(max(1, number // 100) if number > 100 else 1)  # warm up
        return Measurement(number, [self._run(number)], self._spec)

    def repeat(self, repeat=-1, number=-1):
        raise NotImplementedError("See `Timer.blocked_autorange.`")  # as torch's

    def _block_size(self, min_run_time):
        number = 1
        while True:
            took = self._run(number)
            if took >= max(min_run_time / 100, 1e-3) or took > min_run_time:
                return number
            number *= 10

    def blocked_autorange(self, callback=None, min_run_time=0.2):
        number = self._block_size(min_run_time)
        times, total = [], 0.0
        while total < min_run_time or len(times) < 2:
            took = self._run(number)
            times.append(took)
            total += took
            if callback is not None:
                callback(number, took)
        return Measurement(number, times, self._spec)

    def adaptive_autorange(self, threshold=0.1, *, min_run_time=0.01, max_run_time=10.0,
                           callback=None):
        """Blocks until the IQR is within `threshold` of the median (or max_run_time)."""
        number = self._block_size(min_run_time)
        times, total = [], 0.0
        while total < max_run_time:
            took = self._run(number)
            times.append(took)
            total += took
            if len(times) >= 3 and total >= min_run_time:
                m = Measurement(number, times, self._spec)
                if m.iqr <= threshold * m.median:
                    break
        return Measurement(number, times, self._spec)


class Compare:
    """A table of measurements: one per label, rows by sub_label (and thread count), columns
    by description, in the unit of the fastest median."""

    def __init__(self, results):
        self._results = list(results)

    def __str__(self):
        by_label = {}
        for m in self._results:
            by_label.setdefault(m.label or "", []).append(m)
        blocks = []
        scale, name = _unit(min(m.median for m in self._results)) if self._results else (1, "s")
        for label, group in by_label.items():
            columns = list(dict.fromkeys(m.description or "" for m in group))
            rows = list(dict.fromkeys((m.num_threads, m.sub_label or m.stmt) for m in group))
            cells = {(m.num_threads, m.sub_label or m.stmt, m.description or ""): m.median
                     for m in group}
            width = max([len(r[1]) for r in rows] + [10])
            header = " " * width + "  |  " + "  |  ".join(f"{c:>8}" for c in columns)
            lines = [f"[{label:-^{len(header)}}]", header]
            threads = None
            for t, row in rows:
                if t != threads:
                    threads = t
                    lines.append(f"{t} threads: " + "-" * (len(header) - len(f"{t} threads: ")))
                values = [cells.get((t, row, c)) for c in columns]
                lines.append(f"{row:>{width}}  |  " + "  |  ".join(
                    f"{v / scale:8.1f}" if v is not None else " " * 8 for v in values))
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks) + f"\n\nTimes are in {_UNIT_NAMES[name]} ({name}).\n"

    def print(self):
        print(str(self))


_UNIT_NAMES = {"ns": "nanoseconds", "us": "microseconds", "ms": "milliseconds", "s": "seconds"}
