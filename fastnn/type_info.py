"""torch.finfo and torch.iinfo: the limits of a floating and an integer dtype, as Python
numbers with torch's field names (eps, max, min, tiny, smallest_normal, resolution, bits)."""
import numpy as np

from fastnn import dtypes

# bfloat16 is float32's exponent with 8 significand bits; NumPy has no finfo for it
_BFLOAT16 = dict(bits=16, eps=2.0 ** -7, max=float.fromhex("0x1.fep127"),
                 tiny=2.0 ** -126, resolution=0.01)


def _short(value):
    return f"{value:g}"


class finfo:
    def __init__(self, type=None):
        d = dtypes.to_dtype(type) if type is not None else dtypes.get_default_dtype()
        if not d.is_floating_point:
            raise TypeError(f"torch.finfo() requires a floating point input type. Use "
                            f"torch.iinfo to handle '{d!r}'")
        if d is dtypes.bfloat16:
            info = _BFLOAT16
        else:
            np_info = np.finfo(d.numpy)
            info = dict(bits=np_info.bits, eps=float(np_info.eps), max=float(np_info.max),
                        tiny=float(np_info.smallest_normal), resolution=10.0 ** -np_info.precision)
        self.bits, self.eps, self.max = info["bits"], info["eps"], info["max"]
        self.min = -self.max
        self.tiny = self.smallest_normal = info["tiny"]
        self.resolution = info["resolution"]
        self.dtype = d.name

    def __repr__(self):
        return (f"finfo(resolution={_short(self.resolution)}, min={_short(self.min)}, "
                f"max={_short(self.max)}, eps={_short(self.eps)}, "
                f"smallest_normal={_short(self.smallest_normal)}, tiny={_short(self.tiny)}, "
                f"dtype={self.dtype})")


class iinfo:
    def __init__(self, type):
        d = dtypes.to_dtype(type)
        if d.is_floating_point or d is dtypes.bool_:
            raise TypeError(f"torch.iinfo() requires an integer input type. Use torch.finfo to "
                            f"handle '{d!r}'")
        np_info = np.iinfo(d.numpy)
        self.bits, self.max, self.min = np_info.bits, int(np_info.max), int(np_info.min)
        self.dtype = d.name

    def __repr__(self):
        return f"iinfo(min={_short(self.min)}, max={_short(self.max)}, dtype={self.dtype})"
