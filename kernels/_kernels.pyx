# Cython wrappers around the C kernels (fastnn_kernels.h), built as fastnn._kernels.
#
# These wrappers are thin on purpose: fastnn/backend/checks.py has already validated shapes,
# dtypes, contiguity and label ranges, and the typed memoryviews below re-check dtype and
# layout (a mismatch raises ValueError, never reaches C). Only then is the GIL released.
# Directives (boundscheck, wraparound, ...) are set once in setup.py.
from libc.stdint cimport int64_t
cimport numpy as cnp

cnp.import_array()


cdef inline bint _is_f32_c(cnp.ndarray a, int ndim):
    """float32, C-contiguous, aligned, `ndim` dimensions: what a raw-pointer kernel may read."""
    return (cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT32 and cnp.PyArray_NDIM(a) == ndim
            and cnp.PyArray_IS_C_CONTIGUOUS(a) and cnp.PyArray_ISALIGNED(a))

cdef extern from "fastnn_kernels.h" nogil:
    int fnn_isa_supported(int isa)
    int fnn_isa_best()
    int fnn_isa_active()
    int fnn_isa_force(int isa)
    const char *fnn_isa_name(int isa)
    long long fnn_call_count(int kernel)
    void fnn_sgemm(Py_ssize_t M, Py_ssize_t N, Py_ssize_t K,
                   const float *A, Py_ssize_t rsa, Py_ssize_t csa,
                   const float *B, Py_ssize_t rsb, Py_ssize_t csb,
                   float *C, Py_ssize_t ldc, const float *bias, int relu, int accumulate)
    void fnn_relu_forward(const float *x, float *y, Py_ssize_t n)
    void fnn_relu_backward(const float *x, const float *gy, float *gx, Py_ssize_t n)
    void fnn_relu_backward_bias(const float *y, const float *gy, float *gz, float *bias_grad,
                                Py_ssize_t rows, Py_ssize_t cols)
    Py_ssize_t fnn_softmax_xent(Py_ssize_t N, Py_ssize_t C, const float *x, Py_ssize_t ldx,
                                const int64_t *y, float *loss, float *grad, float grad_scale)
    void fnn_sgd_step(float *p, const float *g, float *buf, Py_ssize_t n, float lr, float wd,
                      float momentum, float dampening, int nesterov, int first)
    void fnn_adam_step(float *p, const float *g, float *m, float *v, float *vmax, Py_ssize_t n,
                       float step_size, float inv_bc2_sqrt, float b1, float b2, float eps,
                       float l2, float decay)
    void fnn_adagrad_step(float *p, const float *g, float *sum, Py_ssize_t n, float clr,
                          float wd, float eps)
    void fnn_rmsprop_step(float *p, const float *g, float *sq, float *ga, float *buf,
                          Py_ssize_t n, float lr, float alpha, float eps, float wd,
                          float momentum)
    void fnn_set_num_threads(int n)
    int fnn_get_num_threads()
    double fnn_fma_probe(int isa, long long iters, int threads)

ISA_NAMES = ("generic", "avx2", "avx512")
KERNEL_NAMES = ("gemm", "relu_forward", "relu_backward", "relu_backward_bias",
                "softmax_cross_entropy", "sgd_step", "optimizer_step")


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


def gemm(const float[:, :] a, const float[:, :] b, float[:, ::1] out,
         const float[::1] bias=None, bint relu=False, bint accumulate=False):
    """out = a @ b (+ out if accumulate) (+ bias) (then relu). Any strides for a and b."""
    cdef Py_ssize_t M = a.shape[0], K = a.shape[1], N = b.shape[1]
    cdef const float *bias_ptr = NULL
    cdef const float *a_ptr
    cdef const float *b_ptr
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
        fnn_sgemm(M, N, K,
                  a_ptr, a.strides[0] // 4, a.strides[1] // 4,
                  b_ptr, b.strides[0] // 4, b.strides[1] // 4,
                  &out[0, 0], out.strides[0] // 4, bias_ptr, relu, accumulate)


def relu_forward(const float[::1] x, float[::1] out):
    if x.shape[0] == 0:
        return
    with nogil:
        fnn_relu_forward(&x[0], &out[0], x.shape[0])


def relu_backward(const float[::1] x, const float[::1] grad_out, float[::1] out):
    if x.shape[0] == 0:
        return
    with nogil:
        fnn_relu_backward(&x[0], &grad_out[0], &out[0], x.shape[0])


def relu_backward_bias(const float[:, ::1] y, const float[:, ::1] grad_out, float[:, ::1] out,
                       float[::1] bias_grad):
    cdef float *bias_ptr = NULL
    if y.shape[0] == 0 or y.shape[1] == 0:
        if bias_grad is not None and bias_grad.shape[0]:
            bias_grad[:] = 0
        return
    if bias_grad is not None:
        bias_ptr = &bias_grad[0]
    with nogil:
        fnn_relu_backward_bias(&y[0, 0], &grad_out[0, 0], &out[0, 0], bias_ptr,
                               y.shape[0], y.shape[1])


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

def sgd_step(float[::1] param, const float[::1] grad, float[::1] buf, float lr, float wd,
             float momentum, float dampening, bint nesterov, bint first):
    cdef float *buf_ptr = NULL
    if param.shape[0] == 0:
        return
    if buf is not None:
        buf_ptr = &buf[0]
    with nogil:
        fnn_sgd_step(&param[0], &grad[0], buf_ptr, param.shape[0], lr, wd, momentum, dampening,
                     nesterov, first)


cdef inline float *_opt_ptr(float[::1] a):
    return NULL if a is None else &a[0]


def adam_step(float[::1] param, const float[::1] grad, float[::1] exp_avg, float[::1] exp_avg_sq,
              float[::1] max_exp_avg_sq, float step_size, float inv_bc2_sqrt, float beta1,
              float beta2, float eps, float l2, float decay):
    if param.shape[0] == 0:
        return
    cdef float *vmax = _opt_ptr(max_exp_avg_sq)
    with nogil:
        fnn_adam_step(&param[0], &grad[0], &exp_avg[0], &exp_avg_sq[0], vmax, param.shape[0],
                      step_size, inv_bc2_sqrt, beta1, beta2, eps, l2, decay)


def adagrad_step(float[::1] param, const float[::1] grad, float[::1] state_sum, float clr,
                 float weight_decay, float eps):
    if param.shape[0] == 0:
        return
    with nogil:
        fnn_adagrad_step(&param[0], &grad[0], &state_sum[0], param.shape[0], clr, weight_decay,
                         eps)


def rmsprop_step(float[::1] param, const float[::1] grad, float[::1] square_avg,
                 float[::1] grad_avg, float[::1] momentum_buffer, float lr, float alpha,
                 float eps, float weight_decay, float momentum):
    if param.shape[0] == 0:
        return
    cdef float *ga = _opt_ptr(grad_avg)
    cdef float *buf = _opt_ptr(momentum_buffer)
    with nogil:
        fnn_rmsprop_step(&param[0], &grad[0], &square_avg[0], ga, buf, param.shape[0], lr, alpha,
                         eps, weight_decay, momentum)
