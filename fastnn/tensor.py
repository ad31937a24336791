"""fastnn.Tensor: a NumPy array plus what autograd needs, with torch.Tensor's semantics.

The differentiable ops live in fastnn/ops/ as Function subclasses; the methods here are thin,
explicit entry points to them, named and shaped as torch.Tensor's so code ports unchanged.

Storage and views. `_data` is the NumPy array (fastnn's own name for it; `.data` is torch's
detached alias Tensor). Views (view/reshape, basic indexing, transpose/permute, unsqueeze,
expand, detach) share the array and the version counter `_version` of their base, as torch's
do. An in-place op bumps the counter; a node that saved a tensor records the version it saw,
so a later modification makes backward() raise instead of using overwritten values.

In-place ops are part of the graph (fastnn/ops/inplace.py): `y += x` computes y + x out of
place, writes it into y's storage and moves y's grad_fn to the new node, as torch rebases it.
"""
import functools
import warnings
import numpy as np
from builtins import max as builtins_max

from fastnn import dtypes, layouts, printing
from fastnn.autograd import grad_mode
from fastnn.device import CPU, META, check_device, device as _device
from fastnn.meta import MetaArray

_FLOATING = dtypes.FLOATING_NUMPY


def _moved(t, target):
    """t on the device `target` (the CPU or meta): itself when it is there already; a meta
    tensor of its shape for meta; torch's error for copying a meta tensor's data."""
    if t.layout is not layouts.strided and target is not META:
        return t  # sparse tensors live on the CPU only (their _data is not one array)
    on_meta = type(t._data) is MetaArray
    if (target is META) == on_meta:
        return t
    if on_meta:
        raise NotImplementedError("Cannot copy out of meta tensor; no data! Please use "
                                  "torch.nn.Module.to_empty() instead of torch.nn.Module.to() "
                                  "when moving module from meta to a different device.")
    from fastnn.meta import to_meta
    from fastnn.ops.shape import Clone
    moved = Clone.apply(t, None)  # (keeps the graph: grad_fn, requires_grad)
    moved._data = to_meta(moved._data)
    return moved


def _autograd_suffixes(t):
    node = t._node
    if node is not None:
        return [f"grad_fn=<{node.name()}>"]
    return ["requires_grad=True"] if t.requires_grad else []


_NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
    "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. See "
    "github.com/pytorch/pytorch/pull/30531 for more information.")
_WARNED_SCALAR = False  # float() of a tensor that requires grad, warned once as torch
_WARNED_T = False  # Tensor.T's deprecation warning, given once (torch's TORCH_WARN_ONCE)

