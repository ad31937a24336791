/* Runtime CPU dispatch. The extension is built without -march flags so it loads on any x86-64;
 * the micro-kernels carry per-function target attributes, and this file picks the best one
 * the running CPU supports (gcc's __builtin_cpu_supports reads CPUID and XCR0, so an OS that
 * has not enabled the AVX-512 register state is treated as lacking it). */
#include "fastnn_kernels.h"
#include <stdlib.h>
#include <string.h>

static int active_isa = -1;
long long fnn_call_counts[FNN_K_COUNT];
long long fnn_isa_calls[3]; /* streaming-loop variants run, per instruction set (isa_variants.h) */

int fnn_isa_supported(int isa)
{
    switch (isa) {
    case FNN_ISA_GENERIC:
        return 1;
#if defined(__x86_64__) || defined(__i386__)
    case FNN_ISA_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case FNN_ISA_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#endif
    default:
        return 0;
    }
}

int fnn_isa_best(void)
{
    if (fnn_isa_supported(FNN_ISA_AVX512)) return FNN_ISA_AVX512;
    if (fnn_isa_supported(FNN_ISA_AVX2)) return FNN_ISA_AVX2;
    return FNN_ISA_GENERIC;
}

int fnn_isa_active(void)
{
    if (active_isa < 0) active_isa = fnn_isa_best();
    return active_isa;
}

int fnn_isa_force(int isa)
{
    if (!fnn_isa_supported(isa)) return -1;
    active_isa = isa;
    return 0;
}

const char *fnn_isa_name(int isa)
{
    switch (isa) {
    case FNN_ISA_AVX512: return "avx512";
    case FNN_ISA_AVX2: return "avx2";
    case FNN_ISA_GENERIC: return "generic";
    default: return "unknown";
    }
}

long long fnn_call_count(int kernel)
{
    if (kernel < 0 || kernel >= FNN_K_COUNT) return -1;
    return fnn_call_counts[kernel];
}

long long fnn_isa_call_count(int isa)
{
    if (isa < 0 || isa > FNN_ISA_AVX512) return -1;
    return __atomic_load_n(&fnn_isa_calls[isa], __ATOMIC_RELAXED);
}
