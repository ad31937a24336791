# Cython wrappers around the C kernels (fastnn_kernels.h), built as fastnn._kernels.
#
# These wrappers are thin on purpose: fastnn/backend/checks.py has already validated shapes,
# dtypes, contiguity and label ranges, and the typed memoryviews below re-check dtype and
# layout (a mismatch raises ValueError, never reaches C). Only then is the GIL released.
# Directives (boundscheck, wraparound, ...) are set once in setup.py.
from libc.stdint cimport int64_t, uint8_t, uint16_t
cimport numpy as cnp

cnp.import_array()


cdef inline bint _is_f32_c(cnp.ndarray a, int ndim):
    """float32, C-contiguous, aligned, `ndim` dimensions: what a raw-pointer kernel may read."""
    return (cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT32 and cnp.PyArray_NDIM(a) == ndim
            and cnp.PyArray_IS_C_CONTIGUOUS(a) and cnp.PyArray_ISALIGNED(a))

cdef extern from "conv.h" nogil:
    ctypedef struct fnn_conv_shape:
        Py_ssize_t n, c, h, w, oc, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, groups

cdef extern from "fastnn_kernels.h" nogil:
    double fnn_sum_f32(const float *x, Py_ssize_t n)
    void fnn_fill_rows(const float *values, float *out, Py_ssize_t rows, Py_ssize_t width)
    void fnn_copy_bytes(const void *src, void *dst, Py_ssize_t nbytes)
    int fnn_lstm_forward(Py_ssize_t L, Py_ssize_t N, Py_ssize_t H, const float *xw,
                         const float *w_hh_t, const float *b_hh, const float *h0, const float *c0,
                         float *gates, float *cells, float *tanh_c, float *h_prev, float *output,
                         int reverse)
    int fnn_lstm_backward(Py_ssize_t L, Py_ssize_t N, Py_ssize_t H, const float *grad_out,
                          float *dc, const float *gates, const float *cells, const float *tanh_c,
                          const float *c0, const float *w_hh, float *d_gates, float *dh,
                          int reverse)
    int fnn_gru_forward(Py_ssize_t L, Py_ssize_t N, Py_ssize_t H, const float *xw,
                        const float *w_hh_t, const float *b_hh, const float *h0, float *gates,
                        float *hn, float *h_prev, float *output, int reverse)
    int fnn_gru_backward(Py_ssize_t L, Py_ssize_t N, Py_ssize_t H, const float *grad_out,
                         const float *gates, const float *hn, const float *h_prev,
                         const float *w_hh, float *d_xw, float *d_hw, float *dh, int reverse)
    void fnn_lstm_step_forward_f64(Py_ssize_t N, Py_ssize_t H, double *gates, const double *xw,
                                   const double *c_prev, double *c, double *tanh_c, double *h)
    void fnn_lstm_step_backward_f64(Py_ssize_t N, Py_ssize_t H, const double *gates,
                                    const double *tanh_c, const double *c_prev,
                                    const double *grad_out, const double *dh, double *dc,
                                    double *d_gates)
    void fnn_gru_step_forward_f64(Py_ssize_t N, Py_ssize_t H, double *gates, const double *xw,
                                  const double *h_prev, double *hn, double *h)
    void fnn_gru_step_backward_f64(Py_ssize_t N, Py_ssize_t H, const double *gates,
                                   const double *hn, const double *h_prev,
                                   const double *grad_out, double *dh, double *d_xw,
                                   double *d_hw)
    int fnn_isa_supported(int isa)
    int fnn_isa_best()
    int fnn_isa_active()
    int fnn_isa_force(int isa)
    const char *fnn_isa_name(int isa)
    long long fnn_call_count(int kernel)
    long long fnn_isa_call_count(int isa)
    void fnn_fail_next_allocations(int n)
    int fnn_sgemm_bf16(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K,
                       const float *A, Py_ssize_t rsa, Py_ssize_t csa,
                       const float *B, Py_ssize_t rsb, Py_ssize_t csb,
                       float *C, Py_ssize_t ldc, const float *bias, int relu, int accumulate)
    int fnn_gemm_bf16_storage(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K,
                              const uint16_t *A, Py_ssize_t rsa, Py_ssize_t csa,
                              const uint16_t *B, Py_ssize_t rsb, Py_ssize_t csb,
                              float *C, uint16_t *C16, Py_ssize_t ldc, const float *bias,
                              int relu, int accumulate)
    int fnn_bf16_supported()
    void fnn_bf16_round(const float *x, float *y, Py_ssize_t n)
    void fnn_f32_to_bf16(const float *x, uint16_t *y, Py_ssize_t n)
    void fnn_bf16_to_f32(const uint16_t *x, float *y, Py_ssize_t n)
    int fnn_sgemm(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K,
                   const float *A, Py_ssize_t rsa, Py_ssize_t csa,
                   const float *B, Py_ssize_t rsb, Py_ssize_t csb,
                   float *C, Py_ssize_t ldc, const float *bias, int relu, int accumulate)
    void fnn_relu_backward_bias(const float *y, const float *gy, float *gz, float *bias_grad,
                                Py_ssize_t rows, Py_ssize_t cols)
    Py_ssize_t fnn_softmax_xent(Py_ssize_t N, Py_ssize_t C, const float *x, Py_ssize_t ldx,
                                const int64_t *y, float *loss, float *grad, float grad_scale)
    int fnn_conv2d_forward(const float *x, const float *w, const float *bias, int relu,
                            float *y, const fnn_conv_shape *s)
    int fnn_conv2d_backward(const float *x, const float *w, const float *y, const float *gy,
                             float *gx, float *gw, float *gb, const fnn_conv_shape *s)
    void fnn_maxpool2d_forward(const float *x, float *y, int64_t *idx, const fnn_conv_shape *s)
    void fnn_maxpool2d_backward(const float *gy, const int64_t *idx, float *gx,
                                const fnn_conv_shape *s)
    void fnn_maxpool2x2_forward(const float *x, float *y, uint8_t *code, const fnn_conv_shape *s)
    void fnn_maxpool2x2_backward(const float *gy, const uint8_t *code, float *gx,
                                 const fnn_conv_shape *s)
    void fnn_avgpool2d_forward(const float *x, float *y, const fnn_conv_shape *s,
                               int count_include_pad)
    void fnn_avgpool2d_backward(const float *gy, float *gx, const fnn_conv_shape *s,
                                int count_include_pad)
    void fnn_batchnorm_forward(const float *x, const float *gamma, const float *beta, float *y,
                               double *mean, double *var, int training, Py_ssize_t N,
                               Py_ssize_t C, Py_ssize_t HW, double eps)
    void fnn_batchnorm_backward(const float *x, const float *g, const float *gamma,
                                const double *mean, const double *var, float *gx, float *ggamma,
                                float *gbeta, Py_ssize_t N, Py_ssize_t C, Py_ssize_t HW,
                                double eps)
    void fnn_set_num_threads(int n)
    int fnn_get_num_threads()
    int fnn_region_threads()
    long long fnn_now_ns()
    ctypedef struct fnn_region:
        long long start
        int threads
        long long done[64]
        double work[64]
    void fnn_region_judge(const fnn_region *r, long long end)
    void fnn_set_adaptive_threads(int on)
    int fnn_get_adaptive_threads()
    long long fnn_contention_detections()
    long long fnn_serial_remaining_ns()
    void fnn_contention_reset()
    void fnn_region_note_end(long long end)
    double fnn_fma_probe(int isa, long long iters, int threads)

