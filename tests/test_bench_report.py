"""benches/report.py renders a run: the summary table and the chart of fastnn's speed
relative to PyTorch (one row per benchmark, 1 and 2 threads), from pytest-benchmark's rows."""
import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
SPEC = importlib.util.spec_from_file_location(
    "bench_report", Path(__file__).parent.parent / "benches" / "report.py")
report = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(report)


def row(group, contender, threads, median, flops=None):
    return dict(group=group, contender=contender, threads=threads, flops=flops, median=median,
                rounds=5, paired={}, busy=0)


def test_chart_and_summary(tmp_path):
    rows = [row("matmul", "fastnn-cython", 1, 2e-3, 2e9), row("matmul", "torch", 1, 3e-3, 2e9),
            row("matmul", "fastnn-cython", 2, 1e-3, 2e9), row("matmul", "torch", 2, 2e-3, 2e9),
            row("x[5]", "fastnn-cython", 1, 2e-6), row("x[5]", "torch", 1, 1e-6),
            row("no torch row", "fastnn-cython", 1, 1e-3), row("no torch row", "numpy", 1, 2e-3)]
    path = tmp_path / "chart.png"
    report.chart(rows, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = report.summary(rows)
    assert "| matmul | 1 | 2.000 ms (1000 GFLOP/s) |" in text and "1.50x" in text
    assert "0.50x" in text  # x[5]: fastnn twice PyTorch's time


def test_chart_without_torch_rows_writes_nothing(tmp_path):
    path = tmp_path / "chart.png"
    report.chart([row("solo", "fastnn-cython", 1, 1e-3)], path)
    assert not path.exists()


def test_paired_numpy_ratio_is_a_note():
    ours = row("GEMM 1x784 @ 784x256 (x @ W^T)", "fastnn-cython", 1, 9.7e-6, 4e5)
    ours["paired"] = {"vs_numpy": 1.013}
    text = report.summary([ours, row(ours["group"], "numpy", 1, 9.5e-6, 4e5)])
    assert ("- GEMM 1x784 @ 784x256 (x @ W^T), 1 thread: fastnn's product takes 1.01x NumPy's "
            "time, from products run back to back (median of 9 pairs; goal <= 1.2).") in text


def test_paired_torch_ratio_is_a_note():
    ours = row("bfloat16 matmul 1024x1024 @ 1024x1024", "fastnn-cython", 2, 5e-3, 2e9)
    ours["paired"] = {"vs_torch": 1.034}
    text = report.summary([ours, row(ours["group"], "torch", 2, 5.1e-3, 2e9)])
    assert ("- bfloat16 matmul 1024x1024 @ 1024x1024, 2 threads: fastnn's matmul runs 1.03x as "
            "fast as torch's") in text
