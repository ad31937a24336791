"""torch.testing: assert_close (and its deprecated assert_allclose) and make_tensor.

assert_close compares tensors, NumPy arrays, Python scalars and (nested) sequences and
mappings of them, as torch's: the shapes must match, the dtypes too unless check_dtype=False
(then both are promoted), and the values must satisfy |actual - expected| <= atol +
rtol * |expected| with per-dtype default tolerances. The failure messages are torch's
(mismatched-element count, greatest absolute and relative difference and where), so a test
ported from PyTorch reads the same when it fails.
"""
import collections.abc
import math
import warnings

import numpy as np

from fastnn import dtypes
from fastnn.tensor import Size, Tensor

# (rtol, atol) per dtype, torch.testing's table: float32's rtol is about 10 ulps, the atol
# keeps comparisons of values near 0 from failing on rounding noise (pytorch/pytorch#32538).
_PRECISIONS = {
    dtypes.float16: (1e-3, 1e-5),
    dtypes.bfloat16: (1.6e-2, 1e-5),
    dtypes.float32: (1.3e-6, 1e-5),
    dtypes.float64: (1e-7, 1e-7),
}


class _Mismatch(Exception):
    """A failed comparison, raised as `kind(message)` once the failing item's path is known."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind, self.message = kind, message


def _unsupported(actual, expected):
    return _Mismatch(TypeError, f"No comparison pair was able to handle inputs of type "
                                f"{type(actual)} and {type(expected)}.")


def _tolerances(dtype_list, rtol, atol):
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"no {'rtol' if rtol is None else 'atol'}.")
    if rtol is not None:
        return rtol, atol
    pairs = [_PRECISIONS.get(d, (0.0, 0.0)) for d in dtype_list]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _diff_line(kind, diff, index, tol, equality):
    line = (f"{kind.title()} difference: {diff}" if index is None
            else f"Greatest {kind} difference: {diff} at index {index}")
    return line if equality else f"{line} (up to {tol} allowed)"


def _message(what, extra, abs_diff, abs_index, rel_diff, rel_index, rtol, atol):
    equality = rtol == 0 and atol == 0
    lines = [f"{what} are not {'equal' if equality else 'close'}!", ""]
    if extra:
        lines.append(extra)
    lines.append(_diff_line("absolute", abs_diff, abs_index, atol, equality))
    lines.append(_diff_line("relative", rel_diff, rel_index, rtol, equality))
    return "\n".join(lines)


def _close(actual, expected, rtol, atol, equal_nan):
    """Elementwise closeness of two arrays of one dtype (torch.isclose's rule)."""
    if actual.dtype.kind not in "fc":
        return actual == expected
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.abs(actual - expected) <= atol + rtol * np.abs(expected)
    close &= np.isfinite(actual) & np.isfinite(expected)  # inf is close to inf alone
    close |= actual == expected
    if equal_nan:
        close |= np.isnan(actual) & np.isnan(expected)
    return close


def _compare_arrays(actual, expected, rtol, atol, equal_nan):
    matches = _close(actual, expected, rtol, atol, equal_nan)
    if matches.all():
        return
    floating = actual.dtype.kind == "f"
    if not floating:  # integers and booleans: differences in int64, ratios in float32
        actual, expected = actual.astype(np.int64), expected.astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        abs_diff = np.abs(actual - expected)
        rel_diff = abs_diff / np.abs(expected)
        if not floating:
            rel_diff = rel_diff.astype(np.float32)
    if actual.ndim == 0:
        raise _Mismatch(AssertionError, _message(
            "Scalars", f"Expected {expected.item()} but got {actual.item()}.",
            abs_diff.item(), None, rel_diff.item(), None, rtol, atol))
    mismatched = ~matches.ravel()
    abs_flat = np.where(mismatched, abs_diff.ravel(), 0)
    rel_flat = np.where(mismatched, rel_diff.ravel(), 0)
    # torch.max propagates NaN: the first NaN is the greatest difference
    abs_at = int(np.argmax(np.isnan(abs_flat))) if np.isnan(abs_flat).any() else int(np.argmax(abs_flat))
    rel_at = int(np.argmax(np.isnan(rel_flat))) if np.isnan(rel_flat).any() else int(np.argmax(rel_flat))
    total = mismatched.size
    count = int(mismatched.sum())
    extra = f"Mismatched elements: {count} / {total} ({count / total:.1%})"
    raise _Mismatch(AssertionError, _message(
        "Tensor-likes", extra, abs_flat[abs_at].item(), _index(abs_at, actual.shape),
        rel_flat[rel_at].item(), _index(rel_at, actual.shape), rtol, atol))


def _index(flat, shape):
    return tuple(int(i) for i in np.unravel_index(flat, shape))


def _compare_tensor_likes(actual, expected, rtol, atol, equal_nan, check_dtype):
    if isinstance(actual, Tensor) != isinstance(expected, Tensor):
        raise _unsupported(actual, expected)
    if isinstance(actual, Tensor):
        a_dtype, e_dtype = actual.dtype, expected.dtype
        a, e = actual.detach().numpy(), expected.detach().numpy()
    else:
        a, e = actual, expected
        a_dtype, e_dtype = dtypes.of_array(a), dtypes.of_array(e)
    a_shape, e_shape = Size(a.shape), Size(e.shape)
    if a_shape != e_shape:
        raise _Mismatch(AssertionError, f"The values for attribute 'shape' do not match: "
                                        f"{a_shape} != {e_shape}.")
    if a_dtype != e_dtype:
        if check_dtype:
            raise _Mismatch(AssertionError, f"The values for attribute 'dtype' do not match: "
                                            f"{a_dtype!r} != {e_dtype!r}.")
    common = dtypes.promote_types(a_dtype, e_dtype)
    if common.is_floating_point and common.itemsize < 4:
        common = dtypes.float32  # half and bfloat16 values are compared in float32
    rtol, atol = _tolerances([a_dtype, e_dtype], rtol, atol)
    _compare_arrays(np.asarray(a).astype(common.numpy, copy=False),
                    np.asarray(e).astype(common.numpy, copy=False), rtol, atol, equal_nan)


def _compare_scalars(actual, expected, rtol, atol, equal_nan, check_dtype):
    if isinstance(actual, bool) or isinstance(expected, bool):
        if not (isinstance(actual, bool) and isinstance(expected, bool)):
            raise _unsupported(actual, expected)
        if actual != expected:
            raise _Mismatch(AssertionError, f"Booleans mismatch: {actual} is not {expected}")
        return
    if check_dtype and type(actual) is not type(expected):
        raise _Mismatch(AssertionError, f"The (d)types do not match: {type(actual)} != "
                                        f"{type(expected)}.")
    floating = isinstance(actual, float) or isinstance(expected, float)
    rtol, atol = _tolerances([dtypes.float64 if floating else dtypes.int64], rtol, atol)
    if actual == expected or (equal_nan and math.isnan(actual) and math.isnan(expected)):
        return
    diff = abs(actual - expected)
    if math.isfinite(diff) and diff <= atol + rtol * abs(expected):
        return
    rel = float("inf") if expected == 0 else diff / abs(expected)
    raise _Mismatch(AssertionError, _message(
        "Scalars", f"Expected {expected} but got {actual}.", diff, None, rel, None, rtol, atol))


def _is_sequence(value):
    return (isinstance(value, collections.abc.Sequence)
            and not isinstance(value, (str, bytes, Tensor)))


def _compare(actual, expected, path, options):
    if actual is None or expected is None:
        if actual is not expected:
            raise _Mismatch(AssertionError, f"None mismatch: {actual} is not {expected}")
        return
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            raise _Mismatch(AssertionError, f"The length of the sequences mismatch: "
                                            f"{len(actual)} != {len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, path + (i,), options)
        return
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
        missing = sorted(set(expected) - set(actual), key=repr)
        additional = sorted(set(actual) - set(expected), key=repr)
        if missing or additional:
            raise _Mismatch(AssertionError, f"The keys of the mappings do not match:\n"
                                            f"Missing keys in the actual mapping: {missing}\n"
                                            f"Additional keys in the actual mapping: {additional}")
        for key in expected:
            _compare(actual[key], expected[key], path + (key,), options)
        return
    try:
        if isinstance(actual, (Tensor, np.ndarray)) or isinstance(expected, (Tensor, np.ndarray)):
            _compare_tensor_likes(actual, expected, **options)
        elif isinstance(actual, (bool, int, float, np.number, np.bool_)) and \
                isinstance(expected, (bool, int, float, np.number, np.bool_)):
            _compare_scalars(_python(actual), _python(expected), **options)
        else:
            raise _unsupported(actual, expected)
    except _Mismatch as failure:
        failure.path = path
        raise


def _python(value):
    return value.item() if isinstance(value, (np.number, np.bool_)) else value


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """torch.testing.assert_close: raises AssertionError (TypeError for inputs it cannot
    compare) naming the first failing item and how far apart it is."""
    _tolerances([dtypes.float32], rtol, atol)  # both or neither, checked before comparing
    options = dict(rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype)
    try:
        _compare(actual, expected, (), options)
    except _Mismatch as failure:
        message = failure.message
        path = getattr(failure, "path", ())
        if path and failure.kind is AssertionError:
            message += "\n\nThe failure occurred for item " + "".join(f"[{p!r}]" for p in path)
        if callable(msg):
            message = msg(message)
        elif msg is not None:
            message = msg
        raise failure.kind(message) from None


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """The deprecated torch.testing.assert_allclose: assert_close without the dtype check and
    with NaNs equal by default."""
    warnings.warn("`torch.testing.assert_allclose()` is deprecated since 1.12 and will be "
                  "removed in a future release. Please use `torch.testing.assert_close()` "
                  "instead.", FutureWarning, stacklevel=2)
    if not isinstance(actual, Tensor):
        actual = _tensor(actual)
    if not isinstance(expected, Tensor):
        expected = _tensor(expected, like=actual)
    if rtol is None and atol is None:
        rtol, atol = _tolerances([actual.dtype, expected.dtype], None, None)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan,
                 check_device=True, check_dtype=False, check_stride=False, msg=msg or None)


def _tensor(value, like=None):
    from fastnn.creation import tensor
    return tensor(value, dtype=None if like is None else like.dtype)


def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad=False,
                noncontiguous=False, exclude_zero=False, memory_format=None):
    """torch.testing.make_tensor: a tensor of the given shape and dtype filled with values
    drawn uniformly from [low, high) (floats default to [-9, 9], integers to [-9, 10),
    unsigned integers to [0, 10)); exclude_zero replaces zeros by the dtype's smallest
    positive step; noncontiguous returns a strided view of a larger tensor."""
    from fastnn import random as _random
    from fastnn.creation import tensor
    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = tuple(shape[0])
    dtype = dtypes.to_dtype(dtype)
    if requires_grad and not dtype.is_floating_point:
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral "
                         f"dtypes, but got dtype={dtype!r}")
    for name, bound in (("low", low), ("high", high)):
        if bound is not None and isinstance(bound, float) and math.isnan(bound):
            raise ValueError(f"`{name}` cannot be NaN, but got {name}=nan")
    rng = _random.rng()
    if dtype == dtypes.bool_:
        values = rng.integers(0, 2, size=shape).astype(bool)
    elif dtype.is_floating_point:
        lo = -9.0 if low is None else float(low)
        hi = 9.0 if high is None else float(high)
        if lo > hi:
            raise ValueError(f"`low` must be less than or equal to `high`, but got {lo} > {hi}")
        values = rng.uniform(lo, hi, size=shape)
    else:
        info = np.iinfo(dtype.numpy)
        lo = (0 if info.min == 0 else -9) if low is None else math.ceil(low)
        hi = 10 if high is None else math.ceil(high)
        if lo > hi:
            raise ValueError(f"`low` must be less than or equal to `high`, but got {lo} > {hi}")
        values = rng.integers(max(lo, info.min), max(min(hi, info.max), lo + 1), size=shape)
    values = np.asarray(values).astype(dtype.numpy)
    if exclude_zero and dtype != dtypes.bool_:
        step = np.finfo(np.float32).tiny if dtype.is_floating_point else 1
        values[values == 0] = step
    if noncontiguous and values.size > 1:
        wide = np.repeat(values[..., None], 2, axis=-1)
        values = wide[..., 0]
    result = tensor(values) if not noncontiguous else Tensor._wrap(values)
    if requires_grad:
        result.requires_grad_(True)
    return result
