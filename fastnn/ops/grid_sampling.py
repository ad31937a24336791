"""affine_grid and grid_sample (spatial transformer networks, Jaderberg et al. 2015), with
torch's coordinate rules (ATen's GridSampler.h): normalised [-1, 1] coordinates unnormalised
per align_corners, 'zeros' / 'border' / 'reflection' padding, bilinear (trilinear on 5-D
input), nearest (round half to even) and bicubic (A = -0.75) sampling.

Compositions of differentiable ops: the corner indices are integers taken from the
coordinates' values; the interpolation weights are tensors built from the coordinates, so
autograd gives the gradient to the input (a scatter of the gathered values) and to the grid
(through the weights), as torch's analytic backward does."""
import warnings
from fractions import Fraction

import numpy as np

from fastnn import dtypes
from fastnn.ops import elementwise
from fastnn.tensor import Tensor

_DEFAULT_CHANGED = ("Default grid_sample and affine_grid behavior has changed to "
                    "align_corners=False since 1.3.0. Please specify align_corners=True if "
                    "the old behavior is desired. See the documentation of grid_sample for "
                    "details.")


def _linspace(steps, align_corners, dtype):
    """The normalised centres of `steps` pixels: -1..1, pulled in by (steps - 1) / steps
    when pixel centres rather than corners sit at the ends. Rounded as torch's: linspace's
    two halves counted from either end, each point one fused multiply-add (ATen's kernel is
    built with FMA contraction), then the multiply and the divide in `dtype`. At the
    identity map the points land on pixel centres, where bilinear sampling's derivative
    jumps, so one ulp decides the gradient a spatial transformer starts from."""
    if steps <= 1:
        return np.zeros(steps, dtype)
    step = dtype.type(2) / dtype.type(steps - 1)
    half = steps // 2
    if dtype == np.float32:  # a float32 product is exact in float64: one rounding, as FMA
        index = np.arange(steps, dtype=np.float64)
        exact = np.where(index < half, -1.0 + np.float64(step) * index,
                         1.0 - np.float64(step) * (steps - 1 - index))
        points = exact.astype(np.float32)
    else:
        s = Fraction(float(step))
        points = np.array([float(-1 + s * i if i < half else 1 - s * (steps - 1 - i))
                           for i in range(steps)], dtype)
    if not align_corners:
        points = (points * dtype.type(steps - 1)) / dtype.type(steps)
    return points.astype(dtype)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of a batch of affine maps theta (N, 2, 3) or (N, 3, 4) for an
    output of `size` (N, C, H, W) or (N, C, D, H, W): each output pixel's normalised
    (x, y[, z]) position, mapped by theta."""
    if align_corners is None:
        warnings.warn(_DEFAULT_CHANGED, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    given, size = size, tuple(int(s) for s in size)
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError("Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{given}. Got {theta.shape}.")
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError("Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{given}. Got {theta.shape}.")
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  "affine transforms, respectively. Got size "
                                  f"{given}.")
    spatial = size[2:]
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size "
                      "grids when align_corners=True. This is not an intended use case of "
                      "affine_grid. See the documentation of affine_grid for details.",
                      stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {given}")
    if theta.shape[0] != size[0]:
        raise RuntimeError(f"Expected theta batch size {theta.shape[0]} to match size[0] = "
                           f"{size[0]}")
    dtype = theta.dtype.numpy or np.dtype(np.float32)  # bfloat16 builds its base grid in float32
    # the base grid holds (x, y[, z], 1) per output pixel, x along the last dimension
    axes = [_linspace(s, align_corners, dtype) for s in spatial]
    mesh = np.meshgrid(*axes, indexing="ij")
    base = np.stack([m for m in reversed(mesh)] + [np.ones(spatial, dtype)], axis=-1)
    base = Tensor._wrap(np.ascontiguousarray(base.reshape(1, -1, len(spatial) + 1)))
    base = base.to(theta.dtype)
    grid = base @ theta.transpose(1, 2)
    return grid.reshape(size[0], *spatial, len(spatial))


def _unnormalize(coord, size, align_corners):
    if align_corners:
        return (coord + 1) * ((size - 1) / 2)
    return ((coord + 1) * size - 1) / 2


def _clip(coord, size):
    return elementwise.clamp(coord, min=0.0, max=float(size - 1))


def _reflect(coord, twice_low, twice_high):
    """Reflect into [low, high] as often as it takes (a mirror-padded image)."""
    if twice_low == twice_high:
        return coord * 0.0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    distance = (coord - low).abs()
    extra = distance.fmod(span)
    odd = np.floor(distance._data / span) % 2 == 1
    return elementwise.where(Tensor._wrap(odd), span - extra + low, extra + low)


def _pad(coord, size, padding_mode, align_corners):
    if padding_mode == "border":
        return _clip(coord, size)
    if padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
        return _clip(coord, size)
    return coord


def _check(input, grid, mode, padding_mode):
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    sizes = f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}"
    # in the order ATen checks them, so the first fault named is torch's
    if input.dim() < 1 or grid.dim() < 1 or grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, "
                           f"but got {sizes}")
    if grid.shape[-1] != input.dim() - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.dim() - 2} in "
                           f"last dimension, but got grid with sizes {list(grid.shape)}")
    for d in range(2, input.dim()):
        if input.shape[d] == 0:
            raise RuntimeError("grid_sampler(): expected input to have non-empty spatial "
                               f"dimensions, but input has sizes {list(input.shape)} with "
                               f"dimension {d} being empty")
    rank = 4 if input.dim() == 4 else 5  # ATen's 2-D kernel, else its 3-D one
    if input.dim() != rank or grid.dim() != rank:
        raise RuntimeError(f"grid_sampler(): expected {rank}D input and grid with same number "
                           f"of dimensions, but got {sizes}")
    if mode == "bicubic" and rank != 4:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if not input.is_floating_point():
        raise NotImplementedError(f'"grid_sampler_{rank - 2}d_cpu_kernel_impl" not '
                                  f"implemented for '{input.dtype.title}'")
    if grid.dtype != input.dtype:
        raise RuntimeError(f"expected scalar type {input.dtype.title} but found "
                           f"{grid.dtype.title}")


class _Sampler:
    """Gathers input values at integer positions, zero where a position lies outside."""

    def __init__(self, input, out_spatial):
        self.n, self.c = input.shape[:2]
        self.spatial = tuple(input.shape[2:])
        self.out_spatial = out_spatial
        self.flat = input.reshape(self.n, self.c, int(np.prod(self.spatial)))
        self.points = int(np.prod(out_spatial))

    def at(self, positions):
        """positions: one integer array (N, *out) per spatial dimension. Returns the values
        (N, C, P) and the in-bounds mask (N, 1, P) as a float array."""
        inside = np.ones(positions[0].shape, bool)
        linear = np.zeros(positions[0].shape, np.int64)
        for pos, size in zip(positions, self.spatial):
            inside &= (pos >= 0) & (pos < size)
            linear = linear * size + np.clip(pos, 0, size - 1)
        linear = np.where(inside, linear, 0).reshape(self.n, 1, self.points)
        index = Tensor._wrap(np.ascontiguousarray(
            np.broadcast_to(linear, (self.n, self.c, self.points))))
        values = self.flat.gather(2, index)
        return values, inside.reshape(self.n, 1, self.points)

    def weight(self, w, mask):
        """A weight tensor (N, *out) as (N, 1, P), zeroed where the corner is outside."""
        w = w.reshape(self.n, 1, self.points)
        return elementwise.where(Tensor._wrap(mask), w, 0.0)

    def finish(self, out):
        return out.reshape(self.n, self.c, *self.out_spatial)


def _cubic_weights(t):
    """Keys' cubic convolution weights (A = -0.75, torch's) of the four taps at -1, 0, 1, 2
    for a fractional offset t."""
    a = -0.75

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Samples input (N, C, H, W) or (N, C, D, H, W) at the normalised positions of grid
    (N, H_out, W_out, 2) or (N, D_out, H_out, W_out, 3); grid[..., 0] indexes the width."""
    _check(input, grid, mode, padding_mode)
    if align_corners is None:
        warnings.warn(_DEFAULT_CHANGED, stacklevel=2)
        align_corners = False
    d = input.dim() - 2
    sampler = _Sampler(input, tuple(grid.shape[1:-1]))
    # coords[j] is the coordinate along spatial dimension j (grid's last entry is the first)
    coords = [_unnormalize(grid[..., d - 1 - j], input.shape[2 + j], align_corners)
              for j in range(d)]
    if mode == "bicubic":
        return _bicubic(sampler, coords, padding_mode, align_corners)
    coords = [_pad(c, input.shape[2 + j], padding_mode, align_corners)
              for j, c in enumerate(coords)]
    if mode == "nearest":
        values, inside = sampler.at([np.rint(c._data).astype(np.int64) for c in coords])
        # a weight of one made from the grid: the grid's gradient is zeros, as torch's
        one = sampler.weight(coords[0] * 0.0 + 1.0, inside)
        return sampler.finish(values * one)
    low = [np.floor(c._data) for c in coords]
    frac = [c - Tensor._wrap(f) for c, f in zip(coords, low)]  # grad 1 w.r.t. the grid
    out = None
    for corner in range(2 ** d):
        upper = [(corner >> (d - 1 - j)) & 1 for j in range(d)]
        weight = None
        for j in range(d):
            w = frac[j] if upper[j] else 1 - frac[j]
            weight = w if weight is None else weight * w
        values, inside = sampler.at([(low[j] + upper[j]).astype(np.int64) for j in range(d)])
        term = values * sampler.weight(weight, inside)
        out = term if out is None else out + term
    return sampler.finish(out)


def _bicubic(sampler, coords, padding_mode, align_corners):
    """4 x 4 taps around each point; each tap's integer position is padded on its own, as
    torch's get_value_bounded does."""
    (y, x) = coords
    height, width = sampler.spatial
    y0, x0 = np.floor(y._data), np.floor(x._data)
    wy = _cubic_weights(y - Tensor._wrap(y0))
    wx = _cubic_weights(x - Tensor._wrap(x0))

    def padded(position, size):
        if padding_mode == "zeros":
            return position.astype(np.int64)
        t = _pad(Tensor._wrap(position), size, padding_mode, align_corners)._data
        return t.astype(np.int64)  # truncation toward zero, as the C++ cast
    out = None
    for i in range(4):
        row = padded(y0 - 1 + i, height)
        for j in range(4):
            values, inside = sampler.at([row, padded(x0 - 1 + j, width)])
            term = values * sampler.weight(wy[i] * wx[j], inside)
            out = term if out is None else out + term
    return sampler.finish(out)
