"""Checking an op's forward and backward: against central finite differences, and against
torch when it is installed (tinygrad's one-helper-per-op-test pattern)."""
import numpy as np

import fastnn


def numeric_grads(fn, arrays, weights, eps=1e-2):
    """d(sum(fn(*arrays) * weights))/d(array) by central differences, accumulated in float64."""
    grads = []
    for i, base in enumerate(arrays):
        grad = np.zeros(base.shape, dtype=np.float64)
        for index in np.ndindex(*base.shape):
            values = []
            for step in (eps, -eps):
                shifted = [a.copy() for a in arrays]
                shifted[i][index] += step
                out = fn(*[fastnn.tensor(a) for a in shifted])._data.astype(np.float64)
                values.append(float((out * weights).sum()))
            grad[index] = (values[0] - values[1]) / (2 * eps)
        grads.append(grad)
    return grads


def analytic(fn, arrays, weights):
    tensors = [fastnn.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    out.backward(fastnn.tensor(weights.astype(np.float32)))
    return out._data, [t.grad._data for t in tensors]


def check_op(fn, arrays, torch_fn=None, rtol=2e-2, atol=2e-3, seed=0, eps=1e-2):
    arrays = [np.asarray(a, dtype=np.float32) for a in arrays]
    probe = fn(*[fastnn.tensor(a) for a in arrays])
    weights = np.random.default_rng(seed).standard_normal(probe.shape).astype(np.float32)
    out, grads = analytic(fn, arrays, weights)
    for got, want in zip(grads, numeric_grads(fn, arrays, weights, eps)):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
    if torch_fn is not None:
        try:
            import torch
        except ImportError:
            return
        tt = [torch.tensor(a, requires_grad=True) for a in arrays]
        tout = torch_fn(*tt)
        tout.backward(torch.tensor(weights).reshape(tout.shape))
        np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-5, atol=1e-5)
        for got, t in zip(grads, tt):
            np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-4, atol=1e-5)


def assert_same_as_torch(ours, theirs, rtol=1e-6):
    """A fastnn result equals torch's: values (to rtol) and the dtype's name."""
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=rtol)
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]


def raised(calls):
    """What each call raises, as 'ExceptionClass: message' ('no error' when it returns), with
    fastnn's names written as torch's, so two libraries' errors compare as lists."""
    out = []
    for call in calls:
        try:
            call()
            out.append("no error")
        except Exception as error:  # the class and the message are what is compared
            out.append(f"{type(error).__name__}: {error}".replace("fastnn.tensor.", "torch.")
                       .replace("fastnn.", "torch."))
    return out
