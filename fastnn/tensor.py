"""fastnn.Tensor: a NumPy array (float32, or int64 for labels) plus what autograd needs.

The differentiable ops live in fastnn/ops/ as Function subclasses; the methods here are thin,
explicit entry points to them, named and shaped as torch.Tensor's so code ports unchanged.
"""
import numpy as np

from fastnn import dtypes
from fastnn.autograd import grad_mode


class Tensor:
    __slots__ = ("data", "grad", "requires_grad", "_node", "__weakref__")
    # NumPy defers to our reflected operators (ndarray * Tensor -> Tensor.__rmul__).
    __array_priority__ = 1000

    def __init__(self, data, requires_grad=False, dtype=None):
        self.data = dtypes.as_array(data.data if isinstance(data, Tensor) else data, dtype)
        self.grad = None
        self._node = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array, requires_grad=False, node=None):
        """Internal: wrap an array that is already of a fastnn dtype (no copy, no checks)."""
        t = object.__new__(Tensor)
        t.data = array if isinstance(array, np.ndarray) else np.asarray(array)
        t.grad = None
        t.requires_grad = requires_grad
        t._node = node
        return t

    # --- autograd -------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=False):
        from fastnn.autograd.engine import backward
        backward(self, gradient, retain_graph)

    def _accumulate_grad(self, g, owned=False):
        """Add g into .grad; `owned` means g is a fresh array nobody else references."""
        if g.dtype != self.data.dtype or g.shape != self.data.shape:
            g, owned = np.broadcast_to(np.asarray(g, dtype=self.data.dtype), self.data.shape), False
        if self.grad is None:
            self.grad = Tensor._wrap(g if owned else np.array(g, copy=True, order="C"))
        else:
            np.add(self.grad.data, g, out=self.grad.data)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.data.dtype != np.float32:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if not requires_grad and self._node is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables.")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self):
        """The same data, cut from the graph (shares memory, like torch)."""
        return Tensor._wrap(self.data)

    @property
    def is_leaf(self):
        return self._node is None

    @property
    def grad_fn(self):
        return self._node

    def retain_grad(self):
        raise NotImplementedError("retain_grad is not supported: only leaf tensors that require "
                                  "grad receive .grad in fastnn")

    # --- conversion -----------------------------------------------------------------------
    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self.data

    def item(self):
        if self.data.size != 1:
            raise RuntimeError(f"a Tensor with {self.data.size} elements cannot be converted "
                               "to Scalar")
        return self.data.reshape(()).item()

    def tolist(self):
        return self.data.tolist()

    def float(self):
        return self if self.data.dtype == np.float32 else Tensor._wrap(self.data.astype(np.float32))

    def long(self):
        return Tensor._wrap(self.data.astype(np.int64))

    def bool(self):
        return Tensor._wrap(self.data.astype(np.bool_))

    def type(self, dtype):
        return Tensor._wrap(dtypes.as_array(self.data, dtype))

    def clone(self):
        from fastnn.ops import shape
        return shape.Clone.apply(self)

    def contiguous(self):
        return self if self.data.flags.c_contiguous else self.clone()

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    # --- description ----------------------------------------------------------------------
    @property
    def shape(self):
        return Size(self.data.shape)

    def size(self, dim=None):
        return self.shape if dim is None else self.data.shape[dim]

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    def dim(self):
        return self.data.ndim

    def numel(self):
        return int(self.data.size)

    @property
    def device(self):
        return "cpu"

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", precision=4, prefix="tensor(")
        extra = ""
        if self._node is not None:
            extra = f", grad_fn=<{self._node.name()}>"
        elif self.requires_grad:
            extra = ", requires_grad=True"
        if self.data.dtype == np.int64:
            extra = ", dtype=fastnn.int64" + extra
        return f"tensor({body}{extra})"

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.data.dtype != np.int64 or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def __hash__(self):
        return id(self)

    # --- arithmetic (fastnn/ops/arithmetic.py) --------------------------------------------
    def __add__(self, other):
        return arithmetic.add(self, other)

    def __radd__(self, other):
        return arithmetic.add(other, self)

    def __sub__(self, other):
        return arithmetic.sub(self, other)

    def __rsub__(self, other):
        return arithmetic.sub(other, self)

    def __mul__(self, other):
        return arithmetic.mul(self, other)

    def __rmul__(self, other):
        return arithmetic.mul(other, self)

    def __truediv__(self, other):
        return arithmetic.div(self, other)

    def __rtruediv__(self, other):
        return arithmetic.div(other, self)

    def __neg__(self):
        return arithmetic.neg(self)

    def __pow__(self, exponent):
        return arithmetic.pow(self, exponent)

    def __matmul__(self, other):
        return linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return linalg.matmul(other, self)

    def add(self, other):
        return arithmetic.add(self, other)

    def sub(self, other):
        return arithmetic.sub(self, other)

    def mul(self, other):
        return arithmetic.mul(self, other)

    def div(self, other):
        return arithmetic.div(self, other)

    def pow(self, exponent):
        return arithmetic.pow(self, exponent)

    def matmul(self, other):
        return linalg.matmul(self, other)

    def mm(self, other):
        return linalg.mm(self, other)

    def dot(self, other):
        return linalg.dot(self, other)

    def mv(self, vec):
        return linalg.mv(self, vec)

    # comparisons give bool tensors outside the graph, as in torch
    def __eq__(self, other):
        return Tensor._wrap(np.equal(self.data, _raw(other)))

    def __ne__(self, other):
        return Tensor._wrap(np.not_equal(self.data, _raw(other)))

    def __lt__(self, other):
        return Tensor._wrap(np.less(self.data, _raw(other)))

    def __le__(self, other):
        return Tensor._wrap(np.less_equal(self.data, _raw(other)))

    def __gt__(self, other):
        return Tensor._wrap(np.greater(self.data, _raw(other)))

    def __ge__(self, other):
        return Tensor._wrap(np.greater_equal(self.data, _raw(other)))

    # --- in-place updates (optimizers, initialisers): outside the graph -------------------
    def _check_inplace(self):
        if self.requires_grad and self._node is None and grad_mode._enabled:
            raise RuntimeError("a leaf Variable that requires grad is being used in an "
                               "in-place operation.")

    def __iadd__(self, other):
        self._check_inplace()
        np.add(self.data, _raw(other), out=self.data, casting="same_kind")
        return self

    def __isub__(self, other):
        self._check_inplace()
        np.subtract(self.data, _raw(other), out=self.data, casting="same_kind")
        return self

    def __imul__(self, other):
        self._check_inplace()
        np.multiply(self.data, _raw(other), out=self.data, casting="same_kind")
        return self

    def __itruediv__(self, other):
        self._check_inplace()
        np.divide(self.data, _raw(other), out=self.data, casting="same_kind")
        return self

    def add_(self, other, alpha=1):
        self._check_inplace()
        other = _raw(other)
        np.add(self.data, other if alpha == 1 else other * np.float32(alpha), out=self.data,
               casting="same_kind")
        return self

    def sub_(self, other, alpha=1):
        return self.add_(other, alpha=-alpha)

    def mul_(self, other):
        return self.__imul__(other)

    def div_(self, other):
        return self.__itruediv__(other)

    def zero_(self):
        self._check_inplace()
        self.data[...] = 0
        return self

    def fill_(self, value):
        self._check_inplace()
        self.data[...] = value
        return self

    def copy_(self, src):
        self._check_inplace()
        self.data[...] = _raw(src)
        return self

    def normal_(self, mean=0.0, std=1.0):
        from fastnn import random
        self._check_inplace()
        self.data[...] = random.generator().normal(mean, std, self.data.shape)
        return self

    def uniform_(self, a=0.0, b=1.0):
        from fastnn import random
        self._check_inplace()
        self.data[...] = random.generator().uniform(a, b, self.data.shape)
        return self

    def __setitem__(self, index, value):
        self._check_inplace()
        self.data[_raw_index(index)] = _raw(value)

    # --- elementwise functions (fastnn/ops/elementwise.py) --------------------------------
    def relu(self):
        return elementwise.relu(self)

    def exp(self):
        return elementwise.exp(self)

    def log(self):
        return elementwise.log(self)

    def abs(self):
        return elementwise.abs(self)

    def __abs__(self):
        return elementwise.abs(self)

    def sqrt(self):
        return elementwise.sqrt(self)

    def sigmoid(self):
        return elementwise.sigmoid(self)

    def tanh(self):
        return elementwise.tanh(self)

    def clamp(self, min=None, max=None):
        return elementwise.clamp(self, min, max)

    clip = clamp

    def sign(self):
        return elementwise.sign(self)

    def softmax(self, dim):
        return activation.softmax(self, dim)

    def log_softmax(self, dim):
        return activation.log_softmax(self, dim)

    # --- reductions (fastnn/ops/reductions.py) --------------------------------------------
    def sum(self, dim=None, keepdim=False, axis=None, keepdims=None):
        return reductions.sum(self, dim, keepdim, axis, keepdims)

    def mean(self, dim=None, keepdim=False, axis=None, keepdims=None):
        return reductions.mean(self, dim, keepdim, axis, keepdims)

    def max(self, dim=None, keepdim=False):
        return reductions.max(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False, axis=None):
        return reductions.argmax(self, dim if axis is None else axis, keepdim)

    def min(self, dim=None, keepdim=False):
        return reductions.min(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False, axis=None):
        return reductions.argmin(self, dim if axis is None else axis, keepdim)

    def cumsum(self, dim=None, axis=None):
        return reductions.cumsum(self, dim, axis)

    def norm(self, p="fro", dim=None, keepdim=False):
        return reductions.norm(self, p, dim, keepdim)

    # --- shape (fastnn/ops/shape.py) ------------------------------------------------------
    def reshape(self, *shape):
        return shape_ops.reshape(self, *shape)

    def view(self, *shape):
        return shape_ops.reshape(self, *shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return shape_ops.flatten(self, start_dim, end_dim)

    def transpose(self, dim0, dim1):
        return shape_ops.transpose(self, dim0, dim1)

    def permute(self, *dims):
        return shape_ops.permute(self, shape_ops._shape_arg(dims))

    def squeeze(self, dim=None):
        return shape_ops.squeeze(self, dim)

    def unsqueeze(self, dim):
        return shape_ops.unsqueeze(self, dim)

    def t(self):
        if self.data.ndim > 2:
            raise RuntimeError("t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self.data.ndim}D")
        return shape_ops.transpose(self, 0, -1) if self.data.ndim == 2 else self

    @property
    def T(self):
        return shape_ops.permute(self, tuple(reversed(range(self.data.ndim))))

    def __getitem__(self, index):
        return shape_ops.getitem(self, index)


class Size(tuple):
    """torch.Size: a tuple of ints that prints like torch's."""

    def __repr__(self):
        return f"fastnn.Size([{', '.join(map(str, self))}])"

    def numel(self):
        return int(np.prod(self, dtype=np.int64))


def _raw(value):
    return value.data if isinstance(value, Tensor) else value


def _raw_index(index):
    if isinstance(index, tuple):
        return tuple(_raw(i) for i in index)
    return _raw(index)


# The op modules import Tensor from here, so they are imported after the class exists.
from fastnn.ops import activation, arithmetic, elementwise, linalg, reductions  # noqa: E402
from fastnn.ops import shape as shape_ops  # noqa: E402