class Tensor:
    __slots__ = ("_data", "_grad", "requires_grad", "_node", "_version", "_base", "_view_fn",
                 "_view_version", "_retains_grad", "_hooks", "_post_accumulate_hooks",
                 "_shm", "_fw", "__weakref__")
    # _shm: set by share_memory_ only, _fw: a forward-AD tangent (autograd/forward_ad.py) only;
    # both unset otherwise, so they cost nothing
    # NumPy defers to our reflected operators (ndarray * Tensor -> Tensor.__rmul__).
    __array_priority__ = 1000

    def __init__(self, *args, requires_grad=False, dtype=None):
        # torch.Tensor is the legacy constructor: Tensor(2, 3) or Tensor(Size) is an
        # uninitialised tensor of that shape (pytorch/examples gcn and gat make their weights
        # so), Tensor(data) the data as floats of the default dtype
        data = args[0] if len(args) == 1 else ()
        if len(args) > 1 or (args and (type(data) is int or isinstance(data, Size))):
            from fastnn.creation import empty
            data = empty(*args, dtype=dtype)
        if isinstance(data, Tensor):
            array = data._data
        else:
            array = dtypes.as_array(data, dtype)
            if dtype is None:  # (torch.Tensor([1, 2]) is tensor([1., 2.]))
                array = array.astype(dtypes.get_default_dtype().numpy, copy=False)
        if dtype is not None and isinstance(data, Tensor):
            array = dtypes.as_array(array, dtype)
        _init(self, array, False, None)
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array, requires_grad=False, node=None):
        """Internal: wrap an array that is already of a fastnn dtype (no copy, no checks)."""
        t = object.__new__(Tensor)  # _init inlined: this runs for every op's output
        t._data = array if isinstance(array, np.ndarray) else np.asarray(array)
        t._grad = t._base = t._view_fn = t._hooks = t._post_accumulate_hooks = None
        t.requires_grad = requires_grad
        t._node = node
        t._version = [0]
        t._view_version = 0
        t._retains_grad = False
        return t

    # --- torch's alias of the storage -----------------------------------------------------
    @property
    def data(self):
        """A tensor on the same storage that does not require grad (torch's .data): writes
        through it change this tensor but are not recorded and not version-checked."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else dtypes.as_array(value)

    # --- autograd -------------------------------------------------------------------------
    @property
    def grad(self):
        if self._grad is None and self._node is not None and not self._retains_grad:
            warnings.warn(_NON_LEAF_GRAD, UserWarning, stacklevel=2)  # torch's TensorBody.h
        return self._grad

    @grad.setter
    def grad(self, value):
        """As torch's: None, or a tensor of this tensor's size and dtype (an optimizer kernel
        then reads it as such, so a mismatch is refused here, in torch's words)."""
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__module__}.{type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value._data.shape)}' to a "
                    f"tensor of size '{list(self._data.shape)}'. Please ensure that the gradient "
                    f"and the tensor are the same size")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{value.dtype.c_type}' to a "
                    f"tensor with grad_dtype '{self.dtype.title}'. The gradient must match the "
                    f"tensor's grad_dtype (defaults to the tensor's dtype).")
        self._grad = value
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        if create_graph:
            from fastnn.autograd import higher_order
            higher_order.warn_backward_cycle()
            if inputs is not None:
                inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
                found = higher_order.backward(self, gradient, capture=inputs)
                for t in inputs:
                    if id(t) in found:
                        t._grad = found[id(t)] if t._grad is None else t._grad + found[id(t)]
                return
            higher_order.backward(self, gradient)
            return
        engine.backward(self, gradient, bool(retain_graph), inputs)

    def _accumulate_grad(self, g, owned=False):
        """Add g into .grad; `owned` means g is a fresh array nobody else references."""
        if self._hooks:
            for hook in self._hooks.values():
                new = hook(Tensor._wrap(g))
                if new is not None:
                    g, owned = new._data, False
        if g.dtype != self._data.dtype or g.shape != self._data.shape:
            g = np.broadcast_to(np.asarray(g, dtype=self._data.dtype), self._data.shape)
            owned = False
        if self._grad is None:
            self._grad = Tensor._wrap(g if owned else g.copy(order="C"))  # (a meta g stays)
        else:
            np.add(self._grad._data, g, out=self._grad._data)
        if self._post_accumulate_hooks:
            for hook in list(self._post_accumulate_hooks.values()):
                hook(self)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self._data.dtype.kind == "c":
            raise RuntimeError("fastnn's autograd covers real dtypes only: a complex tensor "
                               "cannot require gradients (torch differentiates complex "
                               "functions by Wirtinger calculus, which fastnn does not model)")
        if requires_grad and self._data.dtype not in _FLOATING:
            raise RuntimeError("only Tensors of floating point and complex dtype can require "
                               "gradients")
        if not requires_grad and self._node is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If "
                               "you want to use a computed variable in a subgraph that doesn't "
                               "require differentiation use var_no_grad = var.detach().")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self):
        """The same storage (and version counter), cut from the graph, as torch.detach()."""
        t = Tensor._wrap(self._data)
        t._version = self._version
        return t

    def detach_(self):
        if self._base is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._node, self.requires_grad = None, False
        return self

    @property
    def is_leaf(self):
        return self._node is None

    @property
    def grad_fn(self):
        if self._base is not None and self._view_version != self._version[0]:
            # (its base was changed in place since: a fresh node, as torch regenerates it)
            from fastnn.autograd.function import refresh_view
            refresh_view(self)
        return self._node

    @property
    def retains_grad(self):
        return self._retains_grad

    def retain_grad(self):
        """Keep .grad on this non-leaf tensor after backward, as torch.Tensor.retain_grad."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._node is None or self._retains_grad:
            return
        self._retains_grad = True
        self._node.retain(self)

    def register_hook(self, hook):
        """hook(grad) -> Tensor or None, called with this tensor's gradient (torch's)."""
        from fastnn.autograd.function import RemovableHandle
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if self._node is not None:
            return self._node.register_prehook(hook)
        if self._hooks is None:
            self._hooks = {}
        return RemovableHandle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """hook(tensor) -> None, called after a backward pass has added into this leaf's .grad
        (torch's; DistributedDataParallel starts a bucket's all-reduce from it)."""
        from fastnn.autograd.function import RemovableHandle
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require "
                               "gradient")
        if self._node is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = {}
        return RemovableHandle(self._post_accumulate_hooks, hook)

    @property
    def _version_value(self):
        return self._version[0]

    # --- dtype, device and conversion -----------------------------------------------------
    @property
    def dtype(self):
        return dtypes.of_array(self._data)

    @property
    def device(self):
        return META if type(self._data) is MetaArray else CPU

    @property
    def is_meta(self):
        return type(self._data) is MetaArray

    @property
    def is_cpu(self):
        return type(self._data) is not MetaArray

    @property
    def is_cuda(self):
        return False

    is_sparse = False
    is_quantized = False
    # the other devices' and layouts' flags torch.Tensor has: a fastnn tensor is on the CPU,
    # strided (pytorch/examples dcgan tests input.is_xpu)
    is_xpu = is_mps = is_ipu = is_xla = is_vulkan = is_mtia = is_maia = False
    is_mkldnn = is_nested = is_sparse_csr = False
    layout = layouts.strided

    def is_set_to(self, tensor):
        """Whether both view the same memory with the same shape and strides (torch: the same
        storage, offset, size and stride)."""
        a, b = self._data, tensor._data
        return (a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype
                and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
                and (a.size == 0 or np.shares_memory(a, b)))

    def is_distributed(self):
        return False

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        """A sparse COO copy of the non-zero entries (fastnn/sparse)."""
        if layout not in (None, layouts.sparse_coo):
            raise NotImplementedError(f"to_sparse: layout {layout} is not supported by fastnn "
                                      "(sparse COO only)")
        from fastnn.sparse.ops import to_sparse
        return to_sparse(self, sparse_dim)

    def to_sparse_coo(self):
        return self.to_sparse()

    def to_dense(self, dtype=None, *, masked_grad=None):
        return self if dtype is None else self._cast(dtype)

    def is_floating_point(self):
        return self._data.dtype in _FLOATING

    def _cast(self, dtype):
        target = dtypes.to_dtype(dtype)
        if self._data.dtype == target.numpy:
            return self
        from fastnn.ops.cast import cast
        return cast(self, target)

    def to(self, *args, **kwargs):
        """to(dtype), to(device), to(device, dtype), to(other), with non_blocking/copy/
        memory_format accepted as torch does. Returns self when nothing changes."""
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        fmt = kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
        for arg in args:
            if isinstance(arg, Tensor):
                dtype, device = arg.dtype, arg.device
            elif isinstance(arg, (str, _device, int)) and not isinstance(arg, bool):
                device = arg
            elif arg is not None:
                dtype = arg
        out = self if dtype is None else self._cast(dtype)
        if device is not None:
            out = _moved(out, check_device(device))
        if fmt is not None:
            from fastnn import memory_formats
            if fmt is not memory_formats.preserve_format:
                out = out.contiguous(memory_format=fmt)
        if copy and out is self:
            out = self.clone()
        return out

    def cpu(self, memory_format=None):
        return _moved(self, CPU)

    def cuda(self, device=None, non_blocking=False):
        if device is not None:
            raise RuntimeError("Cannot access accelerator device when none is available.")
        check_device("cuda")

    def type(self, dtype=None, non_blocking=False):
        if dtype is None:
            return f"fastnn.{self.dtype.tensor_type}"
        if isinstance(dtype, str):
            short = dtype.split(".")[-1]
            dtype = next((d for d in dtypes.ALL if d.tensor_type == short), dtype)
        return self._cast(getattr(dtype, "dtype", dtype))  # (x.type(fastnn.FloatTensor))

    def type_as(self, other):
        return self._cast(other.dtype)

    def float(self):
        return self._cast(dtypes.float32)

    def double(self):
        return self._cast(dtypes.float64)

    def half(self):
        return self._cast(dtypes.float16)

    def bfloat16(self):
        return self._cast(dtypes.bfloat16)

    def long(self):
        return self._cast(dtypes.int64)

    def int(self):
        return self._cast(dtypes.int32)

    def short(self):
        return self._cast(dtypes.int16)

    def char(self):
        return self._cast(dtypes.int8)

    def byte(self):
        return self._cast(dtypes.uint8)

    def bool(self):
        return self._cast(dtypes.bool_)

    def element_size(self):
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    def numpy(self, force=False):
        if type(self._data) is MetaArray:
            raise TypeError("can't convert meta device type tensor to numpy. Use Tensor.cpu() "
                            "to copy the tensor to host memory first.")
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._data

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        if type(self._data) is MetaArray:
            raise RuntimeError("Tensor.item() cannot be called on meta tensors")
        value = self._data.reshape(()).item()
        return float(value) if self._data.dtype.kind == "V" else value  # bfloat16 -> float

    def tolist(self):
        if self._data.dtype.kind == "V":
            return self._data.astype(np.float32).tolist()
        return self._data.tolist()

    def module_load(self, other, assign=False):
        """How load_state_dict turns the checkpoint's `other` into this parameter's new
        contents (torch's extension point): other itself, detached, with assign=True, else
        this tensor with other's values copied in, detached."""
        if assign:
            return other.detach()
        return self.copy_(other).detach()

    def clone(self, memory_format=None):
        """A copy; memory_format preserve_format (the default) keeps a dense tensor's layout,
        as torch's."""
        from fastnn.ops import shape
        return shape.Clone.apply(self, memory_format)

    def contiguous(self, memory_format=None):
        from fastnn import memory_formats
        fmt = memory_format or memory_formats.contiguous_format
        if memory_formats.is_in(self._data, fmt):
            return self
        from fastnn.ops import shape
        return shape.Clone.apply(self, fmt)

    def is_contiguous(self, memory_format=None):
        if memory_format is None:
            return bool(self._data.flags.c_contiguous)
        from fastnn import memory_formats
        return memory_formats.is_in(self._data, memory_format)

    def stride(self, dim=None):
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[dim]

    def storage_offset(self):
        root = self._data
        while isinstance(root.base, np.ndarray):
            root = root.base
        return (self._data.__array_interface__["data"][0]
                - root.__array_interface__["data"][0]) // self._data.itemsize

    def data_ptr(self):
        return self._data.__array_interface__["data"][0]

    def untyped_storage(self):
        root = self._data
        while isinstance(root.base, np.ndarray):
            root = root.base
        return root

    def __array__(self, dtype=None, copy=None):
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._data if dtype is None else self._data.astype(dtype)

    def __dlpack__(self, stream=None, **kwargs):
        if self.requires_grad:
            raise RuntimeError("Can't export tensors that require gradient, use "
                               "tensor.detach()")
        return self._data.__dlpack__(**kwargs) if kwargs else self._data.__dlpack__()

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        from fastnn import creation
        return creation.tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad,
                               device=device or self.device)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        from fastnn import creation
        return creation.zeros(*size, dtype=dtype or self.dtype, requires_grad=requires_grad,
                               device=device or self.device)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        from fastnn import creation
        return creation.ones(*size, dtype=dtype or self.dtype, requires_grad=requires_grad,
                               device=device or self.device)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        from fastnn import creation
        return creation.full(size, fill_value, dtype=dtype or self.dtype,
                             requires_grad=requires_grad, device=device or self.device)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        from fastnn import creation
        return creation.empty(*size, dtype=dtype or self.dtype, requires_grad=requires_grad,
                               device=device or self.device)

    # --- description ----------------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        ndim = self._data.ndim
        if not -max(ndim, 1) <= dim < max(ndim, 1):
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {dim})")
        return self._data.shape[dim]

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return int(self._data.size)

    nelement = numel

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __repr__(self):
        data = self._data
        if type(data) is MetaArray:
            from fastnn.meta import tensor_repr
            return tensor_repr(self, _autograd_suffixes(self))
        if data.dtype.kind == "V":  # bfloat16: its values print as torch's do
            data = data.astype(np.float32)
        suffixes = []
        d = self.dtype
        if data.size == 0:
            # torch's rules: no elements to tell the dtype by, so any but the default is shown
            if data.ndim != 1:
                suffixes.append(f"size={tuple(data.shape)}")
            if d is not dtypes.get_default_dtype():
                suffixes.append(f"dtype={d!r}")
        elif d not in (dtypes.get_default_dtype(), dtypes.default_complex(), dtypes.int64,
                       dtypes.bool_):
            suffixes.append(f"dtype={d!r}")
        node = self._node
        if node is not None:
            suffixes.append(f"grad_fn=<{node.name()}>")
        elif self.requires_grad:
            suffixes.append("requires_grad=True")
        if getattr(self, "_fw", None) is not None:  # a dual tensor shows its tangent, as torch
            from fastnn.autograd.forward_ad import tangent_of
            tangent = tangent_of(self)
            if tangent is not None:
                suffixes.append(f"tangent={tangent!r}")
        prefix = "tensor("
        return printing.with_suffixes(prefix + printing.tensor_str(data, len(prefix)), suffixes,
                                      len(prefix))

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec) if spec else repr(self)

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        if type(self._data) is MetaArray:
            raise RuntimeError("Tensor.item() cannot be called on meta tensors")
        return bool(self._data)

    def __float__(self):
        global _WARNED_SCALAR
        # torch's TORCH_WARN_ONCE, only with grad mode on: LBFGS's float(loss) under its
        # no_grad step is silent (pytorch/examples time_sequence_prediction)
        if self.requires_grad and not _WARNED_SCALAR and grad_mode.is_grad_enabled():
            _WARNED_SCALAR = True
            warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to "
                          "unexpected behavior.\nConsider using tensor.detach() first.",
                          UserWarning, stacklevel=2)
        return float(self._real_item("double"))

    def __int__(self):
        return int(self._real_item("int64_t"))

    def _real_item(self, c_type):
        """item() for float()/int(): a complex value has no real conversion (torch's error)."""
        value = self.item()
        if isinstance(value, complex):
            raise RuntimeError(f"value cannot be converted to type {c_type} without overflow")
        return value

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __hash__(self):
        return id(self)

    def __reduce_ex__(self, protocol):
        block = getattr(self, "_shm", None)
        if block is not None and self._data.base is not None and \
                np.shares_memory(self._data, np.frombuffer(block.buf, np.uint8)):
            from fastnn import shared_memory  # the block's name travels, not the values
            return (shared_memory.attach, (block.name, self._data.shape, self._data.dtype.str,
                                           self.requires_grad, type(self)))
        return (_rebuild, (self._data.copy(), self.requires_grad, type(self)))

    def share_memory_(self):
        """Move the values into shared memory, so processes this tensor is sent to (by
        torch.multiprocessing / multiprocessing) update the same values."""
        from fastnn import shared_memory
        return shared_memory.move_to_shared(self)

    def is_shared(self):
        return getattr(self, "_shm", None) is not None

    def __deepcopy__(self, memo):
        if self._node is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.")
        out = type(self).__new__(type(self))
        _init(out, self._data.copy(), self.requires_grad, None)
        if self.grad is not None:
            out.grad = Tensor._wrap(self.grad._data.copy())
        memo[id(self)] = out
        return out

    # --- arithmetic (fastnn/ops/arithmetic.py) --------------------------------------------
    def __add__(self, other):
        return arithmetic.add(self, other)

    def __radd__(self, other):  # number + x is recorded as x + number, as torch does
        return arithmetic.add(self, other)

    def __sub__(self, other):
        return arithmetic.sub(self, other)

    def __rsub__(self, other):
        if type(other) in (int, float):
            return arithmetic.rsub_number(self, other)
        return arithmetic.sub(other, self)

    def __mul__(self, other):
        return arithmetic.mul(self, other)

    def __rmul__(self, other):  # number * x is recorded as x * number, as torch does
        return arithmetic.mul(self, other)

    def __truediv__(self, other):
        return arithmetic.div(self, other)

    def __rtruediv__(self, other):
        if type(other) in (int, float):  # torch: number * x.reciprocal() (same rounding too)
            return arithmetic.mul(unary_math.reciprocal(self), other)
        return arithmetic.div(other, self)

    def __floordiv__(self, other):
        return arithmetic.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return arithmetic.floor_divide(other, self)

    def __mod__(self, other):
        return arithmetic.remainder(self, other)

    def __rmod__(self, other):  # 5 % x
        return arithmetic.remainder(other, self)

    def __neg__(self):
        return arithmetic.neg(self)

    def __pos__(self):
        return self

    def __pow__(self, exponent):
        return arithmetic.pow(self, exponent)

    def __rpow__(self, base):
        if type(base) in (int, float) and self._data.dtype != np.bool_:
            return arithmetic.rpow_number(self, base)
        return arithmetic.pow(base, self)

    def __matmul__(self, other):
        return linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return linalg.matmul(other, self)

    def __and__(self, other):
        return logical.bitwise("and", self, other)

    def __or__(self, other):
        return logical.bitwise("or", self, other)

    def __xor__(self, other):
        return logical.bitwise("xor", self, other)

    def __rand__(self, other):  # True & mask, 3 | x
        return logical.bitwise("and", other, self)

    def __ror__(self, other):
        return logical.bitwise("or", other, self)

    def __rxor__(self, other):
        return logical.bitwise("xor", other, self)

    def __invert__(self):
        return logical.invert(self)

    def __lshift__(self, other):
        return logical.bitwise("left_shift", self, other)

    def __rlshift__(self, other):
        return logical.bitwise("left_shift", other, self)

    def __rshift__(self, other):
        return logical.bitwise("right_shift", self, other)

    def __rrshift__(self, other):
        return logical.bitwise("right_shift", other, self)

    def bitwise_left_shift(self, other):
        return logical.bitwise("left_shift", self, other)

    def bitwise_right_shift(self, other):
        return logical.bitwise("right_shift", self, other)

    def add(self, other, alpha=1):
        other, alpha = arithmetic.legacy_alpha("add", other, alpha)
        return arithmetic.add(self, other, alpha=alpha)

    def sub(self, other, alpha=1):
        other, alpha = arithmetic.legacy_alpha("sub", other, alpha)
        return arithmetic.sub(self, other, alpha=alpha)

    subtract = sub

    def mul(self, other):
        return arithmetic.mul(self, other)

    multiply = mul

    def div(self, other, rounding_mode=None):
        return arithmetic.div(self, other, rounding_mode=rounding_mode)

    divide = div
    true_divide = div

    def neg(self):
        return arithmetic.neg(self)

    negative = neg

    def pow(self, exponent):
        return arithmetic.pow(self, exponent)

    def square(self):
        if self._data.dtype == np.bool_:  # torch: pow(bool, 2) is int64
            return arithmetic.mul(self.long(), self.long())
        return arithmetic.mul(self, self)

    def reciprocal(self):
        return arithmetic.div(1.0, self)

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
        return logical.compare("eq", self, other)

    def __ne__(self, other):
        return logical.compare("ne", self, other)

    def __lt__(self, other):
        return logical.compare("lt", self, other)

    def __le__(self, other):
        return logical.compare("le", self, other)

    def __gt__(self, other):
        return logical.compare("gt", self, other)

    def __ge__(self, other):
        return logical.compare("ge", self, other)

    def eq(self, other):
        return logical.compare("eq", self, other)

    def ne(self, other):
        return logical.compare("ne", self, other)

    def lt(self, other):
        return logical.compare("lt", self, other)

    def le(self, other):
        return logical.compare("le", self, other)

    def gt(self, other):
        return logical.compare("gt", self, other)

    def ge(self, other):
        return logical.compare("ge", self, other)

    def equal(self, other):
        return bool(self._data.shape == other._data.shape and
                    np.array_equal(self._data, other._data))

    # --- in-place ops (fastnn/ops/inplace.py): recorded in the graph, as torch's ----------
    def __iadd__(self, other):
        return inplace.apply(self, arithmetic.add, other)

    def __isub__(self, other):
        return inplace.apply(self, arithmetic.sub, other)

    def __imul__(self, other):
        return inplace.apply(self, arithmetic.mul, other, needs_old=True)

    def __itruediv__(self, other):
        return inplace.apply(self, arithmetic.div, other, needs_old=True)

    def __ipow__(self, other):
        return inplace.apply(self, arithmetic.pow, other, needs_old=True)

    def __ifloordiv__(self, other):
        return inplace.apply(self, arithmetic.floor_divide, other)

    def __imod__(self, other):
        return inplace.apply(self, arithmetic.remainder, other)

    def __iand__(self, other):  # mask &= other: in place, as torch (not a new tensor)
        return inplace.apply(self, functools.partial(logical.bitwise, "and"), other)

    def __ior__(self, other):
        return inplace.apply(self, functools.partial(logical.bitwise, "or"), other)

    def __ixor__(self, other):
        return inplace.apply(self, functools.partial(logical.bitwise, "xor"), other)

    def __ilshift__(self, other):
        return inplace.apply(self, functools.partial(logical.bitwise, "left_shift"), other)

    def __irshift__(self, other):
        return inplace.apply(self, functools.partial(logical.bitwise, "right_shift"), other)

    def add_(self, other, alpha=1):
        other, alpha = arithmetic.legacy_alpha("add_", other, alpha)
        return inplace.apply(self, arithmetic.add, other, alpha=alpha)

    def sub_(self, other, alpha=1):
        other, alpha = arithmetic.legacy_alpha("sub_", other, alpha)
        return inplace.apply(self, arithmetic.sub, other, alpha=alpha)

    def mul_(self, other):
        return inplace.apply(self, arithmetic.mul, other, needs_old=True)

    def div_(self, other, rounding_mode=None):
        return inplace.apply(self, arithmetic.div, other, needs_old=True,
                             rounding_mode=rounding_mode)

    def pow_(self, exponent):
        return inplace.apply(self, arithmetic.pow, exponent, needs_old=True)

    def neg_(self):
        return inplace.apply(self, arithmetic.neg)

    def addcmul_(self, tensor1, tensor2, value=1):
        tensor1, tensor2, value = arithmetic.legacy_value("addcmul_", tensor1, tensor2, value)
        return inplace.apply(self, lambda s: s + value * tensor1 * tensor2)

    def addcdiv_(self, tensor1, tensor2, value=1):
        tensor1, tensor2, value = arithmetic.legacy_value("addcdiv_", tensor1, tensor2, value)
        return inplace.apply(self, lambda s: s + value * tensor1 / tensor2)

    def clamp_(self, min=None, max=None):
        return inplace.apply(self, elementwise.clamp, min, max, needs_old=True)

    clip_ = clamp_

    def relu_(self):
        return inplace.apply(self, elementwise.relu)

    def sigmoid_(self):
        return inplace.apply(self, elementwise.sigmoid)

    def tanh_(self):
        return inplace.apply(self, elementwise.tanh)

    def exp_(self):
        return inplace.apply(self, elementwise.exp)

    def log_(self):
        return inplace.apply(self, elementwise.log, needs_old=True)

    def sqrt_(self):
        return inplace.apply(self, elementwise.sqrt)

    def abs_(self):
        return inplace.apply(self, elementwise.abs, needs_old=True)

    def zero_(self):
        return inplace.fill(self, 0)

    def fill_(self, value):
        return inplace.fill(self, value)

    def copy_(self, src, non_blocking=False):
        return inplace.copy(self, src)

    def masked_fill_(self, mask, value):
        return inplace.apply(self, logical.masked_fill, mask, value)

    def normal_(self, mean=0.0, std=1.0, generator=None):
        return inplace.fill_random(self, "normal", mean, std, generator)

    def uniform_(self, a=0.0, b=1.0, generator=None):
        return inplace.fill_random(self, "uniform", a, b, generator)

    def __setitem__(self, index, value):
        inplace.setitem(self, index, value)

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

    # --- in-place forms of the elementwise math: x.sin_() is x.copy_(x.sin()), recorded as
    # an in-place op (fastnn/ops/inplace.py) --------------------------------------------------
    def sin_(self):
        return inplace.apply(self, unary_math.sin, needs_old=True)

    def cos_(self):
        return inplace.apply(self, unary_math.cos, needs_old=True)

    def tan_(self):
        return inplace.apply(self, unary_math.tan, needs_old=True)

    def asin_(self):
        return inplace.apply(self, unary_math.asin, needs_old=True)

    def acos_(self):
        return inplace.apply(self, unary_math.acos, needs_old=True)

    def atan_(self):
        return inplace.apply(self, unary_math.atan, needs_old=True)

    def sinh_(self):
        return inplace.apply(self, unary_math.sinh, needs_old=True)

    def cosh_(self):
        return inplace.apply(self, unary_math.cosh, needs_old=True)

    def log2_(self):
        return inplace.apply(self, unary_math.log2, needs_old=True)

    def log10_(self):
        return inplace.apply(self, unary_math.log10, needs_old=True)

    def log1p_(self):
        return inplace.apply(self, unary_math.log1p, needs_old=True)

    def expm1_(self):
        return inplace.apply(self, unary_math.expm1, needs_old=True)

    def exp2_(self):
        return inplace.apply(self, unary_math.exp2, needs_old=True)

    def rsqrt_(self):
        return inplace.apply(self, unary_math.rsqrt, needs_old=True)

    def reciprocal_(self):
        return inplace.apply(self, unary_math.reciprocal, needs_old=True)

    def erf_(self):
        return inplace.apply(self, unary_math.erf, needs_old=True)

    def floor_(self):
        return inplace.apply(self, rounding.floor)

    def ceil_(self):
        return inplace.apply(self, rounding.ceil)

    def round_(self):
        return inplace.apply(self, rounding.round)

    def trunc_(self):
        return inplace.apply(self, rounding.trunc)

    def sign_(self):
        return inplace.apply(self, elementwise.sign)

    def square_(self):
        return inplace.apply(self, lambda x: x * x, needs_old=True)

    def frac_(self):
        return inplace.apply(self, more_elementwise.frac)

    def clamp_min_(self, min):
        return inplace.apply(self, more_elementwise.clamp_min, min, needs_old=True)

    def clamp_max_(self, max):
        return inplace.apply(self, more_elementwise.clamp_max, max, needs_old=True)

    def fmod_(self, other):
        return inplace.apply(self, more_elementwise.fmod, other, needs_old=True)

    def remainder_(self, other):
        return inplace.apply(self, arithmetic.remainder, other, needs_old=True)

    # --- in-place shape changes: the tensor becomes a view of its own storage with the new
    # shape. In the graph (a non-leaf that requires grad) the out-of-place op is recorded and
    # the tensor takes over its result, as torch's UnsqueezeBackward1 / TBackward1 -----------
    def _reshape_in_place(self, fn, name, out_of_place):
        if self.requires_grad and grad_mode.is_grad_enabled():
            if self._node is None and self._base is None:
                raise RuntimeError("a leaf Variable that requires grad is being used in an "
                                   "in-place operation.")
            out = out_of_place(self)
            self._data, self._node = out._data, out._node
            if out._node is not None and out._node.ctx is not None:
                out._node.ctx.backward_name = name  # torch's in-place node names
            if out._base is not None and out._base is not self:  # self was a view already
                self._base, self._view_fn = out._base, out._view_fn
            inplace._bump(self)
            return self
        self._data = fn(self._data)
        if self._base is not None:
            inner = self._view_fn
            self._view_fn = lambda a: fn(inner(a))
        return self

    def unsqueeze_(self, dim):
        d = manipulation._dim(dim, self.ndim + 1)
        return self._reshape_in_place(lambda a: np.expand_dims(a, d), "UnsqueezeBackward1",
                                      lambda t: t.unsqueeze(d))

    def squeeze_(self, dim=None, *dims):
        dim = (dim,) + dims if dims else dim
        shape = tuple(self.squeeze(dim).shape) if self.ndim else ()
        name = ("SqueezeBackward3" if dim is None else
                "SqueezeBackward5" if isinstance(dim, (tuple, list)) else "SqueezeBackward4")
        return self._reshape_in_place(lambda a: a.reshape(shape), name,
                                      lambda t: t.squeeze() if dim is None else t.squeeze(dim))

    def t_(self):
        if self.ndim > 2:
            raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is "
                               f"{self.ndim}D")
        return self._reshape_in_place(lambda a: a.T, "TBackward1", lambda t: t.t())

    def transpose_(self, dim0, dim1):
        d0, d1 = dim0 % builtins_max(self.ndim, 1), dim1 % builtins_max(self.ndim, 1)
        return self._reshape_in_place(lambda a: np.swapaxes(a, d0, d1), "TransposeBackward1",
                                      lambda t: t.transpose(d0, d1))

    # --- more elementwise math (fastnn/ops/unary_math.py) -----------------------------------
    def sin(self):
        return unary_math.sin(self)

    def cos(self):
        return unary_math.cos(self)

    def tan(self):
        return unary_math.tan(self)

    def asin(self):
        return unary_math.asin(self)

    def acos(self):
        return unary_math.acos(self)

    def atan(self):
        return unary_math.atan(self)

    def sinh(self):
        return unary_math.sinh(self)

    def cosh(self):
        return unary_math.cosh(self)

    def log2(self):
        return unary_math.log2(self)

    def log10(self):
        return unary_math.log10(self)

    def log1p(self):
        return unary_math.log1p(self)

    def expm1(self):
        return unary_math.expm1(self)

    def exp2(self):
        return unary_math.exp2(self)

    def rsqrt(self):
        return unary_math.rsqrt(self)

    def erf(self):
        return unary_math.erf(self)

    arcsin, arccos, arctan = asin, acos, atan

    def sigmoid(self):
        return elementwise.sigmoid(self)

    def tanh(self):
        return elementwise.tanh(self)

    def clamp(self, min=None, max=None):
        return elementwise.clamp(self, min, max)

    clip = clamp

    def sign(self):
        return elementwise.sign(self)

    def softmax(self, dim, dtype=None):
        return activation.softmax(self, dim)

    def log_softmax(self, dim, dtype=None):
        return activation.log_softmax(self, dim)

    def masked_fill(self, mask, value):
        return logical.masked_fill(self, mask, value)

    # --- reductions (fastnn/ops/reductions.py) --------------------------------------------
    def sum(self, dim=None, keepdim=False, axis=None, keepdims=None, dtype=None):
        return reductions.sum(self, dim, keepdim, axis, keepdims, dtype=dtype)

    def mean(self, dim=None, keepdim=False, axis=None, keepdims=None, dtype=None):
        return reductions.mean(self, dim, keepdim, axis, keepdims, dtype=dtype)

    def max(self, dim=None, keepdim=False):
        return reductions.max(self, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        return reductions.all(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return reductions.any(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False, axis=None):
        return reductions.argmax(self, dim if axis is None else axis, keepdim)

    def min(self, dim=None, keepdim=False):
        return reductions.min(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False, axis=None):
        return reductions.argmin(self, dim if axis is None else axis, keepdim)

    def cumsum(self, dim=None, axis=None, *, dtype=None):
        return reductions.cumsum(self, dim, axis, dtype=dtype)

    def norm(self, p="fro", dim=None, keepdim=False):
        return reductions.norm(self, p, dim, keepdim)

    # --- shape (fastnn/ops/shape.py) ------------------------------------------------------
    def reshape(self, *shape):
        return shape_ops.reshape(self, *shape)

    def view(self, *shape):
        if not shape:
            raise TypeError("view() received an invalid combination of arguments - got (), but "
                            "expected one of:\n * (torch.dtype dtype)\n * (tuple of ints size)\n")
        if len(shape) == 1 and isinstance(shape[0], (dtypes.dtype, type, np.dtype)):
            return _view_dtype(self, dtypes.to_dtype(shape[0]))
        return shape_ops.view(self, *shape)

    def view_as(self, other):
        return shape_ops.view(self, other.shape)

    def reshape_as(self, other):
        return shape_ops.reshape(self, other.shape)

    def expand(self, *sizes):
        return shape_ops.expand(self, *sizes)

    def expand_as(self, other):
        return shape_ops.expand(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return shape_ops.flatten(self, start_dim, end_dim)

    # --- reordering, repeating, splitting, selecting (fastnn/ops/manipulation.py) ---------
    def flip(self, *dims):
        return manipulation.flip(self, dims[0] if len(dims) == 1 else dims)

    def roll(self, shifts, dims=None):
        return manipulation.roll(self, shifts, dims)

    def repeat(self, *sizes):
        if not sizes:
            raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
        return manipulation.repeat(self, *sizes)

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        return manipulation.repeat_interleave(self, repeats, dim)

    def tile(self, *dims):
        return manipulation.tile(self, dims[0] if len(dims) == 1 else dims)

    def chunk(self, chunks, dim=0):
        return manipulation.chunk(self, chunks, dim)

    def split(self, split_size, dim=0):
        return manipulation.split(self, split_size, dim)

    def scatter(self, dim, index, src=None, value=None, *, reduce=None):
        from fastnn.ops import scatter
        return scatter.scatter(self, dim, index, src, value, reduce=reduce)

    def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
        """self[..., index[i][j], ...] = src[i][j] (or value) along dim, in place (the one-hot
        idiom zeros(10).scatter_(0, tensor(y), value=1)); recorded like any in-place op."""
        from fastnn.ops import scatter
        return inplace.apply(self, scatter.scatter, dim, index, src, value, reduce=reduce)

    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
        from fastnn.ops import scatter
        return scatter.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)

    def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
        from fastnn.ops import scatter
        return inplace.apply(self, scatter.scatter_reduce, dim, index, src, reduce,
                             include_self=include_self)

    def amax(self, dim=(), keepdim=False):
        return compositions.amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim=False):
        return compositions.amin(self, dim, keepdim)

    def ravel(self):
        return compositions.ravel(self)

    def broadcast_to(self, size):
        return compositions.broadcast_to(self, size)

    def movedim(self, source, destination):
        return compositions.movedim(self, source, destination)

    moveaxis = movedim

    # --- more torch.Tensor methods (fastnn/ops/logical_ops.py, diagonals.py, sampling.py,
    # more_elementwise.py) -------------------------------------------------------------------
    def maximum(self, other):
        return elementwise.maximum(self, other)

    def minimum(self, other):
        from fastnn import minimum
        return minimum(self, other)

    def where(self, condition, other):
        return elementwise.where(condition, self, other)

    def remainder(self, other):
        return arithmetic.remainder(self, other)

    def floor_divide(self, other):
        return arithmetic.floor_divide(self, other)

    def fmod(self, other):
        return more_elementwise.fmod(self, other)

    def frac(self):
        return more_elementwise.frac(self)

    def clamp_min(self, min):
        return more_elementwise.clamp_min(self, min)

    def clamp_max(self, max):
        return more_elementwise.clamp_max(self, max)

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        return more_elementwise.nan_to_num(self, nan, posinf, neginf)

    def logaddexp(self, other):
        return more_elementwise.logaddexp(self, other)

    def unflatten(self, dim, sizes):
        return more_elementwise.unflatten(self, dim, sizes)

    def logical_and(self, other):
        return logical_ops.logical_and(self, other)

    def logical_or(self, other):
        return logical_ops.logical_or(self, other)

    def logical_xor(self, other):
        return logical_ops.logical_xor(self, other)

    def logical_not(self):
        return logical_ops.logical_not(self)

    def count_nonzero(self, dim=None):
        return logical_ops.count_nonzero(self, dim)

    def argwhere(self):
        return logical_ops.argwhere(self)

    def diag(self, diagonal=0):
        return diagonals.diag(self, diagonal)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        return diagonals.diagonal(self, offset, dim1, dim2)

    def trace(self):
        return diagonals.trace(self)

    def det(self):
        from fastnn import linalg
        return linalg.det(self)

    def inverse(self):
        from fastnn import linalg
        return linalg.inv(self)

    # torch's top-level linear algebra as methods (fastnn/ops/legacy_linalg.py)
    def adjoint(self):
        from fastnn.ops import legacy_linalg
        return legacy_linalg.adjoint(self)

    def logdet(self):
        from fastnn.ops import legacy_linalg
        return legacy_linalg.logdet(self)

    def slogdet(self):
        from fastnn.ops import legacy_linalg
        return legacy_linalg.slogdet(self)

    def pinverse(self, rcond=1e-15):
        from fastnn.ops import legacy_linalg
        return legacy_linalg.pinverse(self, rcond)

    def matrix_exp(self):
        from fastnn.ops import legacy_linalg
        return legacy_linalg.matrix_exp(self)

    def cholesky(self, upper=False):
        from fastnn.ops import legacy_linalg
        return legacy_linalg.cholesky(self, upper)

    def cholesky_solve(self, input2, upper=False):
        from fastnn.ops import legacy_linalg
        return legacy_linalg.cholesky_solve(self, input2, upper)

    def cholesky_inverse(self, upper=False):
        from fastnn.ops import legacy_linalg
        return legacy_linalg.cholesky_inverse(self, upper)

    def triangular_solve(self, A, upper=True, transpose=False, unitriangular=False):
        from fastnn.ops import legacy_linalg
        return legacy_linalg.triangular_solve(self, A, upper, transpose, unitriangular)

    def qr(self, some=True):
        from fastnn.ops import legacy_linalg
        return legacy_linalg.qr(self, some)

    def addr(self, vec1, vec2, *, beta=1, alpha=1):
        from fastnn.ops import legacy_linalg
        return legacy_linalg.addr(self, vec1, vec2, beta=beta, alpha=alpha)

    def addr_(self, vec1, vec2, *, beta=1, alpha=1):
        from fastnn.ops import legacy_linalg
        return inplace.apply(self, lambda s: legacy_linalg.addr(s, vec1, vec2, beta=beta,
                                                                alpha=alpha))

    def lu(self, pivot=True, get_infos=False):
        from fastnn.linalg.lu import lu_legacy
        return lu_legacy(self, pivot, get_infos)

    def lu_solve(self, LU_data, LU_pivots):
        from fastnn.linalg.lu import lu_solve_legacy
        return lu_solve_legacy(self, LU_data, LU_pivots)

    def frexp(self):
        from fastnn.ops import signal_numerics
        return signal_numerics.frexp(self)

    def absolute(self):
        return self.abs()

    def absolute_(self):
        return self.abs_()

    def histogram(self, bins=100, *, range=None, weight=None, density=False):
        from fastnn.ops import signal_numerics
        return signal_numerics.histogram(self, bins, range=range, weight=weight,
                                         density=density)

    def masked_select(self, mask):
        return diagonals.masked_select(self, mask)

    def bernoulli(self, p=None, *, generator=None):
        return sampling.bernoulli(self, p, generator=generator)

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        return sampling.multinomial(self, num_samples, replacement, generator=generator)

    def bernoulli_(self, p=0.5, *, generator=None):
        """Fills self with draws of 1 with probability p (a number or a tensor), in place."""
        probs = np.broadcast_to(p._data, self._data.shape) if isinstance(p, Tensor) else p
        draws = sampling.bernoulli_draws(sampling.random.rng(generator), self._data.shape, probs)
        self._data[...] = draws
        self._version[0] += 1
        return self

    def lerp_(self, end, weight):
        return self.copy_(selecting.lerp(self, end, weight))

    # --- scans, order statistics, products and index ops (fastnn/ops/scans.py,
    # order_statistics.py, products.py, indexing_ops.py) ---------------------------------------
    def cumprod(self, dim, *, dtype=None):
        return scans.cumprod(self, dim, dtype=dtype)

    def cummax(self, dim):
        return scans.cummax(self, dim)

    def cummin(self, dim):
        return scans.cummin(self, dim)

    def diff(self, n=1, dim=-1, prepend=None, append=None):
        return scans.diff(self, n, dim, prepend, append)

    def kthvalue(self, k, dim=-1, keepdim=False):
        return order_statistics.kthvalue(self, k, dim, keepdim)

    def median(self, dim=None, keepdim=False):
        return order_statistics.median(self, dim, keepdim)

    def nanmedian(self, dim=None, keepdim=False):
        return order_statistics.nanmedian(self, dim, keepdim)

    def quantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return order_statistics.quantile(self, q, dim, keepdim, interpolation=interpolation)

    def nansum(self, dim=None, keepdim=False, *, dtype=None):
        return order_statistics.nansum(self, dim, keepdim, dtype=dtype)

    def nanmean(self, dim=None, keepdim=False, *, dtype=None):
        return order_statistics.nanmean(self, dim, keepdim, dtype=dtype)

    def histc(self, bins=100, min=0, max=0):
        return order_statistics.histc(self, bins, min, max)

    def cross(self, other, dim=None):
        return products.cross(self, other, dim)

    def kron(self, other):
        return products.kron(self, other)

    def atan2(self, other):
        return products.atan2(self, other)

    arctan2 = atan2

    def scatter_add(self, dim, index, src):
        return indexing_ops.scatter_add(self, dim, index, src)

    def scatter_add_(self, dim, index, src):
        return inplace.apply(self, indexing_ops.scatter_add, dim, index, src)

    def index_add(self, dim, index, source, *, alpha=1):
        return indexing_ops.index_add(self, dim, index, source, alpha=alpha)

    def index_add_(self, dim, index, source, *, alpha=1):
        return inplace.apply(self, indexing_ops.index_add, dim, index, source, alpha=alpha)

    def index_fill(self, dim, index, value):
        return indexing_ops.index_fill(self, dim, index, value)

    def index_fill_(self, dim, index, value):
        return inplace.apply(self, indexing_ops.index_fill, dim, index, value)

    def take_along_dim(self, indices, dim=None):
        return indexing_ops.take_along_dim(self, indices, dim)

    def tensor_split(self, indices_or_sections, dim=0):
        return indexing_ops.tensor_split(self, indices_or_sections, dim)

    def rot90(self, k=1, dims=(0, 1)):
        return indexing_ops.rot90(self, k, dims)

    def erfinv(self):
        return unary_math.erfinv(self)

    def erfinv_(self):
        return inplace.apply(self, unary_math.erfinv, needs_old=True)

    def heaviside(self, values):
        return more_elementwise.heaviside(self, values)

    def bitwise_and(self, other):
        return logical_ops.bitwise_and(self, other)

    def bitwise_or(self, other):
        return logical_ops.bitwise_or(self, other)

    def bitwise_xor(self, other):
        return logical_ops.bitwise_xor(self, other)

    def bitwise_not(self):
        return logical_ops.bitwise_not(self)

    def svd(self, some=True, compute_uv=True):
        from fastnn import linalg
        return linalg.svd_legacy(self, some, compute_uv)

    def is_nonzero(self):
        if self.numel() != 1:
            which = "no values" if self.numel() == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {which} is ambiguous")
        return bool(self._data.reshape(-1)[0])

    def fill_diagonal_(self, fill_value, wrap=False):
        """Not recorded in the graph: refused on tensors that require grad."""
        if self.requires_grad and grad_mode.is_grad_enabled():
            raise RuntimeError("fill_diagonal_ on a tensor that requires grad is not supported "
                               "by fastnn")
        if self.ndim < 2:
            raise RuntimeError("dimensions must larger than 1")
        np.fill_diagonal(self._data, fill_value, wrap=wrap)
        self._version[0] += 1
        return self

    def random_(self, from_=0, to=None, *, generator=None):
        """Integers drawn uniformly from [from, to) (to = from_ alone when given once); with
        no bounds, torch's full range: [0, 2^mantissa digits] for floats, [0, max] for
        integers. torch's draws, so a seed gives torch's values."""
        from fastnn import random
        rng = random.rng(generator)
        low, high = (0, from_) if to is None and from_ else (from_, to)
        if high is not None:
            values = rng.randint_values(low, high, self._data.shape)
        else:
            values = rng.full_range_values(self._data.shape, self.dtype.name)
        return inplace.apply(self, inplace.CopyFrom.apply, values.astype(self._data.dtype))

    def exponential_(self, lambd=1.0, *, generator=None):
        """-1/lambd log1p(-u), u a uniform double: torch's recipe and draws."""
        from fastnn import random
        if not self.dtype.is_floating_point:
            raise RuntimeError("Exponential distribution is a continuous probability "
                               "distribution. dtype must be a floating point but you "
                               f"specified {self.dtype.title}")
        if not lambd > 0.0:
            raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
        values = random.rng(generator).exponential_values(self._data.shape, lambd)
        return inplace.apply(self, inplace.CopyFrom.apply, values.astype(self._data.dtype))

    def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
        """median + sigma tan(pi (u - 1/2)), u a uniform double: torch's recipe and draws."""
        from fastnn import random
        if not self.dtype.is_floating_point:
            raise RuntimeError("Cauchy distribution is a continuous probability distribution. "
                               f"dtype must be a floating point but you specified "
                               f"{self.dtype.c_type}")
        if not sigma > 0.0:
            raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
        values = random.rng(generator).cauchy_values(self._data.shape, median, sigma)
        return inplace.apply(self, inplace.CopyFrom.apply, values.astype(self._data.dtype))

    def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
        """exp of N(mean, std) drawn one double at a time, as torch's serial kernel."""
        from fastnn import random
        if not self.dtype.is_floating_point:
            raise NotImplementedError(f"\"log_normal_cpu\" not implemented for "
                                      f"'{self.dtype.title}'")
        if not std > 0.0:
            raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
        values = random.rng(generator).log_normal_values(self._data.shape, mean, std)
        return inplace.apply(self, inplace.CopyFrom.apply, values.astype(self._data.dtype))

    def geometric_(self, p, *, generator=None):
        """Trials until the first success: ceil(log u / log(1 - p)), u a uniform double."""
        from fastnn import random
        if not 0 < p < 1:
            raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
        u = random.rng(generator).double_values(self._data.shape)
        values = np.ceil(np.log(u) / np.log1p(-p))
        return inplace.apply(self, inplace.CopyFrom.apply, values.astype(self._data.dtype))

    # --- smaller torch.Tensor methods (fastnn/ops/misc_functions.py) -----------------------
    def deg2rad(self):
        return misc_functions.deg2rad(self)

    def rad2deg(self):
        return misc_functions.rad2deg(self)

    def signbit(self):
        return misc_functions.signbit(self)

    def sgn(self):
        return misc_functions.sgn(self)

    def positive(self):
        return misc_functions.positive(self)

    def isposinf(self):
        return misc_functions.isposinf(self)

    def isneginf(self):
        return misc_functions.isneginf(self)

    def isreal(self):
        return misc_functions.isreal(self)

    def flipud(self):
        return misc_functions.flipud(self)

    def fliplr(self):
        return misc_functions.fliplr(self)

    def msort(self):
        return misc_functions.msort(self)

    def lgamma(self):
        return misc_functions.lgamma(self)

    def digamma(self):
        from fastnn.ops.gamma_functions import digamma
        return digamma(self)

    def polygamma(self, n):
        from fastnn.ops.gamma_functions import polygamma
        return polygamma(n, self)

    def igamma(self, other):
        from fastnn.ops.incomplete_gamma import igamma
        return igamma(self, other)

    def igammac(self, other):
        from fastnn.ops.incomplete_gamma import igammac
        return igammac(self, other)

    def mvlgamma(self, p):
        from fastnn.ops.gamma_functions import mvlgamma
        return mvlgamma(self, p)

    def lgamma_(self):
        return inplace.apply(self, misc_functions.lgamma, needs_old=True)

    def digamma_(self):
        return inplace.apply(self, Tensor.digamma, needs_old=True)

    def apply_(self, callable):
        """torch's CPU-only elementwise apply_: callable on each value, in place (no graph,
        as torch refuses it on tensors that require grad)."""
        if self.requires_grad and grad_mode.is_grad_enabled():
            raise RuntimeError("apply_ is only implemented on CPU tensors that do not require "
                               "grad")
        values = [callable(v) for v in self._data.reshape(-1).tolist()]
        np.copyto(self._data, np.asarray(values).reshape(self.shape), casting="unsafe")
        inplace._bump(self)
        return self

    def map_(self, tensor, callable):
        if self.requires_grad and grad_mode.is_grad_enabled():
            raise RuntimeError("map_ is only implemented on CPU tensors that do not require grad")
        other = np.broadcast_to(_raw(tensor), self.shape).reshape(-1).tolist()
        values = [callable(a, b) for a, b in zip(self._data.reshape(-1).tolist(), other)]
        np.copyto(self._data, np.asarray(values).reshape(self.shape), casting="unsafe")
        inplace._bump(self)
        return self

    @property
    def H(self):
        """The conjugate transpose of a matrix."""
        if self.ndim not in (0, 2):
            raise RuntimeError("tensor.H is only supported on matrices (2-D tensors). Got "
                               f"{self.ndim}-D tensor."
                               + (" For batches of matrices, consider using tensor.mH"
                                  if self.ndim > 2 else ""))
        return self.t().conj()

    @property
    def mH(self):
        """The conjugate transpose of each matrix of a batch."""
        return _matrices(self, "mH").conj()

    def diagflat(self):
        return misc_functions.diagflat(self)

    def corrcoef(self):
        return misc_functions.corrcoef(self)

    def hypot(self, other):
        return misc_functions.hypot(self, other)

    def copysign(self, other):
        return misc_functions.copysign(self, other)

    def xlogy(self, other):
        return misc_functions.xlogy(self, other)

    def fmax(self, other):
        return misc_functions.fmax(self, other)

    def fmin(self, other):
        return misc_functions.fmin(self, other)

    def float_power(self, other):
        return misc_functions.float_power(self, other)

    def ldexp(self, other):
        return misc_functions.ldexp(self, other)

    def inner(self, other):
        return misc_functions.inner(self, other)

    def vdot(self, other):
        return misc_functions.vdot(self, other)

    def dist(self, other, p=2):
        return misc_functions.dist(self, other, p)

    def logaddexp2(self, other):
        return misc_functions.logaddexp2(self, other)

    def logit(self, eps=None):
        return misc_functions.logit(self, eps)

    def logcumsumexp(self, dim):
        return misc_functions.logcumsumexp(self, dim)

    def hsplit(self, sections):
        return misc_functions.hsplit(self, sections)

    def vsplit(self, sections):
        return misc_functions.vsplit(self, sections)

    def dsplit(self, sections):
        return misc_functions.dsplit(self, sections)

    def renorm(self, p, dim, maxnorm):
        return misc_functions.renorm(self, p, dim, maxnorm)

    def unique_consecutive(self, return_inverse=False, return_counts=False, dim=None):
        return misc_functions.unique_consecutive(self, return_inverse, return_counts, dim)

    def aminmax(self, *, dim=None, keepdim=False):
        return misc_functions.aminmax(self, dim=dim, keepdim=keepdim)

    def matrix_power(self, n):
        return misc_functions.matrix_power(self, n)

    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        return misc_functions.diag_embed(self, offset, dim1, dim2)

    def cov(self, *, correction=1, fweights=None, aweights=None):
        return misc_functions.cov(self, correction=correction, fweights=fweights,
                                  aweights=aweights)

    def mode(self, dim=-1, keepdim=False):
        return misc_functions.mode(self, dim, keepdim)

    def nanquantile(self, q, dim=None, keepdim=False, *, interpolation="linear"):
        return misc_functions.nanquantile(self, q, dim, keepdim, interpolation=interpolation)

    def take(self, index):
        return misc_functions.take(self, index)

    def sum_to_size(self, *size):
        return misc_functions.sum_to_size(self, *size)

    def unfold(self, dimension, size, step):
        return misc_functions.unfold(self, dimension, size, step)

    def addcmul(self, tensor1, tensor2, *, value=1):
        return products.addcmul(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1, tensor2, *, value=1):
        return products.addcdiv(self, tensor1, tensor2, value=value)

    def addmm_(self, mat1, mat2, *, beta=1, alpha=1):
        return inplace.apply(self, selecting.addmm, mat1, mat2, beta=beta, alpha=alpha)

    def baddbmm_(self, batch1, batch2, *, beta=1, alpha=1):
        return inplace.apply(self, selecting.baddbmm, batch1, batch2, beta=beta, alpha=alpha)

    def cumsum_(self, dim):
        return inplace.apply(self, reductions.cumsum, dim)

    def cumprod_(self, dim):
        return inplace.apply(self, scans.cumprod, dim, needs_old=True)

    def tril_(self, diagonal=0):
        return inplace.apply(self, selecting.tril, diagonal)

    def triu_(self, diagonal=0):
        return inplace.apply(self, selecting.triu, diagonal)

    def is_signed(self):
        return self._data.dtype.kind in "fi" or self._data.dtype.kind == "V"

    def is_same_size(self, other):
        return tuple(self.shape) == tuple(other.shape)

    def greater(self, other):
        return self > other

    def greater_equal(self, other):
        return self >= other

    def less(self, other):
        return self < other

    def less_equal(self, other):
        return self <= other

    def not_equal(self, other):
        return self != other

    def fix(self):
        return rounding.trunc(self)

    def ger(self, vec2):
        return linalg.outer(self, vec2)

    def select(self, dim, index):
        return selecting.select(self, dim, index)

    def narrow(self, dim, start, length):
        return selecting.narrow(self, dim, start, length)

    def unbind(self, dim=0):
        return selecting.unbind(self, dim)

    def triu(self, diagonal=0):
        return selecting.triu(self, diagonal)

    def tril(self, diagonal=0):
        return selecting.tril(self, diagonal)

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return selecting.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        return selecting.addmv(self, mat, vec, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return selecting.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def lerp(self, end, weight):
        return selecting.lerp(self, end, weight)

    def index_select(self, dim, index):
        return manipulation.index_select(self, dim, index)

    def gather(self, dim, index):
        return manipulation.gather(self, dim, index)

    def sort(self, dim=-1, descending=False, stable=False):
        return manipulation.sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return manipulation.argsort(self, dim, descending, stable)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return manipulation.topk(self, k, dim, largest, sorted)

    def nonzero(self, as_tuple=False):
        return manipulation.nonzero(self, as_tuple)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        return manipulation.unique(self, sorted, return_inverse, return_counts, dim)

    def bincount(self, weights=None, minlength=0):
        return manipulation.bincount(self, weights, minlength)

    # --- rounding and elementwise tests (fastnn/ops/rounding.py) ---------------------------
    def floor(self):
        return rounding.floor(self)

    def ceil(self):
        return rounding.ceil(self)

    def round(self, decimals=0):
        return rounding.round(self, decimals)

    def trunc(self):
        return rounding.trunc(self)

    def isnan(self):
        return rounding.isnan(self)

    def isinf(self):
        return rounding.isinf(self)

    def isfinite(self):
        return rounding.isfinite(self)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return rounding.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return rounding.allclose(self, other, rtol, atol, equal_nan)

    # --- statistics (fastnn/ops/statistics.py) ---------------------------------------------
    def prod(self, dim=None, keepdim=False, dtype=None):
        return statistics.prod(self, dim, keepdim, dtype)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return statistics.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return statistics.std(self, dim, unbiased, keepdim, correction=correction)

    def logsumexp(self, dim, keepdim=False):
        return statistics.logsumexp(self, dim, keepdim)

    def outer(self, vec2):
        return linalg.outer(self, vec2)

    def bmm(self, mat2):
        return linalg.bmm(self, mat2)

    def transpose(self, dim0, dim1):
        return shape_ops.transpose(self, dim0, dim1)

    swapaxes = swapdims = transpose

    def permute(self, *dims):
        return shape_ops.permute(self, shape_ops._shape_arg(dims))

    def squeeze(self, dim=None, *dims):
        # x.squeeze(0, 2) is x.squeeze((0, 2)) on the method, as torch's
        return shape_ops.squeeze(self, (dim,) + dims if dims else dim)

    def unsqueeze(self, dim):
        return shape_ops.unsqueeze(self, dim)

    def t(self):
        if self._data.ndim > 2:
            raise RuntimeError("t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self._data.ndim}D")
        return shape_ops.T.apply(self, (1, 0)) if self._data.ndim == 2 else self

    @property
    def T(self):
        global _WARNED_T
        if self._data.ndim != 2 and not _WARNED_T:  # torch warns once per process
            _WARNED_T = True
            import warnings
            warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their "
                          "shape is deprecated and it will throw an error in a future release. "
                          "Consider `x.mT` to transpose batches of matrices or "
                          "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the "
                          "dimensions of a tensor.", UserWarning, stacklevel=2)
        return shape_ops.permute(self, tuple(reversed(range(self._data.ndim))))

    @property
    def mT(self):
        return _matrices(self, "mT")

    def __getitem__(self, index):
        return shape_ops.getitem(self, index)


def _matrices(t, name):
    """t with its last two dims swapped (tensor.mT), after torch's check that there are two."""
    if t._data.ndim < 2:
        raise RuntimeError(f"tensor.{name} is only supported on matrices or batches of matrices. "
                           f"Got {t._data.ndim}-D tensor.")
    return shape_ops.transpose(t, -2, -1)


def _init(t, array, requires_grad, node):
    t._data = array
    t._grad = None
    t.requires_grad = requires_grad
    t._node = node
    t._version = [0]
    t._base = None
    t._view_fn = None
    t._view_version = 0
    t._retains_grad = False
    t._hooks = None
    t._post_accumulate_hooks = None


def _rebuild(array, requires_grad, cls=None):
    t = Tensor._wrap(array)
    if cls is not None and cls is not Tensor:
        t.__class__ = cls  # a Parameter stays a Parameter (torch pickles it so)
    t.requires_grad = requires_grad
    return t


def _view_dtype(t, dtype):
    """view(dtype): the same bytes read as another dtype of the same size, as torch's."""
    if dtype.itemsize != t._data.itemsize:
        raise RuntimeError("fastnn supports view(dtype) between dtypes of the same size only "
                           f"({t.dtype!r} is {t._data.itemsize} bytes, {dtype!r} "
                           f"{dtype.itemsize})")
    out = Tensor._wrap(t._data.view(dtype.numpy))
    out._version = t._version
    return out


class Size(tuple):
    """torch.Size: a tuple of ints that prints like torch's."""

    def __repr__(self):
        return f"fastnn.Size([{', '.join(map(str, self))}])"

    def numel(self):
        return int(np.prod(self, dtype=np.int64))

    def __getitem__(self, index):
        # x.shape[1:] is a Size in torch, and so are the sums and products below
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __mul__(self, times):
        return Size(tuple.__mul__(self, times))

    __rmul__ = __mul__


def _raw(value):
    return value._data if isinstance(value, Tensor) else value


# The op modules import Tensor from here, so they are imported after the class exists.
from fastnn.ops import activation, arithmetic, elementwise, inplace, linalg, logical  # noqa: E402
from fastnn.ops import manipulation, reductions, rounding, selecting, statistics  # noqa: E402
from fastnn.ops import compositions, diagonals, logical_ops, more_elementwise  # noqa: E402
from fastnn.ops import indexing_ops, order_statistics, products, sampling, scans  # noqa: E402
from fastnn.ops import misc_functions, unary_math  # noqa: E402
from fastnn.ops import shape as shape_ops  # noqa: E402
from fastnn.autograd import engine  # noqa: E402  (an import per backward() cost 0.5 us)


# Named as torch names them (type(x) prints <class 'fastnn.Tensor'>, as torch's
# <class 'torch.Tensor'>); pickle finds both classes under these names too.
Tensor.__module__ = Size.__module__ = "fastnn"
