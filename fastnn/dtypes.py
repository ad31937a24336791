"""fastnn's dtypes, as torch's: objects printed `fastnn.float32`, with torch's aliases
(`float`, `double`, `half`, `long`, `int`, `short`), a default floating dtype, and torch's
type-promotion rules (which differ from NumPy's: an int64 tensor times 2.5 is float32 in torch,
float64 in NumPy).

Values are stored in NumPy arrays of the matching NumPy dtype; bfloat16 uses ml_dtypes'
NumPy extension type. The compiled kernels run float32; every other dtype goes through NumPy.
complex64 and complex128 (torch's cfloat, cdouble) hold what torch.linalg.eig, torch.fft and
complex literals give; autograd stays on the real dtypes.
"""
import builtins

import numpy as np

try:  # bfloat16 storage; an optional dependency so a bare NumPy install still works
    from ml_dtypes import bfloat16 as _np_bfloat16
except ImportError:  # pragma: no cover - ml_dtypes is a declared dependency
    _np_bfloat16 = None


class dtype:
    """A tensor element type (torch.dtype). Compares equal to itself and to the NumPy dtype
    it is stored as, so `t.dtype == np.float32` keeps working in NumPy-minded code."""

    __slots__ = ("name", "numpy", "is_floating_point", "is_complex", "is_signed", "itemsize",
                 "_kind", "_rank", "title", "c_type")

    def __init__(self, name, numpy_type, kind, rank, signed, title, c_type):
        self.name = name
        self.title = title  # torch's scalar-type name in messages ("Float", "Long")
        self.c_type = c_type  # the C++ type name torch's matmul message prints ("float")
        self.numpy = np.dtype(numpy_type) if numpy_type is not None else None
        self._kind = kind  # 0 bool, 1 integer, 2 floating, 3 complex: torch's categories
        self._rank = rank  # order within the category
        self.is_floating_point = kind == 2
        self.is_complex = kind == 3
        self.is_signed = signed
        self.itemsize = self.numpy.itemsize if self.numpy is not None else 2

    @property
    def tensor_type(self):
        """torch's legacy type name, e.g. 'FloatTensor' (Tensor.type())."""
        return f"{self.title}Tensor"

    def __repr__(self):
        return f"fastnn.{self.name}"

    def __eq__(self, other):
        if isinstance(other, dtype):
            return other is self
        try:
            return self.numpy is not None and np.dtype(other) == self.numpy
        except TypeError:
            return False

    def __hash__(self):
        return hash(self.name)

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_real(self):
        """The real dtype of the same precision (complex64 -> float32); others are their own."""
        return {"complex64": float32, "complex128": float64}.get(self.name, self)

    def to_complex(self):
        """The complex dtype with this real precision (float64 -> complex128)."""
        if self.is_complex:
            return self
        if self is float64:
            return complex128
        if self is float32 or self is float16 or self is bfloat16:
            return complex64
        raise RuntimeError(f"to_complex is not supported for {self}")


bool_ = dtype("bool", np.bool_, 0, 0, False, "Bool", "bool")
uint8 = dtype("uint8", np.uint8, 1, 0, False, "Byte", "unsigned char")
int8 = dtype("int8", np.int8, 1, 1, True, "Char", "signed char")
int16 = dtype("int16", np.int16, 1, 2, True, "Short", "short int")
int32 = dtype("int32", np.int32, 1, 3, True, "Int", "int")
int64 = dtype("int64", np.int64, 1, 4, True, "Long", "long int")
float16 = dtype("float16", np.float16, 2, 0, True, "Half", "c10::Half")
bfloat16 = dtype("bfloat16", _np_bfloat16, 2, 0, True, "BFloat16", "c10::BFloat16")
float32 = dtype("float32", np.float32, 2, 1, True, "Float", "float")
float64 = dtype("float64", np.float64, 2, 2, True, "Double", "double")
# ranks as their real parts', so precision combines across categories (complex64 with a float64
# tensor is complex128, as in torch)
complex64 = dtype("complex64", np.complex64, 3, 1, True, "ComplexFloat", "c10::complex<float>")
complex128 = dtype("complex128", np.complex128, 3, 2, True, "ComplexDouble",
                   "c10::complex<double>")

