/* The C kernel contract of fastnn's compiled backend.
 *
 * Every function here trusts its caller: shapes, dtypes, label ranges and strides are checked
 * in Python (fastnn/backend/checks.py) before the Cython wrappers release the GIL and call in.
 * Pointers may be NULL only where a comment says so.
 */
#ifndef FASTNN_KERNELS_H
#define FASTNN_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* Instruction sets the GEMM micro-kernels are written for, best first. */
enum fnn_isa { FNN_ISA_GENERIC = 0, FNN_ISA_AVX2 = 1, FNN_ISA_AVX512 = 2 };

int fnn_isa_supported(int isa);        /* 1 if this CPU can run kernels for `isa` */
int fnn_isa_best(void);                /* the best ISA this CPU supports */
int fnn_isa_active(void);              /* the ISA GEMM currently dispatches to */
int fnn_isa_force(int isa);            /* 0 on success, -1 if the CPU lacks it */
const char *fnn_isa_name(int isa);

/* Index assertions, compiled in by FASTNN_DEBUG=1 builds (-DFNN_DEBUG): each index range a
 * kernel computes from a shape is checked against the extent it indexes before use, and a
 * violation aborts with the file and line (the Python checks should make that impossible). */
#ifdef FNN_DEBUG
#include <stdio.h>
#include <stdlib.h>
#define FNN_ASSERT_INDEX(i, n)                                                                \
    do {                                                                                      \
        if (!((ptrdiff_t)(i) >= 0 && (ptrdiff_t)(i) < (ptrdiff_t)(n))) {                      \
            fprintf(stderr, "fastnn: index %td outside [0, %td) at %s:%d\n", (ptrdiff_t)(i), \
                    (ptrdiff_t)(n), __FILE__, __LINE__);                                      \
            abort();                                                                          \
        }                                                                                     \
    } while (0)
#else
#define FNN_ASSERT_INDEX(i, n) ((void)0)
#endif
/* [lo, hi) with stride step indexes an extent of n: its first and last index are inside. */
#define FNN_ASSERT_RANGE(lo, hi, step, n)                                                     \
    do {                                                                                      \
        if ((hi) > (lo)) {                                                                    \
            FNN_ASSERT_INDEX((lo) * (step), (n));                                             \
            FNN_ASSERT_INDEX(((hi) - 1) * (step), (n));                                       \
        }                                                                                     \
    } while (0)

/* Kernels that allocate return a status: FNN_OK, or FNN_ENOMEM when an allocation failed (the
 * output is then incomplete and must not be used; the wrappers raise MemoryError). */
enum { FNN_OK = 0, FNN_ENOMEM = 1 };
void *fnn_malloc(size_t bytes);
void *fnn_calloc(size_t count, size_t size);
void *fnn_aligned_malloc(size_t alignment, size_t bytes);
void fnn_fail_next_allocations(int n); /* tests: make the next n allocations fail */

/* Calls into each kernel since load (proves in tests that compiled code ran). */
enum { FNN_K_GEMM, FNN_K_RELU_FWD, FNN_K_RELU_BWD, FNN_K_RELU_BWD_BIAS, FNN_K_SOFTMAX_XENT,
       FNN_K_SGD, FNN_K_OPTIM, FNN_K_CONV, FNN_K_POOL,
       FNN_K_BATCHNORM, FNN_K_GEMM_SMALL, FNN_K_GEMM_BF16, FNN_K_CONV_IMPLICIT,
       FNN_K_CONV_WINOGRAD, FNN_K_CONV_NARROW, FNN_K_SUM, FNN_K_CONV_PHASED, FNN_K_LSTM, FNN_K_GRU,
       FNN_K_RNG, FNN_K_CONV_BY_TAPS, FNN_K_FILL_ROWS, FNN_K_COPY, FNN_K_COUNT };
long long fnn_call_count(int kernel);
/* Streaming-loop variants (ReLU, optimizer updates) run per instruction set since load. */
long long fnn_isa_call_count(int isa);

/* C[M,N] (row stride ldc, unit column stride) = op(A) @ op(B), with
 * A element (i, k) at A[i*rsa + k*csa] and B element (k, j) at B[k*rsb + j*csb].
 * Transposes are just swapped strides; packing absorbs them.
 * accumulate: C += A@B instead of C = A@B.
 * bias (NULL or N floats) is added to every row, then relu (0/1) is applied: the epilogue of
 * a Linear(+ReLU) layer, done on each tile while it is still in L1. */
int fnn_sgemm(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
               const float *A, ptrdiff_t rsa, ptrdiff_t csa,
               const float *B, ptrdiff_t rsb, ptrdiff_t csb,
               float *C, ptrdiff_t ldc,
               const float *bias, int relu, int accumulate);

