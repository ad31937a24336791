"""x[i, :], x[:, j], x[i, j], x[a:b, i]: tuples of ints and slices take a short path
(ops/shape.py, _select_or_slice; d2l's element-by-element product indexes B[i, :] and C[:, j]
65536 times). Values, views, gradients, grad_fn names and torch's bounds errors, against
torch when installed and against NumPy always."""
import itertools

import numpy as np
import pytest

import fastnn

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional test peer
    torch = None

SHAPE = (3, 4, 5)
ITEMS = [0, 2, -1, -3, slice(None), slice(1, 3), slice(None, None, 2), slice(4, 1, -1)]
INDICES = [t for n in (1, 2, 3) for t in itertools.product(ITEMS, repeat=n)][::3]


def _base(lib):
    return lib.tensor(np.arange(60, dtype=np.float32).reshape(SHAPE) / 7, requires_grad=True)


@pytest.mark.parametrize("index", INDICES, ids=str)
def test_values_views_and_gradients_as_numpy(index):
    if any(isinstance(i, slice) and (i.step or 1) < 0 for i in index):
        with pytest.raises(ValueError, match="step must be greater than zero"):
            _base(fastnn)[index]
        return
    x = _base(fastnn)
    y = x[index]
    expected = x.detach().numpy()[index]
    np.testing.assert_array_equal(y.detach().numpy(), expected)
    y.sum().backward()
    mask = np.zeros(SHAPE, np.float32)
    mask[index] = 1
    np.testing.assert_array_equal(x.grad.numpy(), mask)
    plain = fastnn.zeros(SHAPE)
    view = plain[index]
    view.add_(1)  # a view: the write shows in the base
    np.testing.assert_array_equal(plain.numpy(), mask)


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize("index", INDICES, ids=str)
def test_same_results_and_names_as_torch(index):
    results = []
    for lib in (torch, fastnn):
        x = _base(lib)
        try:
            y = x[index]
        except Exception as exc:  # noqa: BLE001 - the two errors are compared
            results.append((type(exc), str(exc)))
            continue
        results.append((y.detach().numpy().copy(), y.grad_fn.name() if y.grad_fn
                        else None, tuple(y.shape)))
    ours, theirs = results[1], results[0]
    if isinstance(theirs[0], np.ndarray):
        np.testing.assert_array_equal(ours[0], theirs[0])
        assert ours[1:] == theirs[1:]
    else:
        assert ours == theirs


@pytest.mark.parametrize("index", [slice(None, None, -1), (0, slice(3, 0, -1)),
                                   (None, slice(None, None, -2)), ([0, 1], slice(None, None, -1)),
                                   (Ellipsis, slice(None, None, -1))], ids=str)
def test_negative_steps_are_refused_as_torch_does(index):
    """NumPy would give a reversed view; torch has none."""
    x = fastnn.zeros(3, 4)
    for action in (lambda: x[index], lambda: x.__setitem__(index, 1.0)):
        with pytest.raises(ValueError, match="step must be greater than zero"):
            action()
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        x[0, ::0]


@pytest.mark.parametrize("index,message", [
    ((3, 0), "index 3 is out of bounds for dimension 0 with size 3"),
    ((0, -5), "index -5 is out of bounds for dimension 1 with size 4"),
    ((slice(None), 4), "index 4 is out of bounds for dimension 1 with size 4"),
    ((0, 0, 5), "index 5 is out of bounds for dimension 2 with size 5"),
    ((0, 0, 0, 0), "too many indices for tensor of dimension 3"),
])
def test_torchs_index_errors(index, message):
    with pytest.raises(IndexError, match=message):
        _base(fastnn)[index]
    if torch is not None:
        with pytest.raises(IndexError, match=message):
            _base(torch)[index]


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
def test_grad_fn_is_torchs_last_indexing_step():
    """x[:] is an alias, x[0, 1:3] ends in a slice, x[1:3, 0] in a select, x[0, None] in an
    unsqueeze; a whole-dimension slice is no step."""
    cases = [(slice(None), slice(None)), (Ellipsis,), (slice(0, 3),), (slice(0, 9),),
             (slice(None), slice(0, 4, 1)), (0, slice(1, 3)), (slice(0, 2), 1), (None, 0),
             (0, None), (slice(0, 3, 2),), (Ellipsis, None), (Ellipsis, 1), (1, Ellipsis),
             (slice(1, None),), (slice(-3, None), 0, slice(None)), (None, Ellipsis, 2, None)]
    names = []
    for lib in (torch, fastnn):
        x = _base(lib)
        names.append([x[index].grad_fn.name() for index in cases])
    assert names[1] == names[0]
