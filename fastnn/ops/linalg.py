"""Matrix products on the active backend's GEMM kernel.

`matmul` follows NumPy/PyTorch: 1-D operands are promoted (a vector on the left becomes a row,
on the right a column) and the added dimension is removed from the result; operands with more
than two dimensions are batches of matrices whose batch dimensions broadcast. Transposed
operands (w.T) reach the kernel as strided views; packing absorbs the transpose.
"""
import numpy as np

from fastnn import amp, backend, dtypes
from fastnn.autograd.function import Function, presented
from fastnn.ops.arithmetic import _out
from fastnn.ops.broadcast import operand, unbroadcast
from fastnn.sparse import ops as sparse_ops
from fastnn.sparse.coo import SparseCooTensor
from fastnn.tensor import Tensor


def _batched(a, b, gemm=None):
    """NumPy matmul semantics for float32 operands of at least 2 dimensions each, on the
    backend's GEMM (any strides, no copies) or `gemm` (backend.gemm_bf16 under autocast)."""
    gemm = gemm or backend.gemm
    if a.ndim == 2 and b.ndim == 2:
        return gemm(a, b)
    if b.ndim == 2:  # (..., M, K) @ (K, N): one GEMM over all leading rows
        if a.shape[-1] != b.shape[0]:
            backend.checks.check_gemm_operands(a.reshape(-1, a.shape[-1]), b)
        rows = a.reshape(-1, a.shape[-1])
        return gemm(rows, b).reshape(a.shape[:-1] + (b.shape[1],))
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a_full = np.broadcast_to(a, batch + a.shape[-2:])
    b_full = np.broadcast_to(b, batch + b.shape[-2:])
    out = np.empty(batch + (a.shape[-2], b.shape[-1]), dtype=np.float32)
    for index in np.ndindex(*batch):
        gemm(a_full[index], b_full[index], out=out[index])
    return out


class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        if True in ctx.needs_input_grad:  # the name of a node, when there will be one
            ctx.backward_name = backward_name(a, b, ctx.needs_input_grad[0])
        if a.ndim == b.ndim == 1 and a.shape != b.shape:  # dot's words
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{a.size}] and src "
                               f"[{b.size}] to have the same number of elements, but got "
                               f"{a.size} and {b.size} elements respectively")
        if a.dtype != b.dtype:
            raise RuntimeError("expected m1 and m2 to have the same dtype, but got: "
                               f"{dtypes.to_dtype(a.dtype).c_type} != "
                               f"{dtypes.to_dtype(b.dtype).c_type}")
        if a.dtype != np.float32:  # the kernels are float32; other dtypes run on NumPy
            ctx.save_for_backward(a, b)
            ctx.numpy = True
            _check_shapes(a, b)
            return np.asarray(np.matmul(a, b))
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError("both arguments to matmul need to be at least 1D, "
                               f"but they are {a.ndim}D and {b.ndim}D")
        ctx.save_for_backward(a, b)
        return product(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if getattr(ctx, "numpy", False):
            return _numpy_backward(a, b, g, need_a, need_b)
        return gradients(a, b, g, need_a, need_b)


def backward_name(a, b, a_needs_grad=False):
    """torch's grad_fn name for matmul of operands with these ranks. Above two dimensions
    torch's matmul reshapes to bmm or mm and _unsafe_view's the result back; when the left
    operand is a matrix (or one 3-D matrix broadcast over b's batch) and needs a gradient, it
    multiplies the transposes instead and ends in .contiguous() (CloneBackward0): probed on
    torch 2.13 over every pair of ranks 1-4 and broadcast batches."""
    if a.ndim <= 2 and b.ndim <= 2:
        return ("DotBackward0" if a.ndim == b.ndim == 1 else
                "MvBackward0" if a.ndim == 2 and b.ndim == 1 else
                "SqueezeBackward4" if a.ndim == 1 else "MmBackward0")
    if a_needs_grad and b.ndim >= 3 and (
            a.ndim == 2 or (a.ndim == b.ndim == 3 and a.shape[0] == 1 and b.shape[0] > 1)):
        return "CloneBackward0"
    return "UnsafeViewBackward0"


def product(a, b, gemm=None):
    """matmul of float32 arrays of at least 1 dimension on `gemm` (shapes checked)."""
    a2 = a[np.newaxis, :] if a.ndim == 1 else a
    b2 = b[:, np.newaxis] if b.ndim == 1 else b
    out = _batched(a2, b2, gemm)
    if b.ndim == 1:
        out = out[..., 0]
    if a.ndim == 1:
        out = out[..., 0, :] if b.ndim > 1 else out[..., 0]
    return out


def gradients(a, b, g, need_a, need_b, gemm=None):
    """matmul's (grad_a, grad_b) for float32 a, b and the gradient g of the product."""
    a2, b2, g2 = _as_matrices(a, b, g)
    grad_a = grad_b = None
    if need_a:  # dA = dC @ B^T
        grad_a = unbroadcast(_batched(g2, np.swapaxes(b2, -1, -2), gemm),
                             a2.shape).reshape(a.shape)
    if need_b:  # dB = A^T @ dC
        if a2.ndim > 2 and b2.ndim == 2:  # sum over the batch in one GEMM
            rows = a2.reshape(-1, a2.shape[-1])
            grad_b = _batched(rows.T, g2.reshape(-1, g2.shape[-1]), gemm)
        else:
            grad_b = unbroadcast(_batched(np.swapaxes(a2, -1, -2), g2, gemm), b2.shape)
        grad_b = grad_b.reshape(b.shape)
    return grad_a, grad_b


def _check_shapes(a, b):
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        rows = int(np.prod(a.shape[:-1])) if a.ndim > 1 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k_a} and "
                           f"{k_b}x{b.shape[-1] if b.ndim > 1 else 1})")


