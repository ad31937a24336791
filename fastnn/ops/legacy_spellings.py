"""torch names a sweep of dir(torch) and dir(torch.Tensor) found missing, which older programs
and research code still call: the legacy constructor x.new(...), resize_/resize_as_,
get_device, set_default_tensor_type, torch.as_strided (sliding windows over a tensor's
memory), torch.gradient (finite differences, as numpy.gradient), vander, addbmm, the
*_scatter ops, frombuffer, top-level GradScaler, and in-place aliases (x.sinc_(),
x.swapaxes_(0, 1), torch.selu_(x) ...). Each follows torch's signature and is differentiable
where torch's is."""
import warnings

import numpy as np

from fastnn import dtypes
from fastnn.autograd.function import Function
from fastnn.tensor import Size, Tensor


# --- x.new(...), the legacy constructor -----------------------------------------------------
def new(self, *args, **kwargs):
    """x.new(2, 3) / x.new(size) -> an uninitialised tensor of x's dtype; x.new(data) (a list,
    tuple of non-ints, array or tensor) -> a tensor of that data in x's dtype; x.new() -> an
    empty one."""
    from fastnn import creation
    dtype = kwargs.pop("dtype", None) or self.dtype
    kwargs.pop("device", None)
    if kwargs:
        raise TypeError(f"new() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if not args:
        return creation.empty(0, dtype=dtype)
    if len(args) == 1 and isinstance(args[0], (Size, tuple)) and \
            all(isinstance(v, (int, np.integer)) for v in args[0]):
        return creation.empty(tuple(args[0]), dtype=dtype)
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in args):
        return creation.empty(tuple(int(v) for v in args), dtype=dtype)
    if len(args) == 1:
        data = args[0]
        data = data.detach()._data if isinstance(data, Tensor) else data
        return Tensor._wrap(np.array(data, dtype=dtypes.to_dtype(dtype).numpy))
    raise TypeError("new(): expected sizes or one sequence of data")


def get_device(input):
    """-1: a CPU tensor (torch's answer for any tensor not on an accelerator)."""
    return -1


def resize_(self, *sizes, memory_format=None):
    """Give self `sizes` in place: its first elements kept in order, any new ones
    uninitialised (zeros here), as torch's resize_ over a tensor's storage."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list, Size)):
        sizes = tuple(sizes[0])
    shape = tuple(int(s) for s in sizes)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: "
                           f"{list(shape)}")
    if self.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    n = int(np.prod(shape))
    flat = self._data.reshape(-1)
    if n == flat.size and self._data.flags.c_contiguous:
        self._data = self._data.reshape(shape)
    else:
        data = np.zeros(n, dtype=self._data.dtype)
        keep = min(n, flat.size)
        data[:keep] = flat[:keep]
        self._data = data.reshape(shape)
    self._version[0] += 1
    return self


def resize_as_(self, the_template, memory_format=None):
    return resize_(self, tuple(the_template.shape))


def set_default_tensor_type(t):
    """The deprecated switch of the default floating dtype by tensor type (torch warns)."""
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
                  UserWarning, stacklevel=2)
    name = t if isinstance(t, str) else getattr(t, "__name__", str(t))
    name = name.rsplit(".", 1)[-1]
    by_type = {"FloatTensor": dtypes.float32, "DoubleTensor": dtypes.float64,
               "HalfTensor": dtypes.float16, "BFloat16Tensor": dtypes.bfloat16}
    if name not in by_type:
        raise TypeError("only floating-point types are supported as the default type")
    dtypes.set_default_dtype(by_type[name])


# --- as_strided --------------------------------------------------------------------------------
def _strided_positions(base_size, size, stride, offset):
    """Flat positions in the (contiguous) storage that as_strided(size, stride, offset) reads."""
    positions = np.full(tuple(size), offset, dtype=np.int64)
    for axis, (n, s) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[axis] = n
        positions = positions + (np.arange(n, dtype=np.int64) * s).reshape(shape)
    if positions.size and (positions.min() < 0 or positions.max() >= base_size):
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {4} requiring a storage size of "
                           f"{int(positions.max()) + 1 if positions.size else 0} are out of "
                           f"bounds for storage of size {base_size}")
    return positions


class AsStrided(Function):
    backward_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, x, size, stride, offset):
        flat = np.ascontiguousarray(x).reshape(-1)
        ctx.positions = _strided_positions(flat.size, size, stride, offset)
        ctx.shape = x.shape
        return flat[ctx.positions]

    @staticmethod
    def backward(ctx, g):
        grad = np.zeros(int(np.prod(ctx.shape)), dtype=g.dtype)
        np.add.at(grad, ctx.positions.reshape(-1), g.reshape(-1))
        return grad.reshape(ctx.shape), None, None, None


def as_strided(input, size, stride, storage_offset=None):
    """torch.as_strided over the tensor's elements in row-major order (its storage, for a
    contiguous tensor): element i of the result reads position offset + sum(i_k stride_k).
    The result is a copy, not a view: writes to it do not reach input."""
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError("as_strided: Negative strides are not supported at the moment, got "
                           f"strides: {list(stride)}")
    return AsStrided.apply(input, size, stride, int(storage_offset or 0))


# --- torch.gradient ------------------------------------------------------------------------------
def _axis_gradient(f, axis, h, edge_order):
    """d f / d x along `axis` with uniform spacing h: central differences inside, one-sided
    ones of the given order at the two ends (numpy.gradient's formulas)."""
    n = f.shape[axis]
    if n < edge_order + 1:
        raise RuntimeError("torch.gradient expected each dimension size to be at least "
                           "edge_order+1")

    def take(start, stop):
        return f.narrow(axis, start, stop - start)

    from fastnn.ops.shape import cat
    inner = (take(2, n) - take(0, n - 2)) / (2 * h)
    if edge_order == 1:
        first = (take(1, 2) - take(0, 1)) / h
        last = (take(n - 1, n) - take(n - 2, n - 1)) / h
    else:
        first = (-1.5 * take(0, 1) + 2 * take(1, 2) - 0.5 * take(2, 3)) / h
        last = (0.5 * take(n - 3, n - 2) - 2 * take(n - 2, n - 1) + 1.5 * take(n - 1, n)) / h
    return cat([first, inner, last], axis)


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """torch.gradient: a tuple with the derivative along each dimension in `dim` (all by
    default), for uniform spacing given as one number or one per dimension."""
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    dims = list(range(input.ndim)) if dim is None else \
        [dim] if isinstance(dim, int) else list(dim)
    dims = [d % input.ndim for d in dims]
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar "
                               f"or a list of length equal to 'self.dim() = {input.ndim}', "
                               f"since dim argument was not given, but got a list of length "
                               f"{len(spacing)}")
        steps = [float(s.item() if isinstance(s, Tensor) else s) for s in spacing]
    else:
        steps = [float(spacing)] * len(dims)
    f = input if input.dtype.is_floating_point else input.float()
    return tuple(_axis_gradient(f, d, h, edge_order) for d, h in zip(dims, steps))


