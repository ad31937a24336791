/* One mechanism for picking an instruction set, for every kernel: fnn_isa_active() (which
 * fnn_isa_force() sets, for tests and benchmarks). GEMM looks its micro-kernel up in a table
 * (gemm_config.h), softmax-cross-entropy and pooling pick their row kernels from it, and the
 * streaming loops (ReLU, optimizer updates) are compiled once per instruction set here:
 *
 *     #define FNN_VARIANTS_FILE "relu_ranges.h"   // defines FNN_TARGET static void
 *     #include "isa_variants.h"                   //   FNN_VARIANT(name)(...) { ... }
 *     FNN_ISA_CALL(name, args...);                // runs name_avx512/_avx2/_generic
 *
 * The file is included three times with FNN_VARIANT/FNN_TARGET set for AVX-512, AVX2 and the
 * baseline (the same targets gcc's target_clones made before, so the same code and bits), and
 * FNN_ISA_CALL counts the variant it ran (fnn_isa_call_count), so tests can prove the forced
 * instruction set is the one that executed. */
#include "fastnn_kernels.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define FNN_TARGET_AVX512 __attribute__((target("avx512f")))
#define FNN_TARGET_AVX2 __attribute__((target("avx2")))
#else
#define FNN_TARGET_AVX512
#define FNN_TARGET_AVX2
#endif

#define FNN_VARIANT(name) name##_avx512
#define FNN_TARGET FNN_TARGET_AVX512
#include FNN_VARIANTS_FILE
#undef FNN_VARIANT
#undef FNN_TARGET

#define FNN_VARIANT(name) name##_avx2
#define FNN_TARGET FNN_TARGET_AVX2
#include FNN_VARIANTS_FILE
#undef FNN_VARIANT
#undef FNN_TARGET

#define FNN_VARIANT(name) name##_generic
#define FNN_TARGET
#include FNN_VARIANTS_FILE
#undef FNN_VARIANT
#undef FNN_TARGET

#ifndef FNN_ISA_CALL
extern long long fnn_isa_calls[3];
#define FNN_ISA_CALL(name, ...)                                                    \
    do {                                                                           \
        const int isa_ = fnn_isa_active();                                         \
        __atomic_fetch_add(&fnn_isa_calls[isa_], 1, __ATOMIC_RELAXED);             \
        if (isa_ == FNN_ISA_AVX512)                                                \
            name##_avx512(__VA_ARGS__);                                            \
        else if (isa_ == FNN_ISA_AVX2)                                             \
            name##_avx2(__VA_ARGS__);                                              \
        else                                                                       \
            name##_generic(__VA_ARGS__);                                           \
    } while (0)
#endif