def _as_matrices(a, b, g):
    """1-D operands as a row (left) or a column (right), and the gradient to match."""
    a2 = a[np.newaxis, :] if a.ndim == 1 else a
    b2 = b[:, np.newaxis] if b.ndim == 1 else b
    g2 = g
    if b.ndim == 1:
        g2 = g2[..., np.newaxis]
    if a.ndim == 1:
        g2 = g2[..., np.newaxis, :]
    return a2, b2, g2


def _numpy_backward(a, b, g, need_a, need_b):
    """matmul's gradients for dtypes the kernels do not cover (float64, float16 ...)."""
    a2, b2, g2 = _as_matrices(a, b, g)
    ga = unbroadcast(np.matmul(g2, np.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape) \
        if need_a else None
    gb = unbroadcast(np.matmul(np.swapaxes(a2, -1, -2), g2), b2.shape).reshape(b.shape) \
        if need_b else None
    return ga, gb


def matmul(a, b, out=None):
    a, b = operand(a), operand(b)
    if a.__class__ is SparseCooTensor or b.__class__ is SparseCooTensor:
        return _out(sparse_ops.matmul(a, b), out)
    fast = amp.active_dtype()
    if fast is not None:  # autocast: float32 accumulation of rounded operands
        from fastnn.ops.lowp import matmul_lowp
        return _out(matmul_lowp(a, b, fast), out)
    if a._data.dtype == b._data.dtype == dtypes.bfloat16.numpy:
        # bfloat16 tensors: torch's float32 accumulation and bfloat16 result (the checks of
        # the general path were 4% of a 256x784x256 product)
        from fastnn.ops.lowp import MatMulLowp
        return _out(MatMulLowp.apply(a, b, dtypes.bfloat16), out)
    return _out(MatMul.apply(a, b), out)


def mm(a, b, out=None):
    """2-D matrix product only, as torch.mm."""
    if a.__class__ is SparseCooTensor or b.__class__ is SparseCooTensor:
        return _out(sparse_ops.matmul(a, b), out)
    for name, x in (("self", a), ("mat2", b)):
        if np.ndim(x._data if hasattr(x, "_data") else x) != 2:
            raise RuntimeError(f"{name} must be a matrix")
    return matmul(a, b, out=out)


def _rank(x):
    return x._data.ndim if x.__class__ is Tensor else np.ndim(getattr(x, "_data", x))


def dot(a, b):
    """Inner product of two 1-D tensors of the same length, as torch.dot."""
    if _rank(a) != 1 or _rank(b) != 1:
        raise RuntimeError(f"1D tensors expected, but got {_rank(a)}D and {_rank(b)}D tensors")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError("inconsistent tensor size, expected tensor [{}] and src [{}] to have "
                           "the same number of elements, but got {} and {} elements "
                           "respectively".format(a.shape[0], b.shape[0], a.shape[0], b.shape[0]))
    return matmul(a, b)


def mv(a, v):
    """Matrix times vector, as torch.mv."""
    if a.__class__ is SparseCooTensor:
        return sparse_ops.matmul(a, v)
    if _rank(a) != 2 or _rank(v) != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {_rank(a)}, {_rank(v)}")
    return matmul(a, v)


def outer(input, vec2):
    """torch.outer: the (n, m) products of two 1-D tensors."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {input.ndim}-D"
                           if input.ndim != 1 else
                           f"outer: Expected 1-D argument vec2, but got {vec2.ndim}-D")
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


def bmm(input, mat2):
    """torch.bmm: batched (b, n, m) @ (b, m, p), no broadcasting."""
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input.shape[0]}, {input.shape[2]}] but got: "
                           f"[{mat2.shape[0]}, {mat2.shape[1]}].")
    return presented(matmul(input, mat2), "BmmBackward0")
