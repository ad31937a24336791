"""hardsigmoid, hardswish, mish, selu, celu, glu, softsign, softshrink, hardshrink, tanhshrink,
threshold and Softmax2d: functions and modules against torch and finite differences (inputs
kept away from the kinks), large inputs without overflow, reprs and in-place forms."""
import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn.nn import functional as F
from conftest import requires_torch
from gradcheck import check_op

try:
    import torch
except ImportError:
    torch = None

# away from the kinks at 0, +-0.5 (shrink), +-3 (hard), 0.1 (threshold)
X = np.array([[-4.2, -2.1, -0.8, -0.3, 0.2, 0.35, 0.9, 2.4, 3.7, 5.0]])

CASES = {
    "hardsigmoid": (lambda F_, x: F_.hardsigmoid(x), X),
    "hardswish": (lambda F_, x: F_.hardswish(x), X),
    "mish": (lambda F_, x: F_.mish(x), X),
    "selu": (lambda F_, x: F_.selu(x), X),
    "celu": (lambda F_, x: F_.celu(x, alpha=0.7), X),
    "glu": (lambda F_, x: F_.glu(x, dim=1), X),
    "glu_dim0": (lambda F_, x: F_.glu(x.reshape(2, 5), 0), X),
    "softsign": (lambda F_, x: F_.softsign(x), X),
    "softshrink": (lambda F_, x: F_.softshrink(x, 0.5), X),
    "hardshrink": (lambda F_, x: F_.hardshrink(x, 0.5), X),
    "tanhshrink": (lambda F_, x: F_.tanhshrink(x), X),
    "threshold": (lambda F_, x: F_.threshold(x, 0.1, 20.0), X),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_and_backward(name):
    fn, x = CASES[name]
    check_op(lambda t: fn(F, t), [x], torch_fn=(lambda t: fn(torch.nn.functional, t))
             if torch is not None else None)


@pytest.mark.parametrize("name", ["mish", "selu", "celu"])
def test_large_inputs_stay_finite(name):
    x = fastnn.tensor([-1e4, -100.0, 100.0, 1e4], requires_grad=True)
    out = getattr(F, name)(x)
    out.sum().backward()
    assert np.isfinite(out.detach().numpy()).all() and np.isfinite(x.grad.numpy()).all()


MODULES = [("Hardsigmoid", ()), ("Hardswish", ()), ("Mish", ()), ("SELU", (True,)),
           ("CELU", (0.5,)), ("GLU", (0,)), ("Softsign", ()), ("Softshrink", (0.3,)),
           ("Hardshrink", ()), ("Tanhshrink", ()), ("Threshold", (0.1, 20.0)),
           ("Threshold", (0.1, 20, True)), ("Softmax2d", ())]


@requires_torch
@pytest.mark.parametrize("name,args", MODULES)
def test_modules_match_torch(name, args):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(0).standard_normal((2, 4, 3, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(fastnn.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(),
                               rtol=1e-5, atol=1e-6)


def test_glu_odd_dimension_error():
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is "
                                           "size 5"):
        F.glu(fastnn.zeros(2, 5))