cdef extern from "conv_implicit.h" nogil:
    void fnn_conv_implicit_set_mode(int mode)
    int fnn_conv_implicit_mode()
    void fnn_conv_winograd_enable(int on)
    int fnn_conv_winograd_enabled()

ISA_NAMES = ("generic", "avx2", "avx512")
KERNEL_NAMES = ("gemm", "relu_forward", "relu_backward", "relu_backward_bias",
                "softmax_cross_entropy", "sgd_step", "optimizer_step", "conv2d", "pool2d", "batchnorm",
                "gemm_small", "gemm_bf16", "conv2d_implicit", "conv2d_winograd",
                "conv2d_24x16", "sum", "conv2d_phased", "lstm", "gru", "torch_rng",
                "conv2d_by_taps", "fill_rows", "copy_array")


def isa_supported(str name):
    """True if this CPU can run the micro-kernels written for `name`."""
    return bool(fnn_isa_supported(ISA_NAMES.index(name)))


def isa_best():
    return ISA_NAMES[fnn_isa_best()]


def isa_active():
    """The instruction set GEMM dispatches to now."""
    return ISA_NAMES[fnn_isa_active()]


def isa_force(str name):
    """Dispatch GEMM to `name` (for tests and benchmarks); the CPU must support it."""
    if name not in ISA_NAMES:
        raise ValueError(f"unknown instruction set {name!r}; expected one of {ISA_NAMES}")
    if fnn_isa_force(ISA_NAMES.index(name)) != 0:
        raise RuntimeError(f"this CPU does not support the {name} kernels")


CONV_IMPLICIT_MODES = ("never", "auto", "always")


def conv_implicit_mode(str mode=None):
    """Which convolution passes run as implicit GEMMs (kernels/conv_implicit.c; strided ones
    on the input's phases, kernels/conv_phased.c): "auto" (the measured rules in conv.c, the
    default), "always" (every one that can: tests) or "never" (all on im2col: side-by-side
    benchmarks). Returns the mode before the call."""
    previous = CONV_IMPLICIT_MODES[fnn_conv_implicit_mode()]
    if mode is not None:
        if mode not in CONV_IMPLICIT_MODES:
            raise ValueError(f"unknown mode {mode!r}; expected one of {CONV_IMPLICIT_MODES}")
        fnn_conv_implicit_set_mode(CONV_IMPLICIT_MODES.index(mode))
    return previous


def conv_winograd(enabled=None):
    """Whether 3x3 stride-1 forward convolutions (and input gradients) that take the implicit
    GEMM run by Winograd's F(2x2, 3x3) on AVX-512 (the default) or stay on the implicit GEMM
    (tests and side-by-side benchmarks). Returns the setting before the call."""
    previous = bool(fnn_conv_winograd_enabled())
    if enabled is not None:
        fnn_conv_winograd_enable(bool(enabled))
    return previous


def isa_call_counts():
    """How many times the ReLU, optimizer and sum loops ran in each instruction set's variant."""
    return {name: fnn_isa_call_count(i) for i, name in enumerate(ISA_NAMES)}


def fail_next_allocations(int n):
    """Make the kernels' next n heap allocations fail (tests of the MemoryError path)."""
    fnn_fail_next_allocations(n)


cdef int _raise_if_out_of_memory(int status, str kernel) except -1:
    if status != 0:
        raise MemoryError(f"fastnn: the {kernel} kernel could not allocate its working memory")
    return 0


cdef int _same_length(Py_ssize_t n, Py_ssize_t other, str what, str kernel) except -1:
    if other != n:
        raise ValueError(f"{kernel}: {what} has {other} elements, expected {n}")
    return 0


def call_counts():
    """How many times each C kernel has been entered since the extension loaded."""
    return {name: fnn_call_count(i) for i, name in enumerate(KERNEL_NAMES)}


def fma_probe(str isa, long long iterations, int threads=1):
    """Run the register-only FMA loop; returns the FLOPs it did (time it to get the peak)."""
    cdef double flops
    cdef int code = ISA_NAMES.index(isa)
    with nogil:
        flops = fnn_fma_probe(code, iterations, threads)
    if flops < 0:
        raise RuntimeError(f"no FMA probe for {isa} on this CPU")
    return flops


def set_num_threads(int n):
    fnn_set_num_threads(n)


def get_num_threads():
    return fnn_get_num_threads()


def set_adaptive_threads(bint on):
    """Whether kernels drop to one thread while another process slows one of theirs."""
    fnn_set_adaptive_threads(on)


def get_adaptive_threads():
    return bool(fnn_get_adaptive_threads())


def contention_state():
    """The busy-core adaptation (kernels/threads.c): how many times it switched to one
    thread, the seconds left before the next probe, and the team size a region gets now."""
    return {"detections": fnn_contention_detections(),
            "serial_seconds_left": fnn_serial_remaining_ns() / 1e9,
            "region_threads": fnn_region_threads()}


def contention_reset():
    fnn_contention_reset()


def judge_region(list finished_after_ns, list work, long long span_ns, long long idle_ns=0):
    """Tests: hand the busy-core check one region that started span_ns ago, idle_ns after the
    previous team region ended, whose thread t finished finished_after_ns[t] after its start
    having done work[t]."""
    cdef fnn_region r
    cdef int t
    if len(finished_after_ns) != len(work) or len(work) > 64:
        raise ValueError("one finish time and one amount of work per thread, at most 64")
    r.start = fnn_now_ns() - span_ns
    fnn_region_note_end(r.start - idle_ns)
    r.threads = len(work)
    for t in range(r.threads):
        r.done[t] = r.start + <long long>finished_after_ns[t]
        r.work[t] = work[t]
    fnn_region_judge(&r, r.start + span_ns)


