"""Extension definitions only; metadata lives in pyproject.toml.

The build never uses -march: the micro-kernels carry per-function target attributes and
kernels/cpu_dispatch.c picks one at run time, so one wheel runs on any x86-64.
FASTNN_DEBUG=1 builds with Cython bounds checks and the C kernels' index assertions (-O1 -g);
FASTNN_SANITIZE=1 builds with AddressSanitizer and UndefinedBehaviorSanitizer (make sanitize).
"""
import os
import sys

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("FASTNN_DEBUG") == "1"
# AddressSanitizer + UndefinedBehaviorSanitizer build for `make sanitize` (load libasan first).
SANITIZE = os.environ.get("FASTNN_SANITIZE") == "1"

C_SOURCES = [
    "kernels/alloc.c",
    "kernels/cpu_dispatch.c",
    "kernels/threads.c",
    "kernels/fma_probe.c",
    "kernels/gemm.c",
    "kernels/gemm_small.c",
    "kernels/gemm_bf16.c",
    "kernels/reduce.c",
    "kernels/copy.c",
    "kernels/conv.c",
    "kernels/conv_implicit.c",
    "kernels/conv_winograd.c",
    "kernels/conv_phased.c",
    "kernels/pool.c",
    "kernels/batchnorm.c",
    "kernels/gemm_ukernel_avx512.c",
    "kernels/gemm_ukernel_avx2.c",
    "kernels/gemm_ukernel_generic.c",
    "kernels/relu.c",
    "kernels/rnn.c",
    "kernels/rnn_f64.c",
    "kernels/optimizers.c",
    "kernels/softmax_xent.c",
    "kernels/softmax_xent_avx512.c",
    "kernels/softmax_xent_avx2.c",
    "kernels/torch_rng.c",
]

if sys.platform == "win32":
    compile_args, link_args = ["/O2", "/openmp"], []
elif sys.platform == "darwin":
    # Apple clang has no bundled OpenMP; the kernels fall back to one thread.
    compile_args, link_args = ["-O3", "-std=c11"], []
else:
    # -fno-math-errno lets expf/logf vectorise; no -ffast-math (the softmax needs inf and NaN).
    compile_args = ["-O3", "-std=gnu11", "-fopenmp", "-fno-math-errno"]
    link_args = ["-fopenmp"]
if DEBUG:
    # FNN_DEBUG turns on the kernels' index assertions (FNN_ASSERT in fastnn_kernels.h). -O1
    # rather than -O0: the suite runs in this build in CI, and an unoptimised GEMM is 30x slower.
    compile_args = [a for a in compile_args if not a.startswith("-O")] + ["-O1", "-g",
                                                                          "-DFNN_DEBUG=1"]
if SANITIZE:
    sanitizers = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
                  "-fno-omit-frame-pointer"]
    compile_args = [a for a in compile_args if not a.startswith("-O")] + ["-O1", "-g"] + sanitizers
    link_args = link_args + sanitizers

def render_streaming_wrappers():
    """kernels/_streaming.pxi from kernels/_streaming.pxi.in and the kernels declared with a
    `stream` spec in fastnn/backend/contract.py (read as a file: the package is not built)."""
    import runpy
    from Cython import Tempita

    contract = runpy.run_path(os.path.join("fastnn", "backend", "contract.py"))
    kernels = []
    for k in contract["KERNELS"]:
        if k.stream is None:
            continue
        arrays = k.stream.arrays
        params = [f"{'const ' if kind == 'in' else ''}float[::1] {name}" for name, kind in arrays]
        params += [f"{ctype} {name}" for name, ctype in k.stream.scalars]
        pointers = [f"{name}_ptr" if kind == "opt" else f"&{name}[0]" for name, kind in arrays]
        c_params = [f"{'const ' if kind == 'in' else ''}float *{name}" for name, kind in arrays]
        c_params += ["Py_ssize_t n"] + [f"{'int' if ctype == 'bint' else ctype} {name}"
                                        for name, ctype in k.stream.scalars]
        kernels.append(Tempita.bunch(
            name=k.name, doc=k.doc, signature=", ".join(params), first=arrays[0][0],
            c_params=", ".join(c_params),
            checked=[name for name, kind in arrays[1:] if kind != "opt"],
            optional=[name for name, kind in arrays if kind == "opt"],
            c_function=k.stream.c_function,
            arrays=[Tempita.bunch(name=name, written=kind != "in", optional=kind == "opt")
                    for name, kind in arrays],
            object_signature=", ".join([name for name, _ in arrays] +
                                       [f"{ctype} {name}" for name, ctype in k.stream.scalars]),
            raw_args=", ".join([f"<{'const ' if kind == 'in' else ''}float *>{name}_data"
                                for name, kind in arrays] + ["n"] +
                               [name for name, _ in k.stream.scalars]),
            c_args=", ".join(pointers + ["n"] + [name for name, _ in k.stream.scalars])))
    template = Tempita.Template.from_filename(os.path.join("kernels", "_streaming.pxi.in"),
                                              encoding="utf-8")
    text = template.substitute(kernels=kernels)
    target = os.path.join("kernels", "_streaming.pxi")
    if not os.path.exists(target) or open(target, encoding="utf-8").read() != text:
        with open(target, "w", encoding="utf-8") as f:
            f.write(text)


render_streaming_wrappers()

extension = Extension(
    "fastnn._kernels",
    sources=["kernels/_kernels.pyx"] + C_SOURCES,
    include_dirs=["kernels", numpy.get_include()],
    depends=["kernels/fastnn_kernels.h", "kernels/gemm_config.h", "kernels/gemm_small.h", "kernels/gemm_grid.h", "kernels/gemm_small_body.h", "kernels/softmax_xent_rows.h",
             "kernels/conv.h", "kernels/conv_implicit.h", "kernels/conv_shared.h", "kernels/ukernel_12x32.h", "kernels/parallel.h", "kernels/isa_variants.h",
             "kernels/relu_ranges.h", "kernels/optimizer_ranges.h", "kernels/_streaming.pxi",
             "kernels/_aligned_alloc.pxi", "kernels/_torch_rng.pxi", "kernels/torch_rng.h",
             "fastnn/backend/contract.py"],
    extra_compile_args=compile_args,
    extra_link_args=link_args,
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION"),
                   # PyDataMem_SetHandler (the aligned allocator) is NumPy 1.22 API
                   ("NPY_TARGET_VERSION", "NPY_1_22_API_VERSION")],
)

# A checking build (debug or sanitizers) keeps its generated C and its objects apart from the
# optimised build's: both are rebuilt by timestamp only, so sharing them would mix the flags.
variant = "sanitize" if SANITIZE else "debug" if DEBUG else None

setup(
    ext_modules=cythonize(
        [extension],
        compiler_directives={
            "language_level": 3,
            "boundscheck": DEBUG,
            "wraparound": DEBUG,
            "initializedcheck": DEBUG,
            "cdivision": True,
        },
        build_dir=os.path.join("build", f"cython-{variant}") if variant else None,
    ),
    options={"build": {"build_base": os.path.join("build", variant)}} if variant else {},
)
