"""Shape rules for the ops that run a compiled kernel, so they work on meta tensors of any
size (fastnn/meta.py): each is the op's `meta_forward`, given what its forward is given and
returning a MetaArray of the output's shape and dtype. Attached to the op classes when the
first meta tensor is made, so the ops' own modules do not know about the meta device."""
import numpy as np

from fastnn.meta import meta_array


def _same(ctx, x, *args, **kwargs):
    return meta_array(x.shape, x.dtype)


def _conv2d(ctx, x, weight, bias, shape, relu=False):
    n, _, _, _, oc, oh, ow = shape[:7]
    return meta_array((n, oc, oh, ow), x.dtype)


def _conv_transpose2d(ctx, x, weight, bias, shape):
    return meta_array(shape[:4], x.dtype)


def _max_pool2d(ctx, x, shape, indices):
    n, c, _, _, _, oh, ow = shape[:7]
    if indices is not None:
        indices.append(meta_array((n, c, oh, ow), np.int64))
    return meta_array((n, c, oh, ow), np.float32)


def _avg_pool2d(ctx, x, shape, count_include_pad):
    n, c, _, _, _, oh, ow = shape[:7]
    return meta_array((n, c, oh, ow), np.float32)


def _adaptive_avg_pool2d(ctx, x, out_size):
    return meta_array(x.shape[:2] + tuple(out_size), x.dtype)


def _batch_norm(ctx, x, weight, bias, eps, training, stats):
    if training:
        channels = x.shape[1]
        stats.extend([meta_array((channels,), np.float64), meta_array((channels,), np.float64)])
    return meta_array(x.shape, x.dtype)


def _linear(ctx, x, weight, bias):
    if x.shape[-1] != weight.shape[1]:
        rows = int(np.prod(x.shape[:-1]))
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{x.shape[-1]} "
                           f"and {weight.shape[1]}x{weight.shape[0]})")
    return meta_array(x.shape[:-1] + (weight.shape[0],), x.dtype)


def _matmul(ctx, a, b):
    from fastnn.ops import linalg
    from fastnn.meta import matmul_shape
    linalg._check_shapes(a, b)  # torch's messages for 0-D operands and mismatched sizes
    ctx.backward_name = linalg.backward_name(a, b, ctx.needs_input_grad[0])
    return meta_array(matmul_shape(a.shape, b.shape), a.dtype)


def _matmul_lowp(ctx, a, b, dtype):
    from fastnn.ops import linalg
    from fastnn.meta import matmul_shape
    linalg._check_shapes(a, b)
    return meta_array(matmul_shape(a.shape, b.shape), dtype.numpy)


def _linear_lowp(ctx, x, weight, bias, relu, dtype):
    return meta_array(_linear(ctx, x, weight, bias).shape, dtype.numpy)


def _cross_entropy(ctx, logits, labels, reduction):
    if reduction == "none":
        return meta_array(logits.shape[:1] if logits.ndim == 2 else (), np.float32)
    return meta_array((), np.float32)


def _reduction(ctx, x, axes, keepdim, *rest):
    axes = range(x.ndim) if axes is None else [a % x.ndim for a in np.atleast_1d(axes)]
    shape = tuple(1 if i in axes else s for i, s in enumerate(x.shape)) if keepdim else \
        tuple(s for i, s in enumerate(x.shape) if i not in axes)
    return meta_array(shape, x.dtype if x.dtype.kind in "fV" else np.int64)


def attach():
    from fastnn.ops import (activation, batchnorm, conv, conv_transpose, elementwise, linalg,
                            linear, loss, lowp, pool, reductions)
    rules = [(conv.Conv2d, _conv2d), (conv_transpose.ConvTranspose2d, _conv_transpose2d),
             (pool.MaxPool2d, _max_pool2d), (pool.AvgPool2d, _avg_pool2d),
             (pool.AdaptiveAvgPool2d, _adaptive_avg_pool2d), (batchnorm.BatchNorm, _batch_norm),
             (linear.Linear, _linear), (linear.LinearReLU, _linear),
             (loss.SoftmaxCrossEntropy, _cross_entropy), (reductions.Sum, _reduction),
             (reductions.Mean, _reduction), (elementwise.ReLU, _same),
             (activation.Softmax, _same), (activation.LogSoftmax, _same),
             (activation.Dropout, _same), (linalg.MatMul, _matmul),
             (lowp.MatMulLowp, _matmul_lowp), (lowp.LinearLowp, _linear_lowp)]
    for cls, rule in rules:
        cls.meta_forward = staticmethod(rule)