half, double, short, long = float16, float64, int16, int64
cfloat, cdouble = complex64, complex128
# the real dtypes: what the kernels, autograd and the dtype sweeps cover
ALL = (bool_, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64)
COMPLEX = (complex64, complex128)
_BY_NAME = {d.name: d for d in ALL + COMPLEX}
_BY_NUMPY = {d.numpy: d for d in ALL + COMPLEX if d.numpy is not None}
FLOATING_NUMPY = frozenset(d.numpy for d in ALL if d.is_floating_point and d.numpy is not None)

_default_float = float32


def _by_name(name):
    return _BY_NAME[name]


def get_default_dtype():
    return _default_float


def set_default_dtype(d):
    """Make float32 or float64 the dtype of new floating tensors (torch.set_default_dtype)."""
    global _default_float
    d = to_dtype(d)
    if d not in (float32, float64, float16, bfloat16):
        raise TypeError("only floating-point types are supported as the default type")
    _default_float = d


def default_complex():
    """The dtype of Python complex numbers in tensors: complex64 beside a float32 default,
    complex128 beside float64 (torch's default complex dtype follows the default float)."""
    return complex128 if _default_float is float64 else complex64


def to_dtype(value):
    """A fastnn dtype from a fastnn dtype, a NumPy dtype/type, or Python's float/int/bool
    (which torch reads as float64, int64 and bool)."""
    if isinstance(value, dtype):
        return value
    if value is builtins.float:
        return float64
    if value is builtins.int:
        return int64
    if value is builtins.bool:
        return bool_
    if value is builtins.complex:
        return complex128
    if isinstance(value, str):
        name = value.replace("torch.", "").replace("fastnn.", "")
        name = {"float": "float32", "double": "float64", "half": "float16", "long": "int64",
                "int": "int32", "short": "int16", "bool": "bool", "cfloat": "complex64",
                "cdouble": "complex128"}.get(name, name)
        if name in _BY_NAME:
            return _BY_NAME[name]
    try:
        np_dtype = np.dtype(value)
    except TypeError:
        raise TypeError(f"{value!r} is not a fastnn dtype") from None
    found = _BY_NUMPY.get(np_dtype)
    if found is None:
        raise TypeError(f"can't convert np.ndarray of type numpy.{np_dtype}. The only supported "
                        "types are: float64, float32, float16, bfloat16, complex64, complex128, "
                        "int64, int32, int16, int8, uint8, and bool.")
    return found


def of_array(array):
    """The fastnn dtype of a NumPy array's elements."""
    found = _BY_NUMPY.get(array.dtype)
    return found if found is not None else to_dtype(array.dtype)


def numpy_dtype(value):
    return to_dtype(value).numpy


def _infer(array, from_python):
    """The dtype torch gives data: NumPy arrays keep theirs (where torch has it); Python
    floats become the default dtype, ints int64, bools bool."""
    kind = array.dtype.kind
    if from_python:
        if kind == "f":
            return _default_float
        if kind in "iu":
            return int64
        if kind == "b":
            return bool_
        if kind == "c":
            return default_complex()
    if array.dtype in _BY_NUMPY:
        return _BY_NUMPY[array.dtype]
    if kind == "u":  # uint16/32/64: torch keeps them only in limited form; widen to int64
        return int64
    raise TypeError(f"can't convert np.ndarray of type numpy.{array.dtype}. The only supported "
                    "types are: float64, float32, float16, bfloat16, complex64, complex128, int64, "
                    "int32, int16, int8, uint8, and bool.")


# From 1 MiB a copy is split over the threads (kernels/copy.c: a single-threaded copy hands half
# of the array to the other core, which cost d2l's TextCNN head 2x at 2 threads, issue 12).
_THREADED_COPY_BYTES = 1 << 20


def copy_of(array):
    """A copy of a C-contiguous array, split over the threads from 1 MiB as the kernels that
    read it next split their rows."""
    if array.nbytes < _THREADED_COPY_BYTES:
        return array.copy()
    from fastnn import backend
    return backend.copy_array(array, np.empty(array.shape, array.dtype))


