"""fastnn.show_config(): what this installation runs on."""
import platform
import sys

import numpy as np


def config():
    """A dict describing the backend, the dispatched instruction set, threads and versions."""
    from fastnn import __version__, backend, threads

    info = {
        "fastnn": __version__,
        "backend": backend.current(),
        "threads": threads.get_num_threads(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cpu": _cpu_name(),
    }
    try:
        from fastnn import _kernels
        info["instruction_set"] = _kernels.isa_active()
        info["instruction_sets_supported"] = [
            name for name in ("avx512", "avx2", "generic") if _kernels.isa_supported(name)]
        info["busy_core_adaptation"] = (
            "on" if _kernels.get_adaptive_threads() else "off (FASTNN_ADAPTIVE_THREADS=0)")
        # the compiled kernels' 3x3 stride-1 convolution (finite inputs; issue 12)
        info["conv2d_3x3"] = ("Winograd F(2x2,3x3)" if _kernels.isa_active() == "avx512"
                              and _kernels.conv_winograd() else "implicit GEMM")
    except ImportError:
        info["instruction_set"] = "not built"
    # what fastnn.autocast(dtype=bfloat16) runs (issue 12): the bfloat16 GEMM where the CPU has
    # bfloat16 dot products, else the float32 GEMM on rounded operands (same products)
    info["autocast_bf16_matmul"] = (
        "VDPBF16PS (AVX512_BF16)" if backend.bf16_native() else
        "fallback: float32 GEMM on bfloat16-rounded operands (no AVX512_BF16 kernel here)")
    info["autocast_bf16_conv2d"] = "float32 kernel on bfloat16-rounded operands"
    from fastnn import memory
    info["malloc"] = memory.state
    info["array_alignment"] = memory.alignment
    try:
        import numba
        info["numba"] = numba.__version__
    except ImportError:
        info["numba"] = "not installed"
    return info


def show_config():
    """Print config(), one item per line, like torch.__config__.show()."""
    for key, value in config().items():
        if isinstance(value, list):
            value = ", ".join(value)
        print(f"{key:>28}: {value}")


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
