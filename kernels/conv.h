/* Shapes shared by the convolution and pooling kernels (all NCHW, float32, contiguous). */
#ifndef FASTNN_CONV_H
#define FASTNN_CONV_H
#include <stddef.h>

typedef struct {
    ptrdiff_t n, c, h, w;        /* input */
    ptrdiff_t oc, oh, ow;        /* output channels and size */
    ptrdiff_t kh, kw, sh, sw, ph, pw, dh, dw, groups;
} fnn_conv_shape;

#endif
