"""fastnn/memory.py: freed array memory kept for reuse. Two 10 MiB arrays made, written and
freed together each round: under glibc's defaults their pages go back to the kernel and every
round faults them in again (zeroed); with fastnn's thresholds the later rounds reuse them."""
import os
import subprocess
import sys

import pytest

import fastnn

ROUNDS = """
import resource, numpy as np
import fastnn
def one_round():
    a, b = np.empty(10 << 18, np.float32), np.empty(10 << 18, np.float32)
    a.fill(1.0)
    b.fill(2.0)
for _ in range(3):
    one_round()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    one_round()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(**env):
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    environ.update(env)
    out = subprocess.run([sys.executable, "-c", ROUNDS], env=environ, capture_output=True,
                         text=True, check=True, timeout=120)
    return int(out.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_freed_arrays_are_reused_instead_of_faulted_in_again():
    from fastnn import memory
    if not memory._glibc():
        pytest.skip("not glibc")
    untuned = _faults(FASTNN_MALLOC_TUNING="0")
    if untuned < 50:
        pytest.skip(f"this malloc keeps the pages by itself ({untuned} faults)")
    tuned = _faults()
    assert tuned < untuned / 10, (tuned, untuned)


def test_show_config_says_what_applies():
    assert "malloc" in fastnn.config.config()
    from fastnn import memory
    assert memory.state != "not applied"
    code = "import fastnn; from fastnn import memory; print(memory.state)"
    for env, want in (({"FASTNN_MALLOC_TUNING": "0"}, "FASTNN_MALLOC_TUNING=0"),
                      ({"MALLOC_TRIM_THRESHOLD_": "1000000"}, "environment")):
        environ = {k: v for k, v in os.environ.items() if k != "FASTNN_MALLOC_TUNING"}
        environ.update(env)
        out = subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True,
                             text=True, check=True, timeout=120)
        assert want in out.stdout
