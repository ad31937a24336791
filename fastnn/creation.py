"""Tensor creation with torch's signatures: sizes as varargs, a tuple or size=; dtype=,
device=, requires_grad=, generator= and out= where torch has them; torch's dtype inference
(Python floats -> the default dtype, ints -> int64, NumPy arrays keep theirs)."""
import math

import numpy as np

from fastnn import dtypes, memory_formats, random, scalar_range
from fastnn.device import META, target as target_device
from fastnn.meta import meta_array, to_meta
from fastnn.tensor import Size, Tensor
from fastnn.torch_stream import precision


def _size(size, kwargs_size=None):
    if kwargs_size is not None:
        if size:
            raise TypeError("pass the size either as arguments or as size=, not both")
        size = (kwargs_size,)
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = tuple(size[0])
    elif len(size) == 1 and isinstance(size[0], Tensor):
        size = tuple(size[0].tolist()) if size[0].ndim else (int(size[0]),)
    out = []
    for s in size:
        if isinstance(s, (float, bool)) or not isinstance(s, (int, np.integer, Tensor)):
            raise TypeError(f"size must be a tuple of ints, but got {type(s).__name__}")
        s = int(s)
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{[int(x) for x in size]}")
        out.append(s)
    return tuple(out)


def _finish(array, requires_grad, device=None, out=None):
    if target_device(device) is META:
        array = to_meta(array)
    t = Tensor._wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    if out is not None:
        from fastnn.ops.arithmetic import _out
        return _out(t, out)
    return t


def _float_dtype(dtype):
    return dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of `data` (float -> default dtype, int -> int64)."""
    if isinstance(data, Tensor):
        data = data._data
    elif isinstance(data, (list, tuple)):
        data, inferred = _unwrap_list(data)
        dtype = inferred if dtype is None else dtype
    return _finish(dtypes.as_array(data, dtype, copy=True), requires_grad, device)


def _unwrap_list(items):
    """torch's reading of nested data: the shape comes from lists, tuples and arrays only,
    so a tensor where a number belongs stands for its one element (`item()`), while a
    tensor in a deeper position is read as the sequence of its rows. Returns the nested
    data and, when it holds tensors or arrays, the dtype torch infers: the promotion of
    every element's type (a Python float counts as the default dtype, an int as int64)."""
    sizes, first = [], items
    while isinstance(first, (list, tuple, np.ndarray)):
        if isinstance(first, np.ndarray):
            sizes.extend(first.shape)
            break
        sizes.append(len(first))
        if not first:
            break
        first = first[0]
    found = set()  # the element dtypes seen; "array" marks a tensor or array among them
    data = _unwrap(items, 0, sizes, found)
    if "array" not in found:
        return data, None  # plain Python numbers: NumPy's reading matches torch's
    inferred = None
    for t in found - {"array", None}:
        inferred = t if inferred is None else dtypes.promote_types(inferred, t)
    return data, inferred


_PY_NUMBERS = {bool: lambda: dtypes.bool_, int: lambda: dtypes.int64,
               float: dtypes.get_default_dtype}


def _leaf_dtype(obj):
    for kind in (bool, int, float):
        if isinstance(obj, kind):
            return _PY_NUMBERS[kind]()
    return None


def _unwrap(obj, dim, sizes, found):
    if dim < len(sizes):
        if isinstance(obj, Tensor):
            if obj.ndim and obj.shape[0] != sizes[dim]:
                raise ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} "
                                 f"(got {obj.shape[0]})")
            found.update((obj.dtype, "array"))
            return obj._data
        if isinstance(obj, np.ndarray):
            found.update((dtypes._infer(obj, False), "array"))
            return obj
        if not isinstance(obj, (list, tuple)):
            raise TypeError("not a sequence")
        if len(obj) != sizes[dim]:
            raise ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} "
                             f"(got {len(obj)})")
        if dim == len(sizes) - 1:
            types = set(map(type, obj))
            if types <= _PY_NUMBERS.keys():  # the common case, kept at C speed
                found.update(_PY_NUMBERS[t]() for t in types)
                return obj
        return [_unwrap(item, dim + 1, sizes, found) for item in obj]
    if isinstance(obj, Tensor):
        if obj.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        found.update((obj.dtype, "array"))
        return obj._data.reshape(())
    if isinstance(obj, (list, tuple)):
        raise TypeError(f"must be real number, not {type(obj).__name__}")
    if isinstance(obj, np.generic):
        found.update((dtypes._infer(np.asarray(obj), False), "array"))
    else:
        found.add(_leaf_dtype(obj))
    return obj