def vander(x, N=None, increasing=False):
    """Columns x^0 .. x^(N-1) (or the reverse), as numpy.vander."""
    n = x.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    from fastnn.ops.shape import stack
    if not x.dtype.is_floating_point:  # integers and bools: int64, as torch's cumprod
        x = x.long()
    powers = range(n) if increasing else range(n - 1, -1, -1)
    columns = [x ** p if p else x * 0 + 1 for p in powers]
    if not columns:
        return x.new_zeros((x.shape[0], 0))
    return stack(columns, 1)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta input + alpha sum_b batch1[b] @ batch2[b]."""
    from fastnn.ops.linalg import bmm
    total = bmm(batch1, batch2).sum(0)
    return (input if beta == 1 else beta * input) + (total if alpha == 1 else alpha * total)


# --- the *_scatter ops: input with a slice replaced (differentiable in both) -------------------
def select_scatter(input, src, dim, index):
    out = input.clone()
    key = [slice(None)] * input.ndim
    key[dim] = index
    out[tuple(key)] = src
    return out


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    out = input.clone()
    key = [slice(None)] * input.ndim
    key[dim] = slice(start, end, step)
    out[tuple(key)] = src
    return out


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    out = input.clone()
    planes = out.movedim((dim1, dim2), (-2, -1))  # a view: writes reach out
    rows, cols = planes.shape[-2], planes.shape[-1]
    n = max(0, min(rows + min(offset, 0), cols - max(offset, 0)))
    index = np.arange(n)
    planes[..., index - min(offset, 0), index + max(offset, 0)] = src
    return out


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor over `buffer`'s bytes (shared, as torch's)."""
    array = np.frombuffer(buffer, dtype=dtypes.to_dtype(dtype).numpy, count=count,
                          offset=offset)
    t = Tensor._wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _swap_in_place(name):
    def method(self, dim0, dim1):
        return self.transpose_(dim0, dim1)
    method.__name__ = f"{name}_"
    method.__doc__ = f"In-place {name}: self's dimensions dim0 and dim1 exchanged."
    return method


def install(namespace):
    """Add these names to fastnn's namespace and to Tensor where they are missing."""
    from fastnn.grad_scaler import GradScaler
    from fastnn.nn import functional as F
    from fastnn.ops import unary_math
    from fastnn.ops.torch_spellings import _in_place
    for name, value in (("as_strided", as_strided), ("gradient", gradient),
                        ("vander", vander), ("addbmm", addbmm),
                        ("select_scatter", select_scatter), ("slice_scatter", slice_scatter),
                        ("diagonal_scatter", diagonal_scatter), ("frombuffer", frombuffer),
                        ("get_device", get_device),
                        ("set_default_tensor_type", set_default_tensor_type),
                        ("GradScaler", GradScaler)):
        namespace.setdefault(name, value)
    for name, value in (("new", new), ("resize_", resize_), ("resize_as_", resize_as_),
                        ("get_device", get_device), ("as_strided", as_strided),
                        ("addbmm", addbmm), ("select_scatter", select_scatter),
                        ("slice_scatter", slice_scatter),
                        ("diagonal_scatter", diagonal_scatter),
                        ("sinc", unary_math.sinc),
                        ("swapaxes_", _swap_in_place("swapaxes")),
                        ("swapdims_", _swap_in_place("swapdims"))):
        if not hasattr(Tensor, name):
            setattr(Tensor, name, value)
    for name in ("sinc", "sgn", "igamma", "igammac", "gcd", "lcm", "addbmm", "addmv", "selu"):
        if hasattr(Tensor, name) and not hasattr(Tensor, f"{name}_"):
            setattr(Tensor, f"{name}_", _in_place(name))
    for name in ("selu_", "celu_", "rrelu_", "threshold_"):
        if name not in namespace and hasattr(F, name):
            namespace[name] = getattr(F, name)
    for name in ("sinc_", "detach_", "addmv_"):
        if name not in namespace and hasattr(Tensor, name):
            namespace[name] = getattr(Tensor, name)
