/* Strided convolutions run as stride-1 ones on the input's phases (conv_phased.c). */
#ifndef FASTNN_CONV_PHASED_H
#define FASTNN_CONV_PHASED_H
#include "conv.h"
#include "conv_implicit.h"

/* The stride-1, unpadded convolution on phases that computes s (filter sides multiples of the
 * stride, dilation 1, a stride above 1), written to *ps; 0 when s is not one. */
int fnn_conv_phased_shape(const fnn_conv_shape *s, fnn_conv_shape *ps);
/* planes planes of s's input (src, each h x w) in phases: dst gets planes x sh sw planes of
 * ph_h x ph_w (the phase convolution's input size), zero where a phase reads padding. */
void fnn_conv_split_phases(const float *src, ptrdiff_t planes, const fnn_conv_shape *s,
                           ptrdiff_t ph_h, ptrdiff_t ph_w, float *dst);
/* The passes of s through ps (from fnn_conv_phased_shape) on the implicit GEMM; arguments as
 * fnn_conv2d_implicit_forward, _input_grad and _weight_grad, in s's layouts. */
int fnn_conv2d_phased_forward(const float *x, const float *w, const float *bias, int relu,
                              float *y, const fnn_conv_shape *s, const fnn_conv_shape *ps);
int fnn_conv2d_phased_input_grad(const float *gy, const float *y, const float *w, float *gx,
                                 const fnn_conv_shape *s, const fnn_conv_shape *ps);
int fnn_conv2d_phased_weight_grad(const float *x, const float *gy, const float *y, float *gw,
                                  float *gb, const fnn_conv_shape *s, const fnn_conv_shape *ps);
#endif
