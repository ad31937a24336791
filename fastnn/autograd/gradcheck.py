"""torch.autograd.gradcheck: a function's backward (and, with check_forward_ad, its
forward-mode derivatives) against central finite differences.

For each differentiable input the numerical Jacobian comes from perturbing its elements one at
a time by +-eps (in place, restored afterwards), and the analytical one from one backward pass
per output element. Both are laid out as torch's, (input elements, output elements), so a
failure prints the same two matrices torch would. As in torch, backward also has to be
reentrant (the same gradients on a second run) and multiplied by grad_output (a zero
grad_output gives zero gradients). Double precision is expected: float32's rounding makes the
differences too coarse for the default tolerances, and the check warns about it.

gradgradcheck runs gradcheck on the backward pass itself, taken with create_graph=True.
"""
import warnings

import numpy as np

from fastnn.autograd.grad_mode import enable_grad


class GradcheckError(RuntimeError):
    """Error raised by gradcheck and gradgradcheck."""


def _as_tuple(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _differentiable_outputs(outputs):
    from fastnn.tensor import Tensor
    return [o for o in _as_tuple(outputs) if isinstance(o, Tensor) and o.dtype.is_floating_point]


def _check_inputs(inputs):
    from fastnn import dtypes
    from fastnn.tensor import Tensor
    wanted = False
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad:
            if x.dtype != dtypes.float64:
                warnings.warn(f"Input #{i} requires gradient and is not a double precision "
                              "floating point or complex. This check will likely fail if all "
                              "the inputs are not of double precision floating point or "
                              "complex. ", UserWarning, stacklevel=3)
            wanted = True
    if not wanted:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of them have requires_grad=True.")


def _numerical(func, inputs, wrt, outputs, eps):
    """Per input in `wrt`, per output: the (input numel, output numel) finite-difference
    Jacobian, in the output's dtype."""
    result = []
    for k in wrt:
        values = inputs[k]._data  # perturbed in place: views of the input see it too
        flat_index = list(np.ndindex(values.shape))
        per_output = [np.zeros((len(flat_index), o.numel()), dtype=o._data.dtype)
                      for o in outputs]
        for row, index in enumerate(flat_index):
            original = values[index].copy()
            evaluated = []
            for step in (eps, -eps):
                values[index] = original + step
                with enable_grad():  # (values only; a function may differentiate inside)
                    evaluated.append([o._data.astype(np.float64).ravel()
                                      for o in _differentiable_outputs(func(*inputs))])
                values[index] = original
            for j, (plus, minus) in enumerate(zip(*evaluated)):
                per_output[j][row] = (plus - minus) / (2 * eps)
        result.append(per_output)
    return result


def _analytical(inputs, wrt, outputs):
    """Per input in `wrt`, per output: the Jacobian by backward passes (one per output
    element, grad_output a unit vector)."""
    import fastnn
    from fastnn.autograd.engine import grad
    targets = [inputs[k] for k in wrt]
    result = [[np.zeros((t.numel(), o.numel()), dtype=o._data.dtype) for o in outputs]
              for t in targets]
    for j, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        for col in range(out.numel()):
            unit = fastnn.zeros(out.numel(), dtype=out.dtype)
            unit[col] = 1
            found = grad([out], targets, grad_outputs=[unit.reshape(out.shape)],
                         retain_graph=True, allow_unused=True)
            for i, g in enumerate(found):
                if g is not None:
                    result[i][j][:, col] = g._data.ravel()
    return result


def _forward_analytical(func, inputs, wrt, outputs):
    """The same Jacobians by forward-mode AD: one pass per input element, its tangent a unit
    vector (autograd/forward_ad.py)."""
    from fastnn.autograd import forward_ad
    from fastnn.tensor import Tensor
    result = [[np.zeros((inputs[k].numel(), o.numel()), dtype=o._data.dtype) for o in outputs]
              for k in wrt]
    for i, k in enumerate(wrt):
        x = inputs[k]
        for row in range(x.numel()):
            unit = np.zeros(x._data.size, x._data.dtype)
            unit[row] = 1
            with forward_ad.dual_level():
                args = list(inputs)
                args[k] = forward_ad.make_dual(x, Tensor._wrap(unit.reshape(x._data.shape)))
                for j, out in enumerate(_differentiable_outputs(func(*args))):
                    tangent = forward_ad.unpack_dual(out).tangent
                    if tangent is not None:
                        result[i][j][row] = tangent._data.ravel()
    return result


def _matrix(array):
    from fastnn.tensor import Tensor
    return Tensor._wrap(np.ascontiguousarray(array))


def _fail(message, raise_exception):
    if raise_exception:
        raise GradcheckError(message)
    return False


def gradcheck(func, inputs, *, eps=1e-06, atol=1e-05, rtol=0.001, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False, masked=None):
    """True when func's analytical Jacobian matches its finite differences (each entry within
    atol + rtol * |numerical|); otherwise GradcheckError, or False with
    raise_exception=False. fast_mode checks the full Jacobians too (a stronger check)."""
    from fastnn.tensor import Tensor
    for flag, name in ((check_batched_grad, "check_batched_grad"),
                       (check_batched_forward_grad, "check_batched_forward_grad")):
        if flag:
            raise NotImplementedError(f"gradcheck({name}=True): fastnn's gradcheck has no "
                                      "batched (vmap) checks")
    inputs = _as_tuple(inputs)
    _check_inputs(inputs)
    wrt = [k for k, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    with enable_grad():
        outputs = _differentiable_outputs(func(*inputs))
    numerical = _numerical(func, inputs, wrt, outputs, eps)
    if not outputs or not any(o.requires_grad for o in outputs):
        if any(np.any(m != 0) for per in numerical for m in per):
            return _fail("Numerical gradient for function expected to be zero",
                         raise_exception)
        return True
    if check_forward_ad:
        forward = _forward_analytical(func, inputs, wrt, outputs)
        for i, k in enumerate(wrt):
            for j in range(len(outputs)):
                a, n = forward[i][j], numerical[i][j]
                if not np.allclose(a, n, rtol=rtol, atol=atol):
                    return _fail(f"Jacobian computed with forward mode mismatch for output "
                                 f"{j:d} with respect to input {k:d},\nnumerical:{_matrix(n)}\n"
                                 f"analytical:{_matrix(a)}\n", raise_exception)
    if not check_backward_ad:
        return True
    analytical = _analytical(inputs, wrt, outputs)
    for i, k in enumerate(wrt):
        for j in range(len(outputs)):
            a, n = analytical[i][j], numerical[i][j]
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                return _fail(f"Jacobian mismatch for output {j:d} with respect to input "
                             f"{k:d},\nnumerical:{_matrix(n)}\nanalytical:{_matrix(a)}\n",
                             raise_exception)
    again = _analytical(inputs, wrt, outputs)
    for first, second in zip(analytical, again):
        for a, b in zip(first, second):
            if a.size and np.abs(a - b).max() > nondet_tol:
                return _fail("Backward is not reentrant, i.e., running backward with same "
                             "input and grad_output multiple times gives different values, "
                             "although analytical gradient matches numerical gradient."
                             f"The tolerance for nondeterminism was {nondet_tol}.",
                             raise_exception)
    return _zero_grad_output_check(inputs, wrt, outputs, raise_exception)


def _zero_grad_output_check(inputs, wrt, outputs, raise_exception):
    """A zero grad_output must give zero gradients (backward multiplies by grad_output)."""
    import fastnn
    from fastnn.autograd.engine import grad
    live = [o for o in outputs if o.requires_grad]
    found = grad(live, [inputs[k] for k in wrt], grad_outputs=[fastnn.zeros_like(o) for o in live],
                 retain_graph=True, allow_unused=True)
    for g, k in zip(found, wrt):
        if g is None:
            continue
        if np.any(g._data != 0):
            return _fail("backward not multiplied by grad_output", raise_exception)
        if g.dtype != inputs[k].dtype:
            return _fail("grad is incorrect type", raise_exception)
        if g.shape != inputs[k].shape:
            return _fail("grad is incorrect size", raise_exception)
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-06, atol=1e-05, rtol=0.001,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """gradcheck of func's backward pass itself: the gradients of func (taken with
    create_graph=True) are checked, as a function of the inputs and of the grad_outputs,
    against finite differences. grad_outputs default to random double tensors, as torch's."""
    import fastnn
    from fastnn.autograd.engine import grad
    from fastnn.tensor import Tensor
    inputs = _as_tuple(inputs)
    with enable_grad():
        outputs = _differentiable_outputs(func(*inputs))
    if grad_outputs is None:
        grad_outputs = tuple(fastnn.randn(tuple(o.shape), dtype=o.dtype).requires_grad_(True)
                             for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    count = len(inputs)

    def backward_of_func(*values):
        ins, gos = values[:count], values[count:]
        outs = [o for o in _differentiable_outputs(func(*ins)) if o.requires_grad]
        wanted = [x for x in ins if isinstance(x, Tensor) and x.requires_grad]
        found = grad(outs, wanted, grad_outputs=list(gos[:len(outs)]), create_graph=True,
                     allow_unused=True)
        return tuple(g for g in found if g is not None)
    return gradcheck(backward_of_func, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol)