/* The same product with A and B rounded to bfloat16 (nearest even) as they are packed and
 * float32 accumulation (VDPBF16PS; kernels/gemm_bf16.c). Returns -1, touching nothing, where
 * the CPU lacks AVX512_BF16 (or AVX-512 is not the active ISA): the caller then multiplies the
 * rounded operands in float32. fnn_bf16_round writes x rounded to bfloat16, as float32. */
int fnn_sgemm_bf16(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                   const float *A, ptrdiff_t rsa, ptrdiff_t csa,
                   const float *B, ptrdiff_t rsb, ptrdiff_t csb,
                   float *C, ptrdiff_t ldc, const float *bias, int relu, int accumulate);
/* The same with A and B in bfloat16 storage (uint16): packed as they are; C float32, or (C NULL,
 * accumulate 0) C16 in bfloat16 storage, rounded to nearest even as fnn_f32_to_bf16; -1 as
 * above, and for C and C16 both given. */
int fnn_gemm_bf16_storage(ptrdiff_t M, ptrdiff_t N, ptrdiff_t K,
                          const uint16_t *A, ptrdiff_t rsa, ptrdiff_t csa,
                          const uint16_t *B, ptrdiff_t rsb, ptrdiff_t csb,
                          float *C, uint16_t *C16, ptrdiff_t ldc, const float *bias, int relu,
                          int accumulate);
int fnn_bf16_supported(void);
void fnn_bf16_round(const float *x, float *y, ptrdiff_t n);
/* float32 <-> bfloat16 storage (uint16 bit patterns): the conversions of autocast's outputs and
 * of Tensor.bfloat16()/.float(): nearest even, denormals kept, a NaN as the quiet NaN of its sign (as ml_dtypes). */
void fnn_f32_to_bf16(const float *x, uint16_t *y, ptrdiff_t n);
void fnn_bf16_to_f32(const uint16_t *x, float *y, ptrdiff_t n);

/* An LSTM layer's time loop (no projection), kernels/rnn.c. Forward: for each step t (from
 * the last when reverse), h_prev[t] = h (h0 first), gates[t] = h W_hh^T + b_hh (b_hh may be
 * NULL) + xw[t] activated as [sigmoid i | sigmoid f | tanh g | sigmoid o], cells[t] = c =
 * f c + i g (c0 first), tanh_c[t] = tanh(c), output[t] = h = o tanh(c). xw and gates are
 * (L, N, 4H), w_hh_t (H, 4H), the rest (L, N, H) or (N, H), all C-contiguous, none
 * overlapping. Backward, in the reverse order: d_gates[t] = the gradient of gates[t]'s
 * pre-activation from dh + grad_out[t] and dc; dc (N, H, in: dc_n) becomes the gradient of c0,
 * dh (N, H, out) that of h0; w_hh is (4H, H). Both return FNN_OK or FNN_ENOMEM. */
int fnn_lstm_forward(ptrdiff_t L, ptrdiff_t N, ptrdiff_t H, const float *xw, const float *w_hh_t,
                     const float *b_hh, const float *h0, const float *c0, float *gates,
                     float *cells, float *tanh_c, float *h_prev, float *output, int reverse);
int fnn_lstm_backward(ptrdiff_t L, ptrdiff_t N, ptrdiff_t H, const float *grad_out, float *dc,
                      const float *gates, const float *cells, const float *tanh_c,
                      const float *c0, const float *w_hh, float *d_gates, float *dh, int reverse);

/* A GRU layer's time loop (kernels/rnn.c), gates [r | z | n]. Forward: for each step t,
 * h_prev[t] = h (h0 first), then with g = h W_hh^T + b_hh (b_hh may be NULL): gates[t] =
 * [sigmoid(xw_r + g_r) | sigmoid(xw_z + g_z) | n = tanh(xw_n + r g_n)], hn[t] = g_n, output[t]
 * = h = (1 - z) n + z h. xw, gates (L, N, 3H); w_hh_t (H, 3H); the rest (L, N, H) or (N, H).
 * Backward, in the reverse order: d_xw[t] and d_hw[t] = the gradients of xw[t] and of
 * h W_hh^T + b_hh; dh (out) that of h0; w_hh (3H, H). FNN_OK or FNN_ENOMEM. */
int fnn_gru_forward(ptrdiff_t L, ptrdiff_t N, ptrdiff_t H, const float *xw, const float *w_hh_t,
                    const float *b_hh, const float *h0, float *gates, float *hn, float *h_prev,
                    float *output, int reverse);
int fnn_gru_backward(ptrdiff_t L, ptrdiff_t N, ptrdiff_t H, const float *grad_out,
                     const float *gates, const float *hn, const float *h_prev, const float *w_hh,
                     float *d_xw, float *d_hw, float *dh, int reverse);

