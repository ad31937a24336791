"""The meta device: tensors with a shape, a dtype and autograd state but no data, as torch's
device="meta". Programs use it to see a network's shapes without computing them (the
"Reasoning about Shapes" recipe) and to build a module before loading its checkpoint with
load_state_dict(assign=True) or to_empty() (the "Tips for loading an nn.Module" recipe).

A meta tensor's array is a MetaArray: a zero-strided view of one element, so it holds a shape
of any size in no memory. Every op on it computes only its result's shape and dtype:
- NumPy ufuncs (the elementwise ops, matmul and reductions) through __array_ufunc__;
- ops with a kernel declare `meta_forward` (convolution, pooling), run by Function.apply;
- any other op runs on zeros of the inputs' shapes when they are small (META_MATERIALIZE
  elements), and raises NotImplementedError, naming the op, when they are not.
Writes into a meta array (in-place ops, initialisers, copy_) do nothing, as torch's."""
import numpy as np

# Inputs up to this many elements in all may be run on real zeros to learn an op's output
# shape (an op with no shape rule); larger ones raise instead of allocating.
META_MATERIALIZE = 1 << 22


class _Created:
    """Whether any meta tensor was made in this process: until then Function.apply does not
    look for one (autograd/function.py's _extras)."""
    any = False

    def mark(self):
        if not self.any:
            self.any = True
            from fastnn import meta_rules
            from fastnn.autograd.function import _extras
            meta_rules.attach()
            _extras.update()


created = _Created()


class MetaArray(np.ndarray):
    """A data-less array: shape, strides of zero and dtype only."""

    def __array_finalize__(self, obj):
        pass

    def __setitem__(self, key, value):
        pass  # a write into a meta tensor does nothing

    def fill(self, value):
        pass

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        return meta_array(self.shape, dtype)

    def copy(self, order="C"):
        return meta_array(self.shape, self.dtype)

    def tolist(self):
        raise NotImplementedError("Cannot copy out of meta tensor; no data!")

    def item(self, *args):
        raise RuntimeError("Tensor.item() cannot be called on meta tensors")

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        if out is not None:  # writing into a meta array: nothing to write
            return out[0] if len(out) == 1 else out
        if method == "at":
            return None
        proxies = [_proxy(a) for a in inputs]
        if method == "__call__":
            shapes = [np.shape(a) for a in inputs]
            shape = matmul_shape(*shapes) if ufunc is np.matmul else np.broadcast_shapes(*shapes)
            result = ufunc(*proxies, **kwargs)
        elif method in ("reduce", "accumulate"):
            axis = kwargs.get("axis", 0)
            result = getattr(ufunc, method)(*proxies, **kwargs)
            shape = _reduced_shape(np.shape(inputs[0]), axis, kwargs.get("keepdims", False)) \
                if method == "reduce" else np.shape(inputs[0])
        else:
            return _materialized(getattr(ufunc, method), inputs, kwargs)
        if isinstance(result, tuple):
            return tuple(meta_array(shape, r.dtype) for r in result)
        return meta_array(shape, np.asarray(result).dtype)

    def __array_function__(self, func, types, args, kwargs):
        if func in _SAME:
            source = args[0]
            dtype = kwargs.get("dtype") or (args[1] if len(args) > 1 and func is np.require
                                            else None)
            return meta_array(np.shape(source), dtype or source.dtype)
        if func in _LIKE:
            source = args[0]
            shape = kwargs.get("shape") or np.shape(source)
            return meta_array(shape, kwargs.get("dtype") or source.dtype)
        if func in _WRITES:
            return None
        if func in _SHAPE_ONLY:
            return func(*_plain(args), **_plain(kwargs))
        rule = _FUNCTION_RULES.get(func)
        if rule is not None:
            return rule(*args, **kwargs)
        if func in _OVER_UFUNCS:  # NumPy's Python code over ufuncs and views: shapes only
            return _as_meta_result(func._implementation(*args, **kwargs))
        return _materialized(func._implementation, args, kwargs)


