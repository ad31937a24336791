"""y = x @ W^T + b in one GEMM: the bias (and, for a Linear followed by a ReLU, the ReLU) is
applied in the kernel's epilogue while each output tile is still in cache, and W^T is a strided
view that packing absorbs (no transpose copy). The fused layer's backward masks the gradient
and reduces the bias gradient in one pass (relu_backward_bias)."""
import numpy as np

from fastnn import amp, backend, dtypes
from fastnn.autograd.function import Function


def _rows(x, weight):
    """x as a 2-D (rows, in_features) float32 (or, for Linear, float64) array, with PyTorch's
    shape error."""
    if x.dtype != weight.dtype:
        raise RuntimeError("mat1 and mat2 must have the same dtype, but got "
                           f"{dtypes.to_dtype(x.dtype).title} and "
                           f"{dtypes.to_dtype(weight.dtype).title}")
    if x.dtype != np.float32 and x.dtype != np.float64:
        raise TypeError(f"linear runs float32 in fastnn's kernels; got {x.dtype} "
                        "(use the model's dtype for the input)")
    if x.ndim == 0:
        raise RuntimeError("linear expects an input with at least 1 dimension")
    rows = x.reshape(-1, x.shape[-1])
    if rows.shape[1] != weight.shape[1]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows.shape[0]}x"
                           f"{rows.shape[1]} and {weight.shape[1]}x{weight.shape[0]})")
    return rows


def _backward(ctx, g2, grad_b):
    """The products of a linear layer's backward, given the gradient at its pre-activation."""
    rows, weight = ctx.saved_tensors[:2]
    need_x, need_w, need_b = ctx.needs_input_grad
    grad_x = backend.product(g2, weight).reshape(ctx.in_shape) if need_x else None
    grad_w = backend.product(g2.T, rows) if need_w else None
    return grad_x, grad_w, grad_b if need_b else None


def _addmm_edges(node):
    """torch's graph of a linear: addmm(bias, x, weight.t()) (mm(x, weight.t()) without a
    bias), the weight behind a TBackward0 node; for other input ranks that node sits under the
    view back to the input's shape (the node Linear.forward names)."""
    from fastnn.autograd.function import PresentedNode
    x, weight, bias = node.edges[:3]
    transposed = PresentedNode("TBackward0", weight) if weight is not None else None
    if len(node.shape) != 2 and x is not None:  # the input reshaped to 2-D first
        x = PresentedNode("UnsqueezeBackward0" if len(node.shape) == 1 and bias is None
                          else "ViewBackward0", x)
    edges = (x, transposed) if bias is None else (bias, x, transposed)
    if len(node.shape) == 2:
        return edges
    return (PresentedNode("MmBackward0" if bias is None else "AddmmBackward0", *edges),)


class Linear(Function):
    backward_name = "AddmmBackward0"
    present_edges = staticmethod(_addmm_edges)

    @staticmethod
    def forward(ctx, x, weight, bias):
        if x.ndim != 2:  # torch reshapes to 2-D around the addmm/mm and views back
            ctx.backward_name = ("ViewBackward0" if bias is not None else
                                 "SqueezeBackward4" if x.ndim == 1 else "UnsafeViewBackward0")
        elif bias is None:
            ctx.backward_name = "MmBackward0"
        rows = _rows(x, weight)
        out = backend.product(rows, weight.T, bias=bias)
        ctx.save_for_backward(rows, weight)
        ctx.in_shape = x.shape
        return out.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, g):
        weight = ctx.saved_tensors[1]
        g2 = np.asarray(g.reshape(-1, weight.shape[0]), dtype=weight.dtype)
        grad_b = None
        if ctx.needs_input_grad[2]:  # one row is its own sum (a copy: 0.2 us against 0.9)
            grad_b = g2[0].copy() if g2.shape[0] == 1 else g2.sum(axis=0)
        return _backward(ctx, g2, grad_b)


class LinearReLU(Function):
    """relu(x @ W^T + b) as one op: the ReLU runs in the GEMM epilogue, and backward masks the
    gradient and sums the bias gradient in a single pass."""
    backward_name = "ReluBackward0"


    @staticmethod
    def forward(ctx, x, weight, bias):
        rows = _rows(x, weight)
        out = backend.gemm(rows, weight.T, bias=bias, relu=True)
        ctx.save_for_backward(rows, weight, out)
        ctx.in_shape = x.shape
        return out.reshape(x.shape[:-1] + (weight.shape[0],))

    @staticmethod
    def backward(ctx, g):
        out = ctx.saved_tensors[2]
        g2 = np.ascontiguousarray(g.reshape(out.shape), dtype=np.float32)
        need_b = ctx.needs_input_grad[2]
        g2, grad_b = backend.relu_backward_bias(out, g2, want_bias=need_b)
        return _backward(ctx, g2, grad_b)


def linear(input, weight, bias=None):
    out = _linear_lowp(input, weight, bias, relu=False)
    if out is not None:  # autocast or bfloat16 tensors: float32 accumulation
        return out
    dtype = input._data.dtype
    if (dtype != np.float32 and dtype != np.float64) or weight._data.dtype != dtype or (
            bias is not None and bias._data.dtype != dtype):
        return _linear_numpy(input, weight, bias)
    return Linear.apply(input, weight, bias)


def linear_relu(input, weight, bias=None):
    """relu(linear(input, weight, bias)) in one fused op."""
    out = _linear_lowp(input, weight, bias, relu=True)
    if out is not None:
        return out
    if input._data.dtype != np.float32 or weight._data.dtype != np.float32:
        return _linear_numpy(input, weight, bias).relu()
    return LinearReLU.apply(input, weight, bias)


def _linear_numpy(input, weight, bias):
    """Other dtypes (a model.double()): x @ W^T + b from differentiable ops on NumPy, after
    torch's dtype and shape checks."""
    x, w = input._data, weight._data
    if x.dtype != w.dtype:
        _rows(x, w)  # raises torch's "mat1 and mat2 must have the same dtype" message
    if x.ndim == 0 or x.shape[-1] != w.shape[1]:
        rows = int(np.prod(x.shape[:-1])) if x.ndim else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x"
                           f"{x.shape[-1] if x.ndim else 1} and {w.shape[1]}x{w.shape[0]})")
    out = input @ weight.t()
    return out if bias is None else out + bias


def _linear_lowp(input, weight, bias, relu):
    """The product on rounded operands (fastnn.ops.lowp) under autocast or for bfloat16
    tensors; None for the float32 kernels (one thread-local read and a dtype test then)."""
    fast = amp.active_dtype()
    if fast is None and input._data.dtype == np.float32:
        return None
    from fastnn.ops.lowp import linear_lowp, lowp_dtype
    fast = fast or lowp_dtype(input, weight, bias)
    return None if fast is None else linear_lowp(input, weight, bias, fast, relu)
