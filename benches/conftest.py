"""Shared set-up for the benchmarks: thread counts applied to every contender, and the
contenders that are installed. Each benchmark records what it measured in extra_info
(group, contender, threads, flops) for benches/report.py."""
import contextlib
import importlib.util
import os
import sys
import time

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))

import fastnn  # noqa: E402
from fastnn import backend  # noqa: E402

HAS_TORCH = importlib.util.find_spec("torch") is not None
THREADS = [1, 2] if (os.cpu_count() or 1) >= 2 else [1]
# fastnn's backends, then the peers: every benchmark runs each that is installed.
CONTENDERS = [f"fastnn-{name}" for name in backend.names()] + ["numpy"] + (
    ["torch"] if HAS_TORCH else [])


def set_threads(n):
    """The same thread count for fastnn, OpenBLAS (NumPy) and torch."""
    from threadpoolctl import threadpool_limits

    fastnn.set_num_threads(n)
    threadpool_limits(n)
    if HAS_TORCH:
        import torch
        torch.set_num_threads(n)


def paired_ratio(numerator, denominator, pairs=5):
    """Median over `pairs` back-to-back runs of numerator() time / denominator() time. On a VM
    whose speed drifts between seconds, a ratio of two runs taken together is steadier than a
    ratio of two medians taken minutes apart."""
    ratios = []
    for _ in range(pairs):
        start = time.perf_counter()
        numerator()
        middle = time.perf_counter()
        denominator()
        ratios.append((middle - start) / (time.perf_counter() - middle))
    return float(np.median(ratios))


def record(benchmark, group, contender, threads, flops=None, **extra):
    benchmark.group = f"{group} | {threads} thread{'s' if threads > 1 else ''}"
    benchmark.extra_info.update(group=group, contender=contender, threads=threads,
                                flops=flops, **extra)


@pytest.fixture(autouse=True)
def _idle_thread_pools(request):
    """Let the previous contender's worker threads stop spinning before timing the next.
    OpenBLAS workers busy-wait for up to ~0.1 s after a call and libgomp's for a while too;
    on a 2-core machine a spinning pool steals a core from whoever is measured next.
    fastnn's busy-core adaptation (kernels/threads.c) starts each benchmark afresh too: a
    pool still spinning, or the busy process of test_bench_busy_core.py, can leave it on one
    thread for up to 1.6 s of back-off, which would then be charged to the next benchmark."""
    time.sleep(0.3)
    from fastnn import _kernels
    _kernels.contention_reset()
    before = _kernels.contention_state()["detections"]  # (a running count)
    yield
    # Whether the adaptation fired during this benchmark (a neighbour on a shared VM can hold
    # a core for a while): report.py marks the row, so a 2-thread time near the 1-thread one
    # reads as what it is.
    detections = _kernels.contention_state()["detections"] - before
    bench = request.node.funcargs.get("benchmark")  # (its fixture is torn down by now)
    if detections and bench is not None:
        if str(bench.extra_info.get("contender", "")).startswith("fastnn"):
            bench.extra_info["busy_core_detections"] = detections


@pytest.fixture(params=THREADS, ids=lambda n: f"{n}t")
def threads(request):
    set_threads(request.param)
    yield request.param


@contextlib.contextmanager
def backend_in_use(name):
    """fastnn's backend switched to `name` for the duration."""
    previous = backend.current()
    backend.use(name)
    try:
        yield
    finally:
        backend.use(previous)


@pytest.fixture(params=CONTENDERS)
def contender(request):
    name = request.param
    if name.startswith("fastnn-"):
        with backend_in_use(name.split("-", 1)[1]):
            yield name
    else:
        yield name


@pytest.fixture(scope="session")
def rng():
    return np.random.default_rng(0)
