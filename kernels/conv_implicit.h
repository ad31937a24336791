/* Stride-1 convolution as an implicit GEMM (conv_implicit.c), called by conv.c. */
#ifndef FASTNN_CONV_IMPLICIT_H
#define FASTNN_CONV_IMPLICIT_H
#include <stddef.h>

#include "conv.h"

/* A stride-1 convolution, NCHW: c and oc are channels per group. phases_of, when set (by
 * conv_phased.c; unpadded, and not a Winograd shape), says that x is the input of that strided
 * convolution, split into this one's phase planes image by image as they are read. */
typedef struct {
    ptrdiff_t n, groups, c, h, w, oc, oh, ow, kh, kw, ph, pw, dh, dw;
    const fnn_conv_shape *phases_of;
} fnn_iconv;

/* y = conv(x) (+ bias, then ReLU if relu); where mask is given (x's shape), x is read as 0
 * wherever mask <= 0. */
int fnn_conv2d_implicit_forward(const float *x, const float *mask, const float *w,
                                const float *bias, int relu, float *y, const fnn_iconv *s);
/* gx from gy (masked by the ReLU output y when given); needs stride 1 and ph <= dh (kh - 1),
 * pw <= dw (kw - 1). */
int fnn_conv2d_implicit_input_grad(const float *gy, const float *y, const float *w, float *gx,
                                   const fnn_iconv *s);
/* gw and/or gb (either may be NULL); needs stride 1. */
int fnn_conv2d_implicit_weight_grad(const float *x, const float *gy, const float *y, float *gw,
                                    float *gb, const fnn_iconv *s);

/* The same forward by Winograd's F(2x2, 3x3) (conv_winograd.c): 3x3 filters, stride and
 * dilation 1, on AVX-512; fnn_conv2d_implicit_forward takes it where it suits. */
int fnn_conv2d_winograd_suits(const fnn_iconv *s);
int fnn_conv2d_winograd_forward(const float *x, const float *mask, const float *w,
                                const float *bias, int relu, float *y, const fnn_iconv *s);
/* gw (required) and gb (may be NULL) by the same transforms, where
 * fnn_conv2d_winograd_weight_grad_suits; fnn_conv2d_implicit_weight_grad takes it there. */
int fnn_conv2d_winograd_weight_grad_suits(const fnn_iconv *s);
int fnn_conv2d_winograd_weight_grad(const float *x, const float *gy, const float *y, float *gw,
                                    float *gb, const fnn_iconv *s);
/* On by default; off keeps 3x3 layers on the implicit GEMM (tests, A/B benchmarks). */
void fnn_conv_winograd_enable(int on);
int fnn_conv_winograd_enabled(void);

/* Which stride-1 passes conv.c sends here: those its measured rules pick (the default), every
 * one it can (tests), or none (side-by-side benchmarks against im2col). */
enum { FNN_IMPLICIT_NEVER = 0, FNN_IMPLICIT_AUTO = 1, FNN_IMPLICIT_ALWAYS = 2 };
void fnn_conv_implicit_set_mode(int mode);
int fnn_conv_implicit_mode(void);
#endif