# (np.asarray, np.ascontiguousarray and np.array are C functions NumPy does not dispatch: on
# a meta array they give a plain zero-strided view or copy, which the kernels' contiguity
# checks refuse, and run_forward then takes its other routes)
_SAME = {np.copy, np.require}
_LIKE = {np.empty_like, np.zeros_like, np.ones_like, np.full_like}
_WRITES = {np.copyto, np.put, np.place, np.putmask}
_SHAPE_ONLY = {np.shape, np.ndim, np.size, np.result_type, np.may_share_memory,
               np.shares_memory, np.broadcast_shapes, np.iscomplexobj, np.isrealobj}


# NumPy functions written in Python over ufunc reductions and views: run as they are, the
# ufuncs inside compute shapes only (__array_ufunc__)
_OVER_UFUNCS = {np.sum, np.mean, np.prod, np.max, np.min, np.amax, np.amin, np.any, np.all,
                np.var, np.std, np.transpose, np.reshape, np.moveaxis, np.swapaxes,
                np.expand_dims, np.squeeze, np.ravel, np.atleast_1d, np.atleast_2d,
                np.atleast_3d, np.clip, np.around, np.round, np.diagonal, np.trace}


def _concatenate(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    arrays = list(arrays)
    if axis is None:
        arrays, axis = [np.reshape(a, -1) for a in arrays], 0
    first = np.shape(arrays[0])
    axis = axis % len(first)
    for a in arrays[1:]:
        other = np.shape(a)
        if len(other) != len(first) or any(x != y for i, (x, y) in enumerate(zip(first, other))
                                           if i != axis):
            raise ValueError("all the input array dimensions except for the concatenation "
                             "axis must match exactly")
    shape = first[:axis] + (sum(np.shape(a)[axis] for a in arrays),) + first[axis + 1:]
    return meta_array(shape, dtype or np.result_type(*arrays))


def _stack(arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    arrays = [np.expand_dims(a, axis) for a in arrays]
    return _concatenate(arrays, axis, dtype=dtype)


def _where(condition, *values):
    if not values:
        return _materialized(np.nonzero, (condition,), {})
    shape = np.broadcast_shapes(*(np.shape(v) for v in (condition,) + values))
    return meta_array(shape, np.result_type(*(_proxy(v) for v in values)))


def _broadcast_to(array, shape, subok=False):
    np.broadcast_shapes(np.shape(array), tuple(shape))  # NumPy's error when they do not fit
    return meta_array(shape, np.asarray(_proxy(array)).dtype)


def _accumulated(a, axis=None, dtype=None, out=None):
    """np.cumsum / np.cumprod: the input's shape (flattened without an axis), NumPy's dtype."""
    if dtype is None:
        dtype = np.cumsum(np.zeros(1, np.asarray(_proxy(a)).dtype)).dtype
    return meta_array(np.shape(a) if axis is not None else (np.size(a),), dtype)


_FUNCTION_RULES = {np.concatenate: _concatenate, np.stack: _stack, np.where: _where,
                   np.broadcast_to: _broadcast_to, np.cumsum: _accumulated,
                   np.cumprod: _accumulated}


def meta_array(shape, dtype):
    """A MetaArray of this shape and dtype (no memory beyond one element)."""
    created.mark()
    one = np.zeros((), dtype=dtype)
    return np.lib.stride_tricks.as_strided(one, shape=tuple(int(s) for s in shape),
                                           strides=(0,) * len(shape),
                                           writeable=False).view(MetaArray)


def is_meta(array):
    return type(array) is MetaArray


def to_meta(array):
    return array if type(array) is MetaArray else meta_array(np.shape(array), array.dtype)


def _proxy(a):
    """A one-element stand-in of an array input (same dimensions and dtype) for dtype rules."""
    if isinstance(a, np.ndarray):
        return np.zeros((1,) * a.ndim, dtype=a.dtype)
    return a


def _map_meta(value, leaf):
    """value with leaf(a) in place of each MetaArray a inside its tuples, lists and dicts."""
    if type(value) is MetaArray:
        return leaf(value)
    if isinstance(value, (tuple, list)):
        items = [_map_meta(v, leaf) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    if isinstance(value, dict):
        return {k: _map_meta(v, leaf) for k, v in value.items()}
    return value


def _plain(value):
    return _map_meta(value, lambda a: a.view(np.ndarray))


def _materialize(value):
    return _map_meta(value, lambda a: np.zeros(a.shape, a.dtype))


def _meta_size(value):
    sizes = []
    _map_meta(value, lambda a: sizes.append(a.size))
    return sum(sizes)


def matmul_shape(a, b):
    """np.matmul's result shape for operands of shapes a and b, with its errors."""
    if not a or not b:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ValueError(f"matmul: Input operand 1 has a mismatch in its core dimension 0, "
                         f"with gufunc signature (n?,k),(k,m?)->(n?,m?) (size {b2[-2]} is "
                         f"different from {a2[-1]})")
    shape = np.broadcast_shapes(a2[:-2], b2[:-2]) + (a2[-2], b2[-1])
    if len(a) == 1:
        shape = shape[:-2] + shape[-1:]
    if len(b) == 1:
        shape = shape[:-1]
    return shape


def _reduced_shape(shape, axis, keepdims):
    if axis is None:
        axes = set(range(len(shape)))
    else:
        axes = {a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}
    if keepdims:
        return tuple(1 if i in axes else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def too_large(name):
    return NotImplementedError(
        f"fastnn: {name} has no shape rule for the meta device, and its inputs are too large "
        f"to run on zeros (over {META_MATERIALIZE} elements)")


def _materialized(func, args, kwargs):
    """func run on the meta arrays' one zero seen as plain arrays (small inputs only), its
    array results made meta."""
    if _meta_size(args) + _meta_size(kwargs) > META_MATERIALIZE:
        raise too_large(getattr(func, "__name__", str(func)))
    with np.errstate(all="ignore"):
        result = func(*_plain(args), **_plain(kwargs))
    return _as_meta_result(result)


def _as_meta_result(result):
    if isinstance(result, np.ndarray):
        return to_meta(result)
    if isinstance(result, tuple):
        return tuple(_as_meta_result(r) for r in result)
    if isinstance(result, list):
        return [_as_meta_result(r) for r in result]
    return result


def run_forward(cls, ctx, raw, kwargs):
    """Function.apply's forward when an input is meta: the op's shape rule when it has one,
    else the forward itself on the meta arrays (NumPy-level ops), else on zeros. The node's
    backward then gives meta gradients of the inputs' shapes (meta_gradients)."""
    ctx.meta_inputs = tuple((np.shape(a), a.dtype) if isinstance(a, np.ndarray) else None
                            for a in raw)
    rule = getattr(cls, "meta_forward", None)
    if rule is not None:
        return rule(ctx, *raw, **kwargs)
    try:
        with np.errstate(all="ignore"):
            return _as_meta_result(cls.forward(ctx, *raw, **kwargs))
    except NotImplementedError:
        raise
    except Exception:
        if _meta_size(raw) + _meta_size(kwargs) > META_MATERIALIZE:
            raise too_large(cls.__name__) from None
    with np.errstate(all="ignore"):
        return _as_meta_result(cls.forward(ctx, *_materialize(raw), **_materialize(kwargs)))


def meta_gradients(ctx):
    """The input gradients of a node whose forward ran on meta tensors: meta arrays of the
    inputs' shapes and dtypes where a gradient is needed."""
    return tuple(meta_array(*spec) if spec is not None and need else None
                 for spec, need in zip(ctx.meta_inputs, ctx.needs_input_grad))


def any_meta(raw):
    for a in raw:
        if type(a) is MetaArray:
            return True
    return False


def tensor_repr(t, suffixes):
    """torch's printing of a meta tensor: tensor(..., device='meta', size=(2, 3), ...)."""
    from fastnn import dtypes, printing
    parts = ["device='meta'", f"size={tuple(t._data.shape)}"]
    d = t.dtype
    if d is not dtypes.get_default_dtype():
        parts.append(f"dtype={d!r}")
    return printing.with_suffixes("tensor(...", parts + suffixes, len("tensor("))
