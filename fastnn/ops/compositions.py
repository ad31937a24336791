"""torch functions that are compositions of other ops: amax, amin, ravel, broadcast_to,
hstack, vstack, movedim (moveaxis)."""
from fastnn.ops import reductions
from fastnn.ops.complex_ops import refuse_order
from fastnn.ops.shape import cat, permute
from fastnn.ops.manipulation import _dim as _checked_dim


def _dims(dim, ndim):
    """The reduced dims, last first, so each reduction leaves the next one's index valid."""
    if dim is None or dim == ():
        dims = range(ndim)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(sorted({_checked_dim(d, ndim) for d in dims}, reverse=True))


def amax(input, dim=(), keepdim=False):
    """The largest value over each of `dim` (all dims by default), values only."""
    refuse_order(input._data, "max_values_cpu")
    out = input
    for d in _dims(dim, input.ndim):
        out = reductions.max(out, d, keepdim=keepdim).values
    return out


def amin(input, dim=(), keepdim=False):
    refuse_order(input._data, "min_values_cpu")
    out = input
    for d in _dims(dim, input.ndim):
        out = reductions.min(out, d, keepdim=keepdim).values
    return out


def ravel(input):
    return input.reshape(-1)


def broadcast_to(input, size):
    return input.expand(*size)


def _at_least(tensors, ndim):
    return [t.reshape(1, -1) if ndim == 2 and t.ndim < 2 else t for t in tensors]


def hstack(tensors):
    """Concatenated along dim 1, or dim 0 for 1-D tensors."""
    tensors = list(tensors)
    return cat(tensors, 0 if tensors and tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Rows stacked: 1-D tensors become rows first."""
    return cat(_at_least(tensors, 2), 0)


def movedim(input, source, destination):
    sources = (source,) if isinstance(source, int) else tuple(source)
    targets = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(sources) != len(targets):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source "
                           f"({list(sources)} dims) should contain the same number of dims as "
                           f"destination ({list(targets)} dims)")
    n = input.ndim
    sources = [_checked_dim(s, n) for s in sources]
    targets = [_checked_dim(t, n) for t in targets]
    order = [None] * n
    for s, t in zip(sources, targets):
        order[t] = s
    rest = iter(d for d in range(n) if d not in sources)
    order = [next(rest) if o is None else o for o in order]
    return permute(input, order)


moveaxis = movedim
