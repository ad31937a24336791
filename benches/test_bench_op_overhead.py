"""Per-call cost of small tensor ops (issue 12: per-call overhead): x[i], x[a:b], x + y and x.sum()
on a 100-element tensor, where the Python layer, not arithmetic, is the time. fastnn's
backends share this path, so only the compiled one is timed, beside torch and NumPy."""
import numpy as np
import pytest

from conftest import record

OPS = {"x[5]": lambda x, y: x[5], "x[3:7]": lambda x, y: x[3:7], "x + y": lambda x, y: x + y,
       "x.sum()": lambda x, y: x.sum()}


@pytest.mark.parametrize("op", sorted(OPS))
def test_small_op_overhead(benchmark, threads, contender, op):
    if contender in ("fastnn-numba", "fastnn-numpy"):
        pytest.skip("the same Python path as fastnn-cython")
    x = np.arange(100, dtype=np.float32)
    y = np.ones(100, dtype=np.float32)
    if contender != "numpy":
        lib = __import__("torch" if contender == "torch" else "fastnn")
        x, y = lib.from_numpy(x), lib.from_numpy(y)
    record(benchmark, f"{op} on a 100-element tensor", contender, threads)
    fn = OPS[op]
    benchmark(fn, x, y)
