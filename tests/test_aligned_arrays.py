"""fastnn's NumPy allocator (kernels/_aligned_alloc.pxi, issue 12): after `import fastnn` the
importing thread's arrays of 1 KiB up to 4 MiB start on a 64-byte boundary, so a kernel's vector
loads do not straddle cache lines; smaller ones keep NumPy's allocator and its cache, larger ones
its huge pages and glibc's exact-size reuse (tests/test_memory.py). Every
block must stay freeable and reallocatable whichever path made it, zeros must be zeros, and
FASTNN_ALIGNED_ARRAYS=0 or set_aligned_allocator(False) gives NumPy's allocator back."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import fastnn

_kernels = pytest.importorskip("fastnn._kernels")


def test_large_arrays_are_aligned_in_the_importing_thread():
    assert _kernels.aligned_allocator_in_use()
    for n in (256, 257, 1000, 200_704, 1_000_000):  # 1 KiB up to 4 MiB
        assert np.empty(n, np.float32).ctypes.data % 64 == 0
    # fastnn's own outputs come from the same allocator
    assert fastnn.randn(64, 64)._data.ctypes.data % 64 == 0
    assert (fastnn.ones(300, 300) @ fastnn.ones(300, 5))._data.ctypes.data % 64 == 0


def test_small_blocks_zeros_and_reallocation_keep_their_values():
    small = [np.full(n, 7, np.int8) for n in range(1, 200, 7)]
    assert all((a == 7).all() for a in small)
    assert not np.zeros(1 << 20, np.float32).any()  # calloc stays NumPy's (zero pages)
    for start, end in ((10, 5000), (5000, 10), (300, 300_000), (300_000, 3)):
        a = np.arange(start, dtype=np.float64)
        a.resize(end, refcheck=False)  # realloc across the 1 KiB boundary, both ways
        keep = min(start, end)
        np.testing.assert_array_equal(a[:keep], np.arange(keep, dtype=np.float64))
    del small, a


def test_switching_off_and_on():
    assert _kernels.set_aligned_allocator(False) is True
    try:
        assert not _kernels.aligned_allocator_in_use()
        kept = np.ones(4096, np.float32)  # made by NumPy's allocator, freed after the switch
    finally:
        assert _kernels.set_aligned_allocator(True) is False
    assert _kernels.aligned_allocator_in_use()
    assert kept.sum() == 4096
    del kept


def test_other_threads_keep_numpys_allocator():
    seen = []
    thread = threading.Thread(target=lambda: seen.append(_kernels.aligned_allocator_in_use()))
    thread.start()
    thread.join()
    assert seen == [False]


@pytest.mark.parametrize("setting,expected", [("0", "NumPy's default"),
                                              ("1", "64-byte aligned")])
def test_the_environment_switch_and_show_config(setting, expected):
    code = ("import fastnn; from fastnn import _kernels; "
            "print(fastnn.config.config()['array_alignment']); "
            "print(_kernels.aligned_allocator_in_use())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "FASTNN_ALIGNED_ARRAYS": setting}).stdout
    assert expected in out
    assert out.split()[-1] == ("False" if setting == "0" else "True")
