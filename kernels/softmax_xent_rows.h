/* Row kernels of the fused softmax-cross-entropy, one per instruction set (see softmax_xent.c
 * for the algorithm). */
#ifndef FASTNN_SOFTMAX_XENT_ROWS_H
#define FASTNN_SOFTMAX_XENT_ROWS_H
#include <stddef.h>
#include <stdint.h>

/* Returns 1, computing nothing, if the row needs the portable path (it holds a NaN or an
 * infinite maximum, where inf - inf must give NaN as in PyTorch), else 0 after writing
 * *loss and, if grad != NULL, grad[0:C] = scale * (softmax - onehot). */
typedef int (*fnn_xent_row)(ptrdiff_t C, const float *x, int64_t y, float *loss, float *grad,
                            float scale);

int fnn_xent_row_avx512(ptrdiff_t C, const float *x, int64_t y, float *loss, float *grad,
                        float scale);
int fnn_xent_row_avx2(ptrdiff_t C, const float *x, int64_t y, float *loss, float *grad,
                      float scale);
#endif
