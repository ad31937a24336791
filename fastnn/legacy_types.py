"""torch's legacy typed constructors, still common in older programs (pytorch/examples gcn
and gat): FloatTensor(2, 3) is an uninitialised float32 tensor of that shape,
LongTensor([1, 2]) a copy of the data; isinstance(t, FloatTensor) checks the dtype."""
from fastnn import creation, dtypes


class _TypedTensorMeta(type):
    def __instancecheck__(cls, obj):
        from fastnn.tensor import Tensor
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __call__(cls, *args, device=None):
        if len(args) == 1 and not isinstance(args[0], int):
            return creation.tensor(args[0], dtype=cls.dtype)
        return creation.empty(*args, dtype=cls.dtype)

    def __repr__(cls):
        return f"<class 'fastnn.{cls.__name__}'>"


def _typed(name, dtype):
    return _TypedTensorMeta(name, (), {"dtype": dtype})


FloatTensor = _typed("FloatTensor", dtypes.float32)
DoubleTensor = _typed("DoubleTensor", dtypes.float64)
HalfTensor = _typed("HalfTensor", dtypes.float16)
BFloat16Tensor = _typed("BFloat16Tensor", dtypes.bfloat16)
LongTensor = _typed("LongTensor", dtypes.int64)
IntTensor = _typed("IntTensor", dtypes.int32)
ShortTensor = _typed("ShortTensor", dtypes.int16)
ByteTensor = _typed("ByteTensor", dtypes.uint8)
CharTensor = _typed("CharTensor", dtypes.int8)
BoolTensor = _typed("BoolTensor", dtypes.bool_)
