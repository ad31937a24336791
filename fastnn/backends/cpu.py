"""torch.backends.cpu: the instruction set the kernels dispatch to (AVX512, AVX2 or DEFAULT,
torch's spelling), from the same runtime check that picks fastnn's micro-kernels."""


def get_cpu_capability():
    from fastnn import _kernels
    return {"avx512": "AVX512", "avx2": "AVX2"}.get(_kernels.isa_active(), "DEFAULT")