def as_tensor(data, dtype=None, device=None):
    """Shares memory with `data` where it can (a Tensor or NumPy array of the right dtype)."""
    if isinstance(data, Tensor):
        return data if dtype is None else data._cast(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or dtypes.to_dtype(dtype).numpy ==
                                         data.dtype):
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(array):
    """A tensor sharing memory with `array` (any dtype torch supports)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    dtypes.to_dtype(array.dtype)  # raises torch's message for unsupported dtypes
    return Tensor._wrap(array)


def from_dlpack(obj):
    """A tensor sharing memory with any DLPack producer (NumPy, PyTorch, JAX ...)."""
    if isinstance(obj, Tensor):
        return obj
    return from_numpy(np.from_dlpack(obj))


def _filled(maker, size, dtype, default, requires_grad, device, out):
    d = default if dtype is None else dtypes.to_dtype(dtype)
    if target_device(device) is META:  # a shape only, of any size
        return _finish(meta_array(size, d.numpy), requires_grad, device, out)
    return _finish(maker(size, dtype=d.numpy), requires_grad, device, out)


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          **kw):
    return _filled(np.zeros, _size(size, kw.pop("size", None)), dtype,
                   dtypes.get_default_dtype(), requires_grad, device, out)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, **kw):
    return _filled(np.ones, _size(size, kw.pop("size", None)), dtype,
                   dtypes.get_default_dtype(), requires_grad, device, out)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          memory_format=None, **kw):
    # zero-filled rather than uninitialised: no stale memory is ever visible
    t = _filled(np.zeros, _size(size, kw.pop("size", None)), dtype,
                dtypes.get_default_dtype(), requires_grad, device, out)
    if memory_format is not None and memory_format is not memory_formats.preserve_format:
        t._data = memory_formats.laid_out(t._data, memory_format)
    return t


def _like_layout(x, array, memory_format):
    """array (x's shape, row-major) in the layout a *_like constructor gives: x's own when
    memory_format is preserve_format (the default) and x is dense, as torch's."""
    fmt = memory_format or memory_formats.preserve_format
    if fmt is memory_formats.preserve_format:
        if x._data.flags.c_contiguous or x._data.ndim < 2 or x.is_meta:
            return array
        out = np.empty_like(x._data, dtype=array.dtype)  # NumPy keeps a dense array's order
        out[...] = array
        return out
    return memory_formats.laid_out(array, fmt)


def full(size, fill_value, out=None, dtype=None, layout=None, device=None,
         requires_grad=False):
    if dtype is None:
        dtype = dtypes._infer(np.asarray(fill_value), True)
    size = _size((size,) if isinstance(size, int) else (tuple(size),))
    fill_value = scalar_range.written(fill_value, dtypes.to_dtype(dtype).numpy)
    return _filled(lambda s, dtype: np.full(s, fill_value, dtype=dtype), size, dtype, None,
                   requires_grad, device, out)


def _like(x, dtype):
    return x.dtype if dtype is None else dtypes.to_dtype(dtype)


def _meta_like(x, dtype, device, requires_grad):
    """A *_like constructor's result on the meta device (x's own device by default, as
    torch's), or None when it is made on the CPU."""
    if (device is None and x.is_meta) or (device is not None and target_device(device) is META):
        return _finish(meta_array(x.shape, _like(x, dtype).numpy), requires_grad, META)
    return None


def zeros_like(x, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    made = _meta_like(x, dtype, device, requires_grad)
    if made is not None:
        return made
    return _finish(_like_layout(x, np.zeros(x.shape, dtype=_like(x, dtype).numpy), memory_format),
                   requires_grad, device)


def ones_like(x, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    made = _meta_like(x, dtype, device, requires_grad)
    if made is not None:
        return made
    return _finish(_like_layout(x, np.ones(x.shape, dtype=_like(x, dtype).numpy), memory_format),
                   requires_grad, device)


def empty_like(x, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    return zeros_like(x, dtype=dtype, device=device, requires_grad=requires_grad,
                      memory_format=memory_format)


def full_like(x, fill_value, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    made = _meta_like(x, dtype, device, requires_grad)
    if made is not None:
        return made
    return _finish(_like_layout(x, np.full(x.shape, fill_value, dtype=_like(x, dtype).numpy),
                                memory_format), requires_grad, device)


def _random_dtype(dtype):
    """The floating dtype a random creation makes, checked before anything is drawn."""
    d = _float_dtype(dtype)
    if not (d.is_floating_point or d.is_complex):
        raise RuntimeError(f"\"normal_kernel_cpu\" not implemented for '{d.name}'")
    return d


def _complex_values(size, d, draw):
    """Complex values of dtype d drawn as torch draws them: the real dtype's numbers for a
    (size..., 2) tensor of (real, imaginary) pairs, viewed as complex."""
    real = d.to_real().numpy
    parts = draw(size + (2,), precision(real))
    return np.ascontiguousarray(parts, dtype=real).view(d.numpy).reshape(size)


def _random_float(values, d, requires_grad, device, out):
    return _finish(np.asarray(values).astype(d.numpy, copy=False), requires_grad, device, out)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, **kw):
    size, d = _size(size, kw.pop("size", None)), _random_dtype(dtype)
    if target_device(device) is META:
        return _random_float(meta_array(size, d.numpy), d, requires_grad, device, out)
    if d.is_complex:  # as torch: normal real and imaginary parts of variance 1/2 each
        values = _complex_values(size, d, lambda shape, work: random.rng(generator).normal_values(
            shape, 0.0, 1 / math.sqrt(2), work))
        return _random_float(values, d, requires_grad, device, out)
    values = random.rng(generator).normal_values(size, 0.0, 1.0, precision(d.numpy))
    return _random_float(values, d, requires_grad, device, out)


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, **kw):
    size, d = _size(size, kw.pop("size", None)), _random_dtype(dtype)
    if target_device(device) is META:
        return _random_float(meta_array(size, d.numpy), d, requires_grad, device, out)
    if d.is_complex:  # as torch: uniform real and imaginary parts
        values = _complex_values(size, d, lambda shape, work: random.rng(generator).uniform_values(
            shape, 0.0, 1.0, work))
        return _random_float(values, d, requires_grad, device, out)
    values = random.rng(generator).uniform_values(size, 0.0, 1.0, precision(d.numpy))
    return _random_float(values, d, requires_grad, device, out)


def rand_like(x, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    made = _meta_like(x, dtype, device, requires_grad)
    if made is not None:
        return made
    t = rand(*x.shape, dtype=_like(x, dtype), requires_grad=requires_grad)
    t._data = _like_layout(x, t._data, memory_format)
    return t


def randn_like(x, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    made = _meta_like(x, dtype, device, requires_grad)
    if made is not None:
        return made
    t = randn(*x.shape, dtype=_like(x, dtype), requires_grad=requires_grad)
    t._data = _like_layout(x, t._data, memory_format)
    return t


# torch's argument parser lists its overloads when none matches (torch/_torch_docs, normal)
_NORMAL_SIGNATURES = "".join(f" * {sig}\n" for sig in (
    "(Tensor mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)",
    "(Tensor mean, float std = 1, *, torch.Generator generator = None, Tensor out = None)",
    "(float mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)",
    "(float mean, float std, tuple of ints size, *, torch.Generator generator = None, "
    "Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, "
    "torch.device device = None, bool pin_memory = False, bool requires_grad = False)"))


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None,
           layout=None, device=None, requires_grad=False):
    """normal(mean, std, size) with numbers, or elementwise with tensor mean and/or std."""
    rng = random.rng(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        if np.any(np.asarray(s) < 0):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        like = mean if isinstance(mean, Tensor) else std
        # torch: output.normal_(0, 1), then * std + mean
        values = rng.normal_values(shape, 0.0, 1.0, like._data.dtype) * s + m
        return _finish(values.astype(like._data.dtype, copy=False), requires_grad, device, out)
    if size is None or not all(isinstance(v, (int, float, np.number)) for v in (mean, std)):
        got = ", ".join(type(v).__name__ for v in (mean, std, size) if v is not None)
        raise TypeError(f"normal() received an invalid combination of arguments - got ({got}), "
                        f"but expected one of:\n{_NORMAL_SIGNATURES}")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    size = _size((size,) if isinstance(size, int) else (tuple(size),))
    d = _random_dtype(dtype)
    return _random_float(rng.normal_values(size, mean, std, precision(d.numpy)), d,
                         requires_grad, device, out)


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None,
            layout=None, device=None, requires_grad=False):
    if size is None:  # randint(high, size)
        if high is None:
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    size = _size((size,) if isinstance(size, int) else (tuple(size),))
    d = dtypes.int64 if dtype is None else dtypes.to_dtype(dtype)
    values = random.rng(generator).randint_values(low, high, size)
    return _finish(values.astype(d.numpy), requires_grad, device, out)


def randint_like(x, low=0, high=None, dtype=None, device=None, requires_grad=False):
    return randint(low, high, tuple(x.shape), dtype=_like(x, dtype))


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    d = dtypes.int64 if dtype is None else dtypes.to_dtype(dtype)
    return _finish(random.rng(generator).randperm_values(int(n)).astype(d.numpy), requires_grad,
                   device, out)


def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is None:
        floating = any(isinstance(v, float) for v in values)
        d = dtypes.get_default_dtype() if floating else dtypes.int64
    else:
        d = dtypes.to_dtype(dtype)
    data = np.arange(*values)
    return _finish(data.astype(d.numpy), requires_grad, device, out)


def _linspace_values(start, end, steps, target):
    """torch's CPU linspace, value for value: the first half counted up from start, the second
    half down from end, each point one fused multiply-add (start + step * i) rounded once in
    the dtype; emulated here in a wider type (float64 for float32, x87 long double for
    float64). np.linspace rounds differently, a last-bit difference torch's printouts show."""
    if steps <= 1:
        return np.full(steps, start, dtype=target)
    # (half precisions: float32's points, rounded; torch's own differ from these in places)
    narrow = np.float32 if np.dtype(target).itemsize <= 4 else np.float64
    wide = np.float64 if narrow is np.float32 else np.longdouble
    s, e = narrow(start), narrow(end)
    step = (e - s) / narrow(steps - 1)
    index = np.arange(steps)
    up = (wide(s) + wide(step) * index.astype(narrow).astype(wide)).astype(narrow)
    down = (wide(e) - wide(step) * (steps - 1 - index).astype(narrow).astype(wide)).astype(narrow)
    return np.where(index < steps // 2, up, down).astype(target)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    d = _float_dtype(dtype)
    steps = int(steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    if d.is_floating_point:
        values = _linspace_values(float(start), float(end), steps, d.numpy)
    else:  # integers: start and end truncated to the dtype, the points in double, truncated
        first, last = int(float(start)), int(float(end))
        step = (last - first) / max(steps - 1, 1)
        index = np.arange(steps)
        points = np.where(index < steps // 2, first + step * index,
                          last - step * (steps - 1 - index)) if steps > 1 else \
            np.full(steps, first, dtype=np.float64)
        values = np.trunc(points).astype(d.numpy)
    return _finish(values, requires_grad, device, out)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    d = _float_dtype(dtype)
    return _finish(np.logspace(float(start), float(end), int(steps), base=base)
                   .astype(d.numpy), requires_grad, device)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    d = _float_dtype(dtype)
    return _finish(np.eye(n, n if m is None else m, dtype=d.numpy), requires_grad, device, out)