def gemm(const float[:, :] a, const float[:, :] b, float[:, ::1] out,
         const float[::1] bias=None, bint relu=False, bint accumulate=False):
    """out = a @ b (+ out if accumulate) (+ bias) (then relu). Any strides for a and b."""
    cdef Py_ssize_t M = a.shape[0], K = a.shape[1], N = b.shape[1]
    cdef const float *bias_ptr = NULL
    cdef const float *a_ptr
    cdef const float *b_ptr
    cdef int status
    if b.shape[0] != K or out.shape[0] != M or out.shape[1] != N:
        raise ValueError(f"gemm: shapes {(M, K)} @ {(b.shape[0], N)} -> {tuple(out.shape)} "
                         f"do not fit")
    if bias is not None:
        _same_length(N, bias.shape[0], "bias", "gemm")
    if M == 0 or N == 0:
        return
    if K == 0:
        # No element of a or b exists to point at; the C kernel never reads them.
        a_ptr = NULL
        b_ptr = NULL
    else:
        a_ptr = &a[0, 0]
        b_ptr = &b[0, 0]
    if bias is not None:
        bias_ptr = &bias[0]
    with nogil:
        status = fnn_sgemm(M, N, K,
                           a_ptr, a.strides[0] // 4, a.strides[1] // 4,
                           b_ptr, b.strides[0] // 4, b.strides[1] // 4,
                           &out[0, 0], out.strides[0] // 4, bias_ptr, relu, accumulate)
    _raise_if_out_of_memory(status, "gemm")


def bf16_supported():
    """Whether the bfloat16 GEMM runs on VDPBF16PS here (AVX512_BF16, AVX-512 active)."""
    return bool(fnn_bf16_supported())


def sum_all(const float[::1] x, float[::1] out):
    """out[0] = the sum of x, accumulated as kernels/reduce.c describes and rounded once to
    float32."""
    _same_length(1, out.shape[0], "out", "sum_all")
    cdef double total = 0.0
    if x.shape[0]:
        with nogil:
            total = fnn_sum_f32(&x[0], x.shape[0])
    out[0] = <float>total


def fill_rows(const float[::1] values, float[:, ::1] out):
    """out[i, :] = values[i] (kernels/reduce.c)."""
    _same_length(out.shape[0], values.shape[0], "values", "fill_rows")
    cdef const float *v = &values[0] if values.shape[0] else NULL
    cdef float *o = &out[0, 0] if out.shape[0] and out.shape[1] else NULL
    with nogil:  # (an empty matrix is a call that writes nothing: the counter still sees it)
        fnn_fill_rows(v, o, out.shape[0], out.shape[1])


def copy_array(const unsigned char[::1] source, unsigned char[::1] out):
    """out[:] = source, the bytes of two C-contiguous arrays (kernels/copy.c, threaded)."""
    _same_length(out.shape[0], source.shape[0], "source bytes", "copy_array")
    if out.shape[0] == 0:
        with nogil:  # (the counter still sees the call)
            fnn_copy_bytes(NULL, NULL, 0)
        return
    with nogil:
        fnn_copy_bytes(&source[0], &out[0], out.shape[0])


def sum_all_if_valid(x, out):
    """sum_all's common call validated in C (the backend's VALIDATED entry): when x is a
    C-contiguous aligned float32 ndarray and out a writable one of one element (what the
    checker accepts), out[0] = the sum and True; else False, having written nothing.
    Acquiring sum_all's two memoryviews cost 4 of a 7 us call on a small tensor (issue 12)."""
    if type(x) is not cnp.ndarray or type(out) is not cnp.ndarray:
        return False
    cdef cnp.ndarray a = <cnp.ndarray>x
    cdef cnp.ndarray o = <cnp.ndarray>out
    if not (cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT32 and cnp.PyArray_IS_C_CONTIGUOUS(a)
            and cnp.PyArray_ISALIGNED(a) and cnp.PyArray_TYPE(o) == cnp.NPY_FLOAT32
            and cnp.PyArray_SIZE(o) == 1 and cnp.PyArray_ISWRITEABLE(o)
            and cnp.PyArray_ISALIGNED(o) and cnp.PyArray_NDIM(o) == 1):
        return False
    cdef Py_ssize_t n = cnp.PyArray_SIZE(a)
    cdef char *x_start = <char *>cnp.PyArray_DATA(a)
    cdef char *o_start = <char *>cnp.PyArray_DATA(o)
    if x_start <= o_start < x_start + 4 * n:  # out inside x: the checker refuses an overlap
        return False
    cdef const float *p = <const float *>cnp.PyArray_DATA(a)
    cdef double total = 0.0
    if n:
        with nogil:
            total = fnn_sum_f32(p, n)
    (<float *>cnp.PyArray_DATA(o))[0] = <float>total
    return True


def bf16_round(const float[::1] x, float[::1] out):
    """out = x rounded to bfloat16 (nearest even, denormals to zero as VCVTNEPS2BF16), as
    float32 values."""
    _same_length(x.shape[0], out.shape[0], "out", "bf16_round")
    if x.shape[0] == 0:
        return
    with nogil:
        fnn_bf16_round(&x[0], &out[0], x.shape[0])


def f32_to_bf16(const float[::1] x, uint16_t[::1] out):
    """out = the bfloat16 bit patterns of x rounded to nearest even (denormals kept)."""
    _same_length(x.shape[0], out.shape[0], "out", "f32_to_bf16")
    if x.shape[0] == 0:
        return
    with nogil:
        fnn_f32_to_bf16(&x[0], &out[0], x.shape[0])


def bf16_to_f32(const uint16_t[::1] x, float[::1] out):
    """out = the float32 values of bfloat16 bit patterns x (exact)."""
    _same_length(x.shape[0], out.shape[0], "out", "bf16_to_f32")
    if x.shape[0] == 0:
        return
    with nogil:
        fnn_bf16_to_f32(&x[0], &out[0], x.shape[0])


def gemm_bf16(const float[:, :] a, const float[:, :] b, float[:, ::1] out,
              const float[::1] bias=None, bint relu=False, bint accumulate=False):
    """out = bf16(a) @ bf16(b) with float32 accumulation (the epilogue as gemm's). Returns
    False, having written nothing, where the CPU has no bfloat16 dot products (the caller
    then multiplies bfloat16-rounded copies in float32)."""
    cdef Py_ssize_t M = a.shape[0], K = a.shape[1], N = b.shape[1]
    cdef const float *bias_ptr = NULL
    cdef int status
    if b.shape[0] != K or out.shape[0] != M or out.shape[1] != N:
        raise ValueError(f"gemm_bf16: shapes {(M, K)} @ {(b.shape[0], N)} -> "
                         f"{tuple(out.shape)} do not fit")
    if bias is not None:
        _same_length(N, bias.shape[0], "bias", "gemm_bf16")
        if N:
            bias_ptr = &bias[0]
    for name, s0, s1 in (("a", a.strides[0], a.strides[1]), ("b", b.strides[0], b.strides[1]),
                         ("out", out.strides[0], out.strides[1])):
        if s0 % 4 or s1 % 4:
            raise ValueError(f"gemm_bf16: {name}'s strides {(s0, s1)} are not whole "
                             "float32 elements")
    if not fnn_bf16_supported() or M == 0 or N == 0 or K == 0:
        return False
    with nogil:
        status = fnn_sgemm_bf16(M, N, K, &a[0, 0], a.strides[0] // 4, a.strides[1] // 4,
                                &b[0, 0], b.strides[0] // 4, b.strides[1] // 4,
                                &out[0, 0], out.strides[0] // 4, bias_ptr, relu, accumulate)
    _raise_if_out_of_memory(status, "gemm_bf16")
    return True


def gemm_bf16_storage(const uint16_t[:, :] a, const uint16_t[:, :] b, cnp.ndarray out,
                      const float[::1] bias=None, bint relu=False, bint accumulate=False):
    """out = a @ b for a and b in bfloat16 storage (their uint16 bit patterns), accumulated in
    float32, with gemm's epilogue; out is float32, or uint16 (bfloat16 storage, rounded to
    nearest even, not with accumulate). Either is C-contiguous by rows (any row stride).
    Returns False, having written nothing, where the CPU has no bfloat16 dot products (the
    caller widens to float32)."""
    cdef Py_ssize_t M = a.shape[0], K = a.shape[1], N = b.shape[1]
    cdef const float *bias_ptr = NULL
    cdef float *c32 = NULL
    cdef uint16_t *c16 = NULL
    cdef Py_ssize_t ldc, item
    cdef int status
    if out.ndim != 2 or b.shape[0] != K or out.shape[0] != M or out.shape[1] != N:
        raise ValueError(f"gemm_bf16_storage: shapes {(M, K)} @ {(b.shape[0], N)} -> "
                         f"{tuple((<object>out).shape)} do not fit")
    if cnp.PyArray_TYPE(out) == cnp.NPY_FLOAT32:
        item = 4
    elif cnp.PyArray_TYPE(out) == cnp.NPY_UINT16 and not accumulate:
        item = 2
    else:
        raise ValueError("gemm_bf16_storage: out must be float32, or uint16 without accumulate")
    if not cnp.PyArray_ISWRITEABLE(out):
        raise ValueError("gemm_bf16_storage: out must be writable")
    if out.strides[1] != item or out.strides[0] % item or out.strides[0] < N * item:
        raise ValueError("gemm_bf16_storage: out must have contiguous rows that do not overlap")
    ldc = out.strides[0] // item
    if bias is not None:
        _same_length(N, bias.shape[0], "bias", "gemm_bf16_storage")
        if N:
            bias_ptr = &bias[0]
    for name, s0, s1 in (("a", a.strides[0], a.strides[1]), ("b", b.strides[0], b.strides[1])):
        if s0 % 2 or s1 % 2:
            raise ValueError(f"gemm_bf16_storage: {name}'s strides {(s0, s1)} are not whole "
                             "bfloat16 elements")
    if not fnn_bf16_supported() or M == 0 or N == 0 or K == 0:
        return False
    if item == 4:
        c32 = <float *>cnp.PyArray_DATA(out)
    else:
        c16 = <uint16_t *>cnp.PyArray_DATA(out)
    with nogil:
        status = fnn_gemm_bf16_storage(M, N, K, &a[0, 0], a.strides[0] // 2, a.strides[1] // 2,
                                       &b[0, 0], b.strides[0] // 2, b.strides[1] // 2,
                                       c32, c16, ldc, bias_ptr, relu, accumulate)
    _raise_if_out_of_memory(status, "gemm_bf16_storage")
    return True


cdef inline bint _f32_matrix(object o):
    """A float32 ndarray of rank 2 whose strides are whole elements (what fnn_sgemm reads)."""
    if type(o) is not cnp.ndarray:
        return False
    cdef cnp.ndarray a = <cnp.ndarray>o
    return (cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT32 and cnp.PyArray_NDIM(a) == 2
            and cnp.PyArray_ISALIGNED(a) and cnp.PyArray_STRIDE(a, 0) % 4 == 0
            and cnp.PyArray_STRIDE(a, 1) % 4 == 0)


cdef inline void _byte_span(cnp.ndarray a, char **lo, char **hi):
    """The bytes [lo, hi) that a rank-2 array's elements occupy, for any signs of strides."""
    cdef Py_ssize_t extent
    cdef int d
    lo[0] = <char *>cnp.PyArray_DATA(a)
    hi[0] = lo[0] + cnp.PyArray_ITEMSIZE(a)
    for d in range(2):
        extent = (cnp.PyArray_DIM(a, d) - 1) * cnp.PyArray_STRIDE(a, d)
        if extent < 0:
            lo[0] += extent
        else:
            hi[0] += extent


cdef inline bint _spans_overlap(cnp.ndarray a, cnp.ndarray b):
    """Whether a's and b's byte spans intersect: a conservative np.may_share_memory (it also
    says yes for interleaved views, which then take the checked path)."""
    cdef char *alo
    cdef char *ahi
    cdef char *blo
    cdef char *bhi
    _byte_span(a, &alo, &ahi)
    _byte_span(b, &blo, &bhi)
    return alo < bhi and blo < ahi


def first_overlap(list outputs, list inputs):
    """checks.check_no_overlap for C-contiguous arrays (None skipped), in one call: the names
    (output, other) of the first output whose bytes meet an input's or a later output's, else
    None. For contiguous arrays a shared byte is a shared element, so the spans answer exactly
    what np.shares_memory does; its 35 calls were a third of a float64 LSTMCell step's checks."""
    cdef Py_ssize_t i, j, n_out = len(outputs), n_in = len(inputs), a_n, b_n
    cdef char *a_lo
    cdef char *b_lo
    cdef cnp.ndarray a, b
    for i in range(n_out):
        if outputs[i][1] is None:
            continue
        a = <cnp.ndarray?>outputs[i][1]
        if not cnp.PyArray_IS_C_CONTIGUOUS(a):
            raise ValueError(f"{outputs[i][0]} must be C-contiguous")
        for j in range(n_in + n_out - i - 1):
            other = inputs[j] if j < n_in else outputs[i + 1 + j - n_in]
            if other[1] is None:
                continue
            b = <cnp.ndarray?>other[1]
            if not cnp.PyArray_IS_C_CONTIGUOUS(b):
                raise ValueError(f"{other[0]} must be C-contiguous")
            a_lo, b_lo = <char *>cnp.PyArray_DATA(a), <char *>cnp.PyArray_DATA(b)
            a_n, b_n = cnp.PyArray_NBYTES(a), cnp.PyArray_NBYTES(b)
            if a_n and b_n and a_lo < b_lo + b_n and b_lo < a_lo + a_n:
                return outputs[i][0], other[0]
    return None


def gemm_if_valid(a, b, out, bias, bint relu, bint accumulate):
    """fnn_sgemm for the common call, validated here in C rather than by checks.check_gemm:
    a at batch 1 the Python checks and memoryviews cost more than the product itself (3.5 us
    against 7.6 us for 1x784 @ 784x256, issue 12). It accepts only what check_gemm accepts
    (tests/test_kernel_contract.py compares them) and returns out, allocated when None; for
    anything else, an empty product included, it returns None without touching anything, and
    the caller takes the checked path, which words the error."""
    if not (_f32_matrix(a) and _f32_matrix(b)):
        return None
    cdef cnp.ndarray A = <cnp.ndarray>a
    cdef cnp.ndarray B = <cnp.ndarray>b
    cdef Py_ssize_t M = cnp.PyArray_DIM(A, 0), K = cnp.PyArray_DIM(A, 1)
    cdef Py_ssize_t N = cnp.PyArray_DIM(B, 1)
    cdef cnp.npy_intp dims[2]
    cdef cnp.ndarray C, bias_array
    cdef const float *bias_ptr = NULL
    cdef int status
    if cnp.PyArray_DIM(B, 0) != K or M == 0 or N == 0 or K == 0:
        return None
    if bias is not None:
        if not (type(bias) is cnp.ndarray and _is_f32_c(<cnp.ndarray>bias, 1)
                and cnp.PyArray_DIM(<cnp.ndarray>bias, 0) == N):
            return None
        bias_array = <cnp.ndarray>bias
        bias_ptr = <const float *>cnp.PyArray_DATA(bias_array)
    if out is None:
        dims[0] = M
        dims[1] = N
        C = cnp.PyArray_EMPTY(2, dims, cnp.NPY_FLOAT32, 0)
    else:
        if not (type(out) is cnp.ndarray and _is_f32_c(<cnp.ndarray>out, 2)):
            return None
        C = <cnp.ndarray>out
        if (cnp.PyArray_DIM(C, 0) != M or cnp.PyArray_DIM(C, 1) != N
                or not cnp.PyArray_ISWRITEABLE(C) or _spans_overlap(C, A) or _spans_overlap(C, B)):
            return None
    with nogil:
        status = fnn_sgemm(M, N, K,
                           <const float *>cnp.PyArray_DATA(A), cnp.PyArray_STRIDE(A, 0) // 4,
                           cnp.PyArray_STRIDE(A, 1) // 4,
                           <const float *>cnp.PyArray_DATA(B), cnp.PyArray_STRIDE(B, 0) // 4,
                           cnp.PyArray_STRIDE(B, 1) // 4,
                           <float *>cnp.PyArray_DATA(C), N, bias_ptr, relu, accumulate)
    _raise_if_out_of_memory(status, "gemm")
    return C


def relu_backward_bias(const float[:, ::1] y, const float[:, ::1] grad_out, float[:, ::1] out,
                       float[::1] bias_grad):
    cdef float *bias_ptr = NULL
    if (grad_out.shape[0], grad_out.shape[1]) != (y.shape[0], y.shape[1]) or \
            (out.shape[0], out.shape[1]) != (y.shape[0], y.shape[1]):
        raise ValueError("relu_backward_bias: y, grad_out and out must have one shape")
    if bias_grad is not None:
        _same_length(y.shape[1], bias_grad.shape[0], "bias_grad", "relu_backward_bias")
    if y.shape[0] == 0 or y.shape[1] == 0:
        if bias_grad is not None and bias_grad.shape[0]:
            bias_grad[:] = 0
        return
    if bias_grad is not None:
        bias_ptr = &bias_grad[0]
    with nogil:
        fnn_relu_backward_bias(&y[0, 0], &grad_out[0, 0], &out[0, 0], bias_ptr,
                               y.shape[0], y.shape[1])


def relu_backward_bias_new(y, grad_out, bint want_bias):
    """(grad_out masked by y > 0, its column sums or None) into new arrays, for the common call
    validated here in C: y and grad_out float32, rank 2, C-contiguous and aligned, one shape.
    Otherwise None, touching nothing, and the caller takes the checked path (which words the
    error). At batch 1 the checks and four memoryviews were 4.4 of the 4.5 us this took."""
    if type(y) is not cnp.ndarray or type(grad_out) is not cnp.ndarray:
        return None
    cdef cnp.ndarray Y = <cnp.ndarray>y
    cdef cnp.ndarray G = <cnp.ndarray>grad_out
    if not (_is_f32_c(Y, 2) and _is_f32_c(G, 2)):
        return None
    cdef Py_ssize_t rows = cnp.PyArray_DIM(Y, 0), cols = cnp.PyArray_DIM(Y, 1)
    if cnp.PyArray_DIM(G, 0) != rows or cnp.PyArray_DIM(G, 1) != cols or rows == 0 or cols == 0:
        return None
    cdef cnp.npy_intp dims[2]
    dims[0] = rows
    dims[1] = cols
    cdef cnp.ndarray out = cnp.PyArray_EMPTY(2, dims, cnp.NPY_FLOAT32, 0)
    cdef cnp.ndarray bias_grad = None
    cdef float *bias_ptr = NULL
    if want_bias:
        bias_grad = cnp.PyArray_EMPTY(1, &dims[1], cnp.NPY_FLOAT32, 0)
        bias_ptr = <float *>cnp.PyArray_DATA(bias_grad)
    with nogil:
        fnn_relu_backward_bias(<const float *>cnp.PyArray_DATA(Y),
                               <const float *>cnp.PyArray_DATA(G),
                               <float *>cnp.PyArray_DATA(out), bias_ptr, rows, cols)
    return out, bias_grad


def softmax_cross_entropy(cnp.ndarray logits, cnp.ndarray labels, cnp.ndarray losses,
                          cnp.ndarray grad, float grad_scale):
    """Per-row losses into `losses`; (softmax - onehot) * grad_scale into `grad` unless None.

    Raw ndarray pointers rather than memoryviews: this runs once per training step on small
    arrays, where acquiring four memoryviews cost more than the kernel. The layout is still
    re-checked here, in C, before the GIL is released."""
    cdef Py_ssize_t N, C, bad
    cdef float *grad_ptr = NULL
    if not (_is_f32_c(logits, 2) and _is_f32_c(losses, 1)
            and cnp.PyArray_TYPE(labels) == cnp.NPY_INT64 and cnp.PyArray_NDIM(labels) == 1
            and cnp.PyArray_IS_C_CONTIGUOUS(labels)):
        raise ValueError("softmax_cross_entropy: expected C-contiguous float32 logits/losses "
                         "and int64 labels")
    N, C = logits.shape[0], logits.shape[1]
    if labels.shape[0] != N or losses.shape[0] != N:
        raise ValueError("softmax_cross_entropy: batch sizes differ")
    if grad is not None:
        if not (_is_f32_c(grad, 2) and grad.shape[0] == N and grad.shape[1] == C
                and cnp.PyArray_ISWRITEABLE(grad)):
            raise ValueError("softmax_cross_entropy: grad must be a writable (N, C) float32 array")
        grad_ptr = <float *>cnp.PyArray_DATA(grad)
    if N == 0:
        return 0
    cdef const float *x = <const float *>cnp.PyArray_DATA(logits)
    cdef const int64_t *y = <const int64_t *>cnp.PyArray_DATA(labels)
    cdef float *loss_ptr = <float *>cnp.PyArray_DATA(losses)
    with nogil:
        bad = fnn_softmax_xent(N, C, x, C, y, loss_ptr, grad_ptr, grad_scale)
    return bad

def labels_in_range(cnp.ndarray labels, Py_ssize_t n_classes):
    """Whether `labels` is a C-contiguous 1-D int64 array with every value in [0, n_classes):
    the range check before the softmax-cross-entropy kernel, as one C loop (NumPy's min() and
    max() cost ~3 us a training step on 256 labels, a sixth of the whole fused loss)."""
    if not (cnp.PyArray_TYPE(labels) == cnp.NPY_INT64 and cnp.PyArray_NDIM(labels) == 1
            and cnp.PyArray_IS_C_CONTIGUOUS(labels)):
        return False
    cdef const int64_t *y = <const int64_t *>cnp.PyArray_DATA(labels)
    cdef Py_ssize_t i, n = labels.shape[0]
    cdef bint ok = True
    with nogil:
        for i in range(n):
            if y[i] < 0 or y[i] >= n_classes:
                ok = False
                break
    return ok

cdef inline bint _stream_array_ok(object o, object first, bint written):
    """o is a C-contiguous aligned float32 ndarray of first's shape (and writable if written):
    what a streaming kernel's checker accepts (see _streaming.pxi.in, `_if_valid`)."""
    if type(o) is not cnp.ndarray:
        return False
    cdef cnp.ndarray a = <cnp.ndarray>o
    cdef cnp.ndarray f = <cnp.ndarray>first
    cdef int d, ndim = cnp.PyArray_NDIM(a)
    if not (cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT32 and cnp.PyArray_IS_C_CONTIGUOUS(a)
            and cnp.PyArray_ISALIGNED(a) and ndim == cnp.PyArray_NDIM(f)):
        return False
    if written and not cnp.PyArray_ISWRITEABLE(a):
        return False
    for d in range(ndim):
        if cnp.PyArray_DIM(a, d) != cnp.PyArray_DIM(f, d):
            return False
    return True


cdef inline void *_data_or_null(object o):
    return NULL if o is None else cnp.PyArray_DATA(<cnp.ndarray>o)


cdef inline float *_opt_ptr(float[::1] a):
    return NULL if a is None else &a[0]


# relu_forward, relu_backward and the optimizer updates: generated from the kernel contract
include "_streaming.pxi"
include "_aligned_alloc.pxi"
include "_torch_rng.pxi"


def sgd_steps_if_valid(list params, list grads, float lr, float weight_decay):
    """Plain SGD (no momentum), params[i] -= lr * (grads[i] + weight_decay * params[i]) for every
    pair, in one call: what sgd_step_if_valid does for each, after validating them all. False,
    having touched nothing, if any pair is not the common call. A batch-1 step of the MLP
    spent ~6 us of its 24 us update in four trips through Python (issue 12)."""
    cdef Py_ssize_t i, n, count = len(params)
    if len(grads) != count:
        return False
    for i in range(count):
        if not (_stream_array_ok(params[i], params[i], True)
                and _stream_array_ok(grads[i], params[i], False)):
            return False
    cdef float *param_data
    cdef const float *grad_data
    for i in range(count):
        n = cnp.PyArray_SIZE(<cnp.ndarray>params[i])
        if n == 0:
            continue
        param_data = <float *>cnp.PyArray_DATA(<cnp.ndarray>params[i])
        grad_data = <const float *>cnp.PyArray_DATA(<cnp.ndarray>grads[i])
        with nogil:
            fnn_sgd_step(param_data, grad_data, NULL, n, lr, weight_decay, 0.0, 0.0, 0, 0)
    return True



# --- convolution and pooling ------------------------------------------------------------------
# `shape` is the tuple (n, c, h, w, oc, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, groups) that
# fastnn/ops/conv.py computed and validated; the arrays' sizes are re-checked against it here,
# in C, before any pointer is used.

cdef fnn_conv_shape _shape(tuple t) except *:
    cdef fnn_conv_shape s
    (s.n, s.c, s.h, s.w, s.oc, s.oh, s.ow, s.kh, s.kw, s.sh, s.sw, s.ph, s.pw, s.dh, s.dw,
     s.groups) = t
    if min(t) < 0 or s.groups < 1 or s.sh < 1 or s.sw < 1 or s.dh < 1 or s.dw < 1:
        raise ValueError(f"invalid convolution/pooling shape {t}")
    return s


cdef float *_f32(cnp.ndarray a, Py_ssize_t size, str name) except? NULL:
    if a is None:
        return NULL
    if not (cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT32 and cnp.PyArray_IS_C_CONTIGUOUS(a)
            and cnp.PyArray_ISALIGNED(a) and a.size == size):
        raise ValueError(f"{name}: expected a C-contiguous float32 array of {size} elements")
    return <float *>cnp.PyArray_DATA(a)


cdef float *_f32_out(cnp.ndarray a, Py_ssize_t size, str name) except? NULL:
    """_f32 for an array the kernel writes: it must also be writable."""
    cdef float *p = _f32(a, size, name)
    if a is not None and not cnp.PyArray_ISWRITEABLE(a):
        raise ValueError(f"{name} must be writable")
    return p


def conv2d_forward(cnp.ndarray x, cnp.ndarray w, cnp.ndarray bias, cnp.ndarray y, tuple shape,
                   bint relu=False):
    cdef fnn_conv_shape s = _shape(shape)
    cdef Py_ssize_t k = (s.c // s.groups) * s.kh * s.kw
    cdef const float *xp = _f32(x, s.n * s.c * s.h * s.w, "input")
    cdef const float *wp = _f32(w, s.oc * k, "weight")
    cdef const float *bp = _f32(bias, s.oc, "bias")
    cdef float *yp = _f32_out(y, s.n * s.oc * s.oh * s.ow, "output")
    cdef int status
    if s.n == 0 or s.oc == 0 or s.oh * s.ow == 0:
        return
    with nogil:
        status = fnn_conv2d_forward(xp, wp, bp, relu, yp, &s)
    _raise_if_out_of_memory(status, "conv2d")


def conv2d_backward(cnp.ndarray x, cnp.ndarray w, cnp.ndarray gy, cnp.ndarray gx,
                    cnp.ndarray gw, cnp.ndarray gb, tuple shape, cnp.ndarray y=None):
    cdef fnn_conv_shape s = _shape(shape)
    cdef Py_ssize_t k = (s.c // s.groups) * s.kh * s.kw
    cdef const float *xp = _f32(x, s.n * s.c * s.h * s.w, "input")
    cdef const float *wp = _f32(w, s.oc * k, "weight")
    cdef const float *gyp = _f32(gy, s.n * s.oc * s.oh * s.ow, "grad_output")
    cdef float *gxp = _f32_out(gx, s.n * s.c * s.h * s.w, "grad_input")
    cdef float *gwp = _f32_out(gw, s.oc * k, "grad_weight")
    cdef float *gbp = _f32_out(gb, s.oc, "grad_bias")
    cdef const float *yp = _f32(y, s.n * s.oc * s.oh * s.ow, "relu_output")
    cdef int status
    with nogil:
        status = fnn_conv2d_backward(xp, wp, yp, gyp, gxp, gwp, gbp, &s)
    _raise_if_out_of_memory(status, "conv2d backward")


cdef void *_window_record(cnp.ndarray a, Py_ssize_t size, int npy_type, str what,
                          bint written) except? NULL:
    """A pooling's record of each window's maximum: int64 indices or uint8 window codes."""
    if not (cnp.PyArray_TYPE(a) == npy_type and cnp.PyArray_IS_C_CONTIGUOUS(a)
            and a.size == size):
        dtype = "int64" if npy_type == cnp.NPY_INT64 else "uint8"
        raise ValueError(f"{what}: expected a C-contiguous {dtype} array of {size} elements")
    if written and not cnp.PyArray_ISWRITEABLE(a):
        raise ValueError(f"{what} must be writable")
    return cnp.PyArray_DATA(a)


def maxpool2d_forward(cnp.ndarray x, cnp.ndarray y, cnp.ndarray idx, tuple shape):
    cdef fnn_conv_shape s = _shape(shape)
    cdef const float *xp = _f32(x, s.n * s.c * s.h * s.w, "input")
    cdef float *yp = _f32_out(y, s.n * s.c * s.oh * s.ow, "output")
    cdef int64_t *ip = <int64_t *>_window_record(idx, s.n * s.c * s.oh * s.ow, cnp.NPY_INT64,
                                                 "indices", True)
    with nogil:
        fnn_maxpool2d_forward(xp, yp, ip, &s)


def maxpool2d_backward(cnp.ndarray gy, cnp.ndarray idx, cnp.ndarray gx, tuple shape):
    cdef fnn_conv_shape s = _shape(shape)
    cdef const float *gyp = _f32(gy, s.n * s.c * s.oh * s.ow, "grad_output")
    cdef const int64_t *ip = <const int64_t *>_window_record(
        idx, s.n * s.c * s.oh * s.ow, cnp.NPY_INT64, "indices", False)
    cdef float *gxp = _f32_out(gx, s.n * s.c * s.h * s.w, "grad_input")
    with nogil:
        fnn_maxpool2d_backward(gyp, ip, gxp, &s)


cdef fnn_conv_shape _shape_2x2(tuple shape) except *:
    cdef fnn_conv_shape s = _shape(shape)
    if not (s.kh == 2 and s.kw == 2 and s.sh == 2 and s.sw == 2 and s.ph == 0 and s.pw == 0
            and s.dh == 1 and s.dw == 1 and 2 * s.oh <= s.h and 2 * s.ow <= s.w):
        raise ValueError(f"window codes need 2x2 windows of stride 2 without padding or "
                         f"dilation inside the input, got shape {shape}")
    return s


def maxpool2x2_forward(cnp.ndarray x, cnp.ndarray y, cnp.ndarray code, tuple shape):
    cdef fnn_conv_shape s = _shape_2x2(shape)
    cdef const float *xp = _f32(x, s.n * s.c * s.h * s.w, "input")
    cdef float *yp = _f32_out(y, s.n * s.c * s.oh * s.ow, "output")
    cdef uint8_t *cp = <uint8_t *>_window_record(code, s.n * s.c * s.oh * s.ow, cnp.NPY_UINT8,
                                                 "codes", True)
    with nogil:
        fnn_maxpool2x2_forward(xp, yp, cp, &s)


def maxpool2x2_backward(cnp.ndarray gy, cnp.ndarray code, cnp.ndarray gx, tuple shape):
    cdef fnn_conv_shape s = _shape_2x2(shape)
    cdef const float *gyp = _f32(gy, s.n * s.c * s.oh * s.ow, "grad_output")
    cdef const uint8_t *cp = <const uint8_t *>_window_record(
        code, s.n * s.c * s.oh * s.ow, cnp.NPY_UINT8, "codes", False)
    cdef float *gxp = _f32_out(gx, s.n * s.c * s.h * s.w, "grad_input")
    with nogil:
        fnn_maxpool2x2_backward(gyp, cp, gxp, &s)


def avgpool2d_forward(cnp.ndarray x, cnp.ndarray y, tuple shape, bint count_include_pad):
    cdef fnn_conv_shape s = _shape(shape)
    cdef const float *xp = _f32(x, s.n * s.c * s.h * s.w, "input")
    cdef float *yp = _f32_out(y, s.n * s.c * s.oh * s.ow, "output")
    with nogil:
        fnn_avgpool2d_forward(xp, yp, &s, count_include_pad)


def avgpool2d_backward(cnp.ndarray gy, cnp.ndarray gx, tuple shape, bint count_include_pad):
    cdef fnn_conv_shape s = _shape(shape)
    cdef const float *gyp = _f32(gy, s.n * s.c * s.oh * s.ow, "grad_output")
    cdef float *gxp = _f32_out(gx, s.n * s.c * s.h * s.w, "grad_input")
    with nogil:
        fnn_avgpool2d_backward(gyp, gxp, &s, count_include_pad)


cdef double *_f64(cnp.ndarray a, Py_ssize_t size, str name) except NULL:
    if not (cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT64 and cnp.PyArray_IS_C_CONTIGUOUS(a)
            and a.size == size):
        raise ValueError(f"{name}: expected a C-contiguous float64 array of {size} elements")
    return <double *>cnp.PyArray_DATA(a)


def batchnorm_forward(cnp.ndarray x, cnp.ndarray gamma, cnp.ndarray beta, cnp.ndarray y,
                      cnp.ndarray mean, cnp.ndarray var, bint training, double eps):
    """x, y: (N, C, ...) float32; mean/var: (C,) float64, written if training else read."""
    if x.ndim < 2:
        raise ValueError("batchnorm: input must have a channel dimension")
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], HW = x.size // max(N * C, 1)
    cdef const float *xp = _f32(x, x.size, "input")
    cdef float *yp = _f32_out(y, x.size, "output")
    cdef const float *gp = _f32(gamma, C, "weight")
    cdef const float *bp = _f32(beta, C, "bias")
    cdef double *mp = _f64(mean, C, "mean")
    cdef double *vp = _f64(var, C, "var")
    if x.size == 0:
        return
    with nogil:
        fnn_batchnorm_forward(xp, gp, bp, yp, mp, vp, training, N, C, HW, eps)


def batchnorm_backward(cnp.ndarray x, cnp.ndarray g, cnp.ndarray gamma, cnp.ndarray mean,
                       cnp.ndarray var, cnp.ndarray gx, cnp.ndarray ggamma, cnp.ndarray gbeta,
                       double eps):
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], HW = x.size // max(N * C, 1)
    cdef const float *xp = _f32(x, x.size, "input")
    cdef const float *gp = _f32(g, x.size, "grad_output")
    cdef const float *wp = _f32(gamma, C, "weight")
    cdef const double *mp = _f64(mean, C, "mean")
    cdef const double *vp = _f64(var, C, "var")
    cdef float *gxp = _f32_out(gx, x.size, "grad_input")
    cdef float *gwp = _f32_out(ggamma, C, "grad_weight")
    cdef float *gbp = _f32_out(gbeta, C, "grad_bias")
    if x.size == 0:
        return
    with nogil:
        fnn_batchnorm_backward(xp, gp, wp, mp, vp, gxp, gwp, gbp, N, C, HW, eps)


def lstm_forward(cnp.ndarray xw not None, cnp.ndarray w_hh_t not None, cnp.ndarray b_hh,
                 cnp.ndarray h0 not None, cnp.ndarray c0 not None, cnp.ndarray gates not None,
                 cnp.ndarray cells not None, cnp.ndarray tanh_c not None,
                 cnp.ndarray h_prev not None, cnp.ndarray output not None, bint reverse):
    """fnn_lstm_forward; shapes from cells (L, N, H). Sizes and layouts are re-checked here
    (checks.check_lstm_forward has worded the errors and ruled out overlaps)."""
    if cells.ndim != 3:
        raise ValueError("lstm_forward: cells must be (L, N, H)")
    cdef Py_ssize_t L = cells.shape[0], N = cells.shape[1], H = cells.shape[2]
    cdef Py_ssize_t step = N * H
    cdef const float *xp = _f32(xw, 4 * L * step, "xw")
    cdef const float *wp = _f32(w_hh_t, 4 * H * H, "w_hh_t")
    cdef const float *bp = _f32(b_hh, 4 * H, "b_hh")
    cdef const float *hp = _f32(h0, step, "h0")
    cdef const float *cp = _f32(c0, step, "c0")
    cdef float *gp = _f32_out(gates, 4 * L * step, "gates")
    cdef float *cellp = _f32_out(cells, L * step, "cells")
    cdef float *tp = _f32_out(tanh_c, L * step, "tanh_c")
    cdef float *pp = _f32_out(h_prev, L * step, "h_prev")
    cdef float *op = _f32_out(output, L * step, "output")
    cdef int status
    if L == 0 or step == 0:
        return
    with nogil:
        status = fnn_lstm_forward(L, N, H, xp, wp, bp, hp, cp, gp, cellp, tp, pp, op, reverse)
    _raise_if_out_of_memory(status, "lstm_forward")


def lstm_backward(cnp.ndarray grad_out not None, cnp.ndarray dc not None,
                  cnp.ndarray gates not None, cnp.ndarray cells not None,
                  cnp.ndarray tanh_c not None, cnp.ndarray c0 not None, cnp.ndarray w_hh not None,
                  cnp.ndarray d_gates not None, cnp.ndarray dh not None, bint reverse):
    """fnn_lstm_backward; shapes from cells (L, N, H), re-checked as in lstm_forward."""
    if cells.ndim != 3:
        raise ValueError("lstm_backward: cells must be (L, N, H)")
    cdef Py_ssize_t L = cells.shape[0], N = cells.shape[1], H = cells.shape[2]
    cdef Py_ssize_t step = N * H
    cdef const float *gop = _f32(grad_out, L * step, "grad_out")
    cdef float *dcp = _f32_out(dc, step, "dc")
    cdef const float *gp = _f32(gates, 4 * L * step, "gates")
    cdef const float *cellp = _f32(cells, L * step, "cells")
    cdef const float *tp = _f32(tanh_c, L * step, "tanh_c")
    cdef const float *cp = _f32(c0, step, "c0")
    cdef const float *wp = _f32(w_hh, 4 * H * H, "w_hh")
    cdef float *dgp = _f32_out(d_gates, 4 * L * step, "d_gates")
    cdef float *dhp = _f32_out(dh, step, "dh")
    cdef int status
    if step == 0:
        return
    if L == 0:
        dh[...] = 0
        return
    with nogil:
        status = fnn_lstm_backward(L, N, H, gop, dcp, gp, cellp, tp, cp, wp, dgp, dhp, reverse)
    _raise_if_out_of_memory(status, "lstm_backward")


cdef double *_f64_out(cnp.ndarray a, Py_ssize_t size, str name) except NULL:
    """_f64 for an array a kernel writes: also aligned and writable."""
    cdef double *p = _f64(a, size, name)
    if not (cnp.PyArray_ISALIGNED(a) and cnp.PyArray_ISWRITEABLE(a)):
        raise ValueError(f"{name} must be aligned and writable")
    return p


cdef tuple _step_sizes(cnp.ndarray cells, str kernel):
    if cells.ndim != 2:
        raise ValueError(f"{kernel}: the step's cell arrays must be (N, H)")
    return cells.shape[0], cells.shape[1]


def lstm_step_forward_f64(cnp.ndarray gates not None, cnp.ndarray xw not None,
                          cnp.ndarray c_prev not None, cnp.ndarray c not None,
                          cnp.ndarray tanh_c not None, cnp.ndarray h not None):
    """fnn_lstm_step_forward_f64 on one step's arrays: gates and xw (N, 4H), the rest (N, H);
    the caller (backend/compiled.py's float64 loop) has ruled out overlaps."""
    cdef Py_ssize_t N, H
    N, H = _step_sizes(c, "lstm_step_forward_f64")
    cdef double *gp = _f64_out(gates, 4 * N * H, "gates")
    cdef const double *xp = _f64(xw, 4 * N * H, "xw")
    cdef const double *pp = _f64(c_prev, N * H, "c_prev")
    cdef double *cp = _f64_out(c, N * H, "c")
    cdef double *tp = _f64_out(tanh_c, N * H, "tanh_c")
    cdef double *hp = _f64_out(h, N * H, "h")
    if N * H == 0:
        return
    with nogil:
        fnn_lstm_step_forward_f64(N, H, gp, xp, pp, cp, tp, hp)


def lstm_step_backward_f64(cnp.ndarray gates not None, cnp.ndarray tanh_c not None,
                           cnp.ndarray c_prev not None, cnp.ndarray grad_out not None,
                           cnp.ndarray dh not None, cnp.ndarray dc not None,
                           cnp.ndarray d_gates not None):
    """fnn_lstm_step_backward_f64: gates and d_gates (N, 4H), the rest (N, H)."""
    cdef Py_ssize_t N, H
    N, H = _step_sizes(dc, "lstm_step_backward_f64")
    cdef const double *gp = _f64(gates, 4 * N * H, "gates")
    cdef const double *tp = _f64(tanh_c, N * H, "tanh_c")
    cdef const double *pp = _f64(c_prev, N * H, "c_prev")
    cdef const double *op = _f64(grad_out, N * H, "grad_out")
    cdef const double *hp = _f64(dh, N * H, "dh")
    cdef double *cp = _f64_out(dc, N * H, "dc")
    cdef double *dp = _f64_out(d_gates, 4 * N * H, "d_gates")
    if N * H == 0:
        return
    with nogil:
        fnn_lstm_step_backward_f64(N, H, gp, tp, pp, op, hp, cp, dp)


def gru_step_forward_f64(cnp.ndarray gates not None, cnp.ndarray xw not None,
                         cnp.ndarray h_prev not None, cnp.ndarray hn not None,
                         cnp.ndarray h not None):
    """fnn_gru_step_forward_f64: gates and xw (N, 3H), the rest (N, H)."""
    cdef Py_ssize_t N, H
    N, H = _step_sizes(hn, "gru_step_forward_f64")
    cdef double *gp = _f64_out(gates, 3 * N * H, "gates")
    cdef const double *xp = _f64(xw, 3 * N * H, "xw")
    cdef const double *pp = _f64(h_prev, N * H, "h_prev")
    cdef double *np_ = _f64_out(hn, N * H, "hn")
    cdef double *hp = _f64_out(h, N * H, "h")
    if N * H == 0:
        return
    with nogil:
        fnn_gru_step_forward_f64(N, H, gp, xp, pp, np_, hp)


def gru_step_backward_f64(cnp.ndarray gates not None, cnp.ndarray hn not None,
                          cnp.ndarray h_prev not None, cnp.ndarray grad_out not None,
                          cnp.ndarray dh not None, cnp.ndarray d_xw not None,
                          cnp.ndarray d_hw not None):
    """fnn_gru_step_backward_f64: gates, d_xw and d_hw (N, 3H), the rest (N, H)."""
    cdef Py_ssize_t N, H
    N, H = _step_sizes(hn, "gru_step_backward_f64")
    cdef const double *gp = _f64(gates, 3 * N * H, "gates")
    cdef const double *np_ = _f64(hn, N * H, "hn")
    cdef const double *pp = _f64(h_prev, N * H, "h_prev")
    cdef const double *op = _f64(grad_out, N * H, "grad_out")
    cdef double *hp = _f64_out(dh, N * H, "dh")
    cdef double *xp = _f64_out(d_xw, 3 * N * H, "d_xw")
    cdef double *wp = _f64_out(d_hw, 3 * N * H, "d_hw")
    if N * H == 0:
        return
    with nogil:
        fnn_gru_step_backward_f64(N, H, gp, np_, pp, op, hp, xp, wp)


def gru_forward(cnp.ndarray xw not None, cnp.ndarray w_hh_t not None, cnp.ndarray b_hh,
                cnp.ndarray h0 not None, cnp.ndarray gates not None, cnp.ndarray hn not None,
                cnp.ndarray h_prev not None, cnp.ndarray output not None, bint reverse):
    """fnn_gru_forward; shapes from hn (L, N, H), re-checked as in lstm_forward."""
    if hn.ndim != 3:
        raise ValueError("gru_forward: hn must be (L, N, H)")
    cdef Py_ssize_t L = hn.shape[0], N = hn.shape[1], H = hn.shape[2]
    cdef Py_ssize_t step = N * H
    cdef const float *xp = _f32(xw, 3 * L * step, "xw")
    cdef const float *wp = _f32(w_hh_t, 3 * H * H, "w_hh_t")
    cdef const float *bp = _f32(b_hh, 3 * H, "b_hh")
    cdef const float *hp = _f32(h0, step, "h0")
    cdef float *gp = _f32_out(gates, 3 * L * step, "gates")
    cdef float *np_ = _f32_out(hn, L * step, "hn")
    cdef float *pp = _f32_out(h_prev, L * step, "h_prev")
    cdef float *op = _f32_out(output, L * step, "output")
    cdef int status
    if L == 0 or step == 0:
        return
    with nogil:
        status = fnn_gru_forward(L, N, H, xp, wp, bp, hp, gp, np_, pp, op, reverse)
    _raise_if_out_of_memory(status, "gru_forward")


def gru_backward(cnp.ndarray grad_out not None, cnp.ndarray gates not None,
                 cnp.ndarray hn not None, cnp.ndarray h_prev not None, cnp.ndarray w_hh not None,
                 cnp.ndarray d_xw not None, cnp.ndarray d_hw not None, cnp.ndarray dh not None,
                 bint reverse):
    """fnn_gru_backward; shapes from hn (L, N, H), re-checked as in lstm_forward."""
    if hn.ndim != 3:
        raise ValueError("gru_backward: hn must be (L, N, H)")
    cdef Py_ssize_t L = hn.shape[0], N = hn.shape[1], H = hn.shape[2]
    cdef Py_ssize_t step = N * H
    cdef const float *gop = _f32(grad_out, L * step, "grad_out")
    cdef const float *gp = _f32(gates, 3 * L * step, "gates")
    cdef const float *np_ = _f32(hn, L * step, "hn")
    cdef const float *pp = _f32(h_prev, L * step, "h_prev")
    cdef const float *wp = _f32(w_hh, 3 * H * H, "w_hh")
    cdef float *dxp = _f32_out(d_xw, 3 * L * step, "d_xw")
    cdef float *dwp = _f32_out(d_hw, 3 * L * step, "d_hw")
    cdef float *dhp = _f32_out(dh, step, "dh")
    cdef int status
    if step == 0:
        return
    if L == 0:
        dh[...] = 0
        return
    with nogil:
        status = fnn_gru_backward(L, N, H, gop, gp, np_, pp, wp, dxp, dwp, dhp, reverse)
    _raise_if_out_of_memory(status, "gru_backward")