/* One step of those loops' pointwise passes in float64 (kernels/rnn_f64.c), the step's GEMM left
 * to the caller: gates (N, 4H or 3H) hold h W_hh^T + b_hh on entry, xw the step's input terms;
 * the other arrays are (N, H); all C-contiguous, none overlapping. The forward passes write
 * what fnn_lstm_forward / fnn_gru_forward write for one step; the backward ones, with dh the
 * gradient from the later step (not yet including grad_out), what theirs write before the
 * GEMM: the LSTM's d_gates and dc (dc in: the later step's), the GRU's d_xw, d_hw and dh =
 * (dh + grad_out) z, to which the caller adds d_hw W_hh. */
void fnn_lstm_step_forward_f64(ptrdiff_t N, ptrdiff_t H, double *gates, const double *xw,
                               const double *c_prev, double *c, double *tanh_c, double *h);
void fnn_lstm_step_backward_f64(ptrdiff_t N, ptrdiff_t H, const double *gates,
                                const double *tanh_c, const double *c_prev,
                                const double *grad_out, const double *dh, double *dc,
                                double *d_gates);
void fnn_gru_step_forward_f64(ptrdiff_t N, ptrdiff_t H, double *gates, const double *xw,
                              const double *h_prev, double *hn, double *h);
void fnn_gru_step_backward_f64(ptrdiff_t N, ptrdiff_t H, const double *gates, const double *hn,
                               const double *h_prev, const double *grad_out, double *dh,
                               double *d_xw, double *d_hw);

/* The sum of x[0:n] in float64 (float32 lanes over blocks of 4096, reduce.c); the same bits on
 * any thread count and instruction set. */
double fnn_sum_f32(const float *x, ptrdiff_t n);
/* out[r * width + j] = values[r] for r < rows, j < width: the adjoint of a row sum (reduce.c). */
void fnn_fill_rows(const float *values, float *out, ptrdiff_t rows, ptrdiff_t width);
/* dst[0:nbytes] = src[0:nbytes], threaded by halves above 1 MiB (copy.c); no overlap. */
void fnn_copy_bytes(const void *src, void *dst, ptrdiff_t nbytes);
/* y = max(x, 0) with NaN propagated (as torch.relu). x and y may alias. */
void fnn_relu_forward(const float *x, float *y, ptrdiff_t n);
/* gx = gy where x > 0, else 0 (gradient 0 at x == 0, as PyTorch). */
void fnn_relu_backward(const float *x, const float *gy, float *gx, ptrdiff_t n);

/* Backward of a Linear+ReLU layer's epilogue, one pass over y[rows, cols] (the ReLU output):
 * gz = gy where y > 0 else 0, and bias_grad[j] = sum_i gz[i, j] unless bias_grad is NULL. */
void fnn_relu_backward_bias(const float *y, const float *gy, float *gz, float *bias_grad,
                            ptrdiff_t rows, ptrdiff_t cols);

/* Fused softmax + cross-entropy over the rows of logits x[N, C] (row stride ldx).
 * loss[i] = logsumexp(x[i]) - x[i, y[i]].
 * grad (NULL to skip, else N*C contiguous) = grad_scale * (softmax(x[i]) - onehot(y[i])).
 * Returns the number of rows whose label was outside [0, C) (their loss is NaN); the caller
 * has already rejected such labels, so this is a second line of defence, not the check. */
ptrdiff_t fnn_softmax_xent(ptrdiff_t N, ptrdiff_t C, const float *x, ptrdiff_t ldx,
                           const int64_t *y, float *loss, float *grad, float grad_scale);

/* torch.optim.SGD's update of one parameter p[n] in place from its gradient g (buf: the
 * momentum buffer, NULL without momentum; first: buf is not yet initialised). */
void fnn_sgd_step(float *p, const float *g, float *buf, ptrdiff_t n, float lr, float wd,
                  float momentum, float dampening, int nesterov, int first);

/* Adam/AdamW (vmax: amsgrad state or NULL; l2: Adam's weight decay; decay: AdamW's 1 - lr*wd),
 * Adagrad and RMSprop (ga: centered state or NULL; buf: momentum buffer or NULL) updates in
 * place, as torch.optim; see kernels/optimizers.c for the formulas. */
void fnn_adam_step(float *p, const float *g, float *m, float *v, float *vmax, ptrdiff_t n,
                   float step_size, float inv_bc2_sqrt, float b1, float b2, float eps, float l2,
                   float decay);
void fnn_adagrad_step(float *p, const float *g, float *sum, ptrdiff_t n, float clr, float wd,
                      float eps);
void fnn_rmsprop_step(float *p, const float *g, float *sq, float *ga, float *buf, ptrdiff_t n,
                      float lr, float alpha, float eps, float wd, float momentum);
