"""torch.utils.checkpoint: activation checkpointing. The checkpointed function runs without
recording a graph, so its intermediate activations are freed after the forward pass; backward
runs it again with the graph recorded (the same random numbers: the generator's state is
saved and restored, so a dropout draws the same mask) and back-propagates through that copy
(Chen et al. 2016, "Training deep nets with sublinear memory cost").

use_reentrant=True (torch 2.13's default when it is not given, with torch's warning) gives
gradients only when an input requires grad, as torch's reentrant variant; use_reentrant=False
also reaches the function's parameters when no input requires grad."""
import warnings

import fastnn
from fastnn.autograd import grad_mode
from fastnn.autograd.custom_function import Function
from fastnn.tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


class _Recompute(Function):
    @staticmethod
    def forward(ctx, function, preserve_rng_state, kwargs, anchor, *args):
        ctx.function, ctx.kwargs = function, kwargs
        ctx.rng_state = fastnn.get_rng_state() if preserve_rng_state else None
        ctx.arg_is_tensor = tuple(isinstance(a, Tensor) for a in args)
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        ctx.plain_args = [None if isinstance(a, Tensor) else a for a in args]
        with grad_mode.no_grad():
            return function(*args, **kwargs)

    @staticmethod
    def backward(ctx, *grad_outputs):
        saved = iter(ctx.saved_tensors)
        args = []
        for is_tensor, plain in zip(ctx.arg_is_tensor, ctx.plain_args):
            if is_tensor:
                t = next(saved)
                args.append(t.detach().requires_grad_(t.requires_grad))
            else:
                args.append(plain)
        current = fastnn.get_rng_state() if ctx.rng_state is not None else None
        if ctx.rng_state is not None:
            fastnn.set_rng_state(ctx.rng_state)
        try:
            with grad_mode.enable_grad():
                outputs = ctx.function(*args, **ctx.kwargs)
        finally:
            if current is not None:
                fastnn.set_rng_state(current)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grad_outputs)
                 if isinstance(o, Tensor) and o.requires_grad and g is not None]
        if pairs:
            with grad_mode.enable_grad():
                fastnn.autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
        grads = tuple(a._grad if isinstance(a, Tensor) and a.requires_grad else None
                      for a in args)
        return (None, None, None, None) + grads


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default",
               debug=False, preserve_rng_state=True, **kwargs):
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed "
                      "explicitly. use_reentrant=False is recommended, but if you need to "
                      "preserve the current default behavior, you can pass use_reentrant=True.",
                      stacklevel=2)
        use_reentrant = True
    if use_reentrant and kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if not grad_mode.is_grad_enabled():
        return function(*args, **kwargs)
    if use_reentrant:
        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                          stacklevel=2)
        anchor = None
    else:
        # an input that always wants a gradient, so the recomputation is recorded even when
        # only the function's own parameters need gradients
        anchor = fastnn.zeros((), requires_grad=True)
    return _Recompute.apply(function, preserve_rng_state, kwargs, anchor, *args)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Splits a Sequential (or a list of modules) into `segments` runs and checkpoints each
    but the last, as torch's."""
    if isinstance(functions, fastnn.nn.Sequential):
        functions = list(functions.children())
    functions = list(functions)
    size = len(functions) // segments

    def run(start, end):
        def forward(x):
            for f in functions[start:end + 1]:
                x = f(x)
            return x
        return forward

    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant, **kwargs)
    return run(end + 1, len(functions) - 1)(input)
