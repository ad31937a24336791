"""The machine's FMA peak (a register-only probe, measured in this run) and single-thread
SGEMM at 2048^3, so GEMM can be reported as a fraction of what this CPU can do now."""
import numpy as np
import pytest

import fastnn
from fastnn import _kernels
from conftest import paired_ratio, record, set_threads

ISAS = [isa for isa in ("avx512", "avx2") if _kernels.isa_supported(isa)]
# ~0.25 s per round at 250 GFLOP/s: long enough that thread wake-up is noise.
PROBE_ITERATIONS = 5_000_000


@pytest.mark.parametrize("isa", ISAS)
def test_fma_peak(benchmark, isa, threads):
    flops = _kernels.fma_probe(isa, 1000, threads)  # FLOPs per iteration, times 1000
    flops = flops / 1000 * PROBE_ITERATIONS
    record(benchmark, f"FMA peak probe {isa}", f"probe-{isa}", threads, flops)
    benchmark.pedantic(_kernels.fma_probe, args=(isa, PROBE_ITERATIONS, threads), rounds=5,
                       warmup_rounds=1)


def test_sgemm_2048_one_thread(benchmark, rng):
    set_threads(1)
    a = fastnn.from_numpy(rng.standard_normal((2048, 2048), dtype=np.float32))
    b = fastnn.from_numpy(rng.standard_normal((2048, 2048), dtype=np.float32))
    record(benchmark, "sgemm 2048^3", "fastnn-cython", 1, 2 * 2048 ** 3)
    benchmark.pedantic(lambda: a @ b, rounds=5, warmup_rounds=1)
    # The fraction of peak from pairs of (probe, product) run back to back: probe time for the
    # product's FLOPs over the product's time.
    isa = ISAS[0]  # the widest this CPU has
    iterations = 2 * 2048 ** 3 * 1000 // _kernels.fma_probe(isa, 1000, 1)
    benchmark.extra_info["peak_fraction"] = paired_ratio(
        lambda: _kernels.fma_probe(isa, iterations, 1), lambda: a @ b)