void fnn_adadelta_step(float *p, const float *g, float *sq, float *acc, ptrdiff_t n, float lr,
                       float rho, float eps, float wd);
void fnn_adamax_step(float *p, const float *g, float *m, float *u, ptrdiff_t n, float clr,
                     float b1, float b2, float eps, float wd);
void fnn_nadam_step(float *p, const float *g, float *m, float *v, ptrdiff_t n, float grad_coef,
                    float avg_coef, float b1, float b2, float inv_bc2, float eps, float wd,
                    float decay);
void fnn_radam_step(float *p, const float *g, float *m, float *v, ptrdiff_t n, float step_size,
                    float rect_scale, int rectified, float b1, float b2, float eps, float wd,
                    float decay);

/* Convolution and pooling over NCHW float32 arrays; shapes in conv.h, checked in Python
 * (fastnn/ops/conv.py) before the call. gx/gw/gb may be NULL when not wanted. */
#include "conv.h"
int fnn_conv2d_forward(const float *x, const float *w, const float *bias, int relu, float *y,
                        const fnn_conv_shape *s);
/* y: the fused ReLU's output (mask for gy), or NULL for a plain convolution */
int fnn_conv2d_backward(const float *x, const float *w, const float *y, const float *gy,
                         float *gx, float *gw, float *gb, const fnn_conv_shape *s);
void fnn_maxpool2d_forward(const float *x, float *y, int64_t *idx, const fnn_conv_shape *s);
/* 2 x 2, stride 2, no padding or dilation: the argmax as a window code dy * 2 + dx (pool.c). */
void fnn_maxpool2x2_forward(const float *x, float *y, uint8_t *code, const fnn_conv_shape *s);
void fnn_maxpool2x2_backward(const float *gy, const uint8_t *code, float *gx,
                             const fnn_conv_shape *s);
void fnn_maxpool2d_backward(const float *gy, const int64_t *idx, float *gx,
                            const fnn_conv_shape *s);
void fnn_avgpool2d_forward(const float *x, float *y, const fnn_conv_shape *s,
                           int count_include_pad);
void fnn_avgpool2d_backward(const float *gy, float *gx, const fnn_conv_shape *s,
                            int count_include_pad);

/* Batch normalisation over NCHW (HW = H*W); see kernels/batchnorm.c. training: compute and
 * return the batch mean/var (biased) into mean/var; else use the given ones. */
void fnn_batchnorm_forward(const float *x, const float *gamma, const float *beta, float *y,
                           double *mean, double *var, int training, ptrdiff_t N, ptrdiff_t C,
                           ptrdiff_t HW, double eps);
void fnn_batchnorm_backward(const float *x, const float *g, const float *gamma,
                            const double *mean, const double *var, float *gx, float *ggamma,
                            float *gbeta, ptrdiff_t N, ptrdiff_t C, ptrdiff_t HW, double eps);

/* Register-only FMA loop on `threads` threads; returns the FLOPs done, or -1 if `isa` has no
 * probe here (benches/ times it to measure the machine's peak). */
double fnn_fma_probe(int isa, long long iters, int threads);

/* OpenMP thread count used by all kernels. */
void fnn_set_num_threads(int n);
int fnn_get_num_threads(void);

/* Busy-core adaptation (threads.c). Kernels size their teams with fnn_region_threads(): the
 * thread count, or 1 while another process has been seen slowing one of the threads. An
 * instrumented region fills an fnn_region (start on the caller; each thread its finish time
 * and work) and hands it to fnn_region_judge once the team has joined. */
#define FNN_REGION_MAX_THREADS 64
typedef struct {
    long long start;
    int threads;
    long long done[FNN_REGION_MAX_THREADS];
    double work[FNN_REGION_MAX_THREADS];
} fnn_region;
long long fnn_now_ns(void);
int fnn_region_threads(void);
void fnn_region_judge(const fnn_region *r, long long end);
void fnn_set_adaptive_threads(int on);
int fnn_get_adaptive_threads(void);
long long fnn_contention_detections(void);
long long fnn_serial_remaining_ns(void);
void fnn_contention_reset(void);
/* Tests: record that a team region ended at `end` (a region long after the last one is not
 * judged: its threads were waking up). */
void fnn_region_note_end(long long end);
/* Inside a region: thread t finished `work` units (ignored past FNN_REGION_MAX_THREADS). */
#define FNN_REGION_DONE(r, t, w)                                                   \
    do {                                                                           \
        if ((t) < FNN_REGION_MAX_THREADS) {                                        \
            (r)->done[t] = fnn_now_ns();                                           \
            (r)->work[t] = (w);                                                    \
        }                                                                          \
    } while (0)

#endif