def as_array(data, dtype=None, copy=False):
    """An ndarray holding `data` (array, list, scalar or Tensor) as a fastnn dtype."""
    from_python = not isinstance(data, (np.ndarray, np.generic))
    if from_python and isinstance(data, (list, tuple)):
        from_python = not _holds_arrays(data)
    array = np.asarray(data)
    if array.dtype == object:
        raise TypeError("could not convert the data to a tensor: it holds objects that are "
                        "not numbers")
    target = (to_dtype(dtype) if dtype is not None else _infer(array, from_python)).numpy
    if copy and array.dtype == target and array.flags.c_contiguous:
        return copy_of(array)
    if copy or array.dtype != target:
        # torch.tensor([1e300]) is inf without a word; NumPy would warn of the overflow
        from fastnn.numpy_errors import restore, silence
        token = silence()
        try:
            return np.array(array, dtype=target, copy=True)
        finally:
            restore(token)
    return array


def _holds_arrays(items):
    for item in items:
        if isinstance(item, (list, tuple)):
            return _holds_arrays(item)
        return isinstance(item, (np.ndarray, np.generic)) or hasattr(item, "_data")
    return False


# --- type promotion (torch.result_type) ----------------------------------------------------
def promote_types(a, b):
    """The smallest dtype both a and b convert to safely, as torch.promote_types."""
    a, b = to_dtype(a), to_dtype(b)
    if a is b:
        return a
    if a._kind != b._kind:
        if builtins.max(a._kind, b._kind) == 3 and builtins.min(a._kind, b._kind) == 2:
            return (a if a._rank >= b._rank else b).to_complex()  # complex64 + float64
        return a if a._kind > b._kind else b
    if a._kind == 1 and uint8 in (a, b):  # uint8 with a signed int: the next signed size up
        other = b if a is uint8 else a
        return int16 if other is int8 else other
    if {a, b} == {float16, bfloat16}:
        return float32
    return a if a._rank > b._rank else b


def result_type(*operands):
    """torch's promotion: dimensioned tensors decide within a category; a zero-dim tensor
    or a Python number only lifts the category (a Python float gives the default dtype)."""
    dim_t = zero_t = None
    scalar_kind = -1
    for value in operands:
        if hasattr(value, "_data") or isinstance(value, np.ndarray):
            array = value._data if hasattr(value, "_data") else value
            d = of_array(array)
            if array.ndim:
                dim_t = d if dim_t is None else promote_types(dim_t, d)
            else:
                zero_t = d if zero_t is None else promote_types(zero_t, d)
        elif isinstance(value, builtins.bool) or isinstance(value, np.bool_):
            scalar_kind = builtins.max(scalar_kind, 0)
        elif isinstance(value, (builtins.int, np.integer)):
            scalar_kind = builtins.max(scalar_kind, 1)
        elif isinstance(value, (builtins.float, np.floating)):
            scalar_kind = builtins.max(scalar_kind, 2)
        elif isinstance(value, (builtins.complex, np.complexfloating)):
            scalar_kind = 3
        else:
            raise TypeError(f"unsupported operand type {type(value).__name__}")
    result = dim_t
    if zero_t is not None and (result is None or zero_t._kind > result._kind):
        # a complex zero-dim tensor lifts a float tensor to the complex of the tensor's own
        # precision (float32 + a complex128 zero-dim tensor is complex64, as in torch)
        result = zero_t if result is None or result._kind != 2 or zero_t._kind != 3 else \
            result.to_complex()
    if scalar_kind >= 0 and (result is None or scalar_kind > result._kind):
        if scalar_kind == 3 and result is not None and result._kind == 2:
            result = result.to_complex()  # a float64 tensor times 1j is complex128
        else:
            result = (bool_, int64, _default_float, default_complex())[scalar_kind]
    return result


def float_of(d):
    """The dtype a floating op gives for input dtype d (ints and bools -> default float)."""
    return d if d.is_floating_point or d.is_complex else _default_float
