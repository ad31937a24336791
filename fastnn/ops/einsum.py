"""torch.einsum with autograd. Forward is numpy.einsum (optimize='greedy' picks the contraction
order); the gradient of each operand is another einsum of the output gradient with the other
operands, the standard adjoint of a multilinear contraction. Letters an operand sums away on its
own come back by broadcasting, and size-1 broadcast dims are summed back."""
import string

import numpy as np

from fastnn.autograd.function import Function
from fastnn.tensor import Tensor


def _parse(equation, shapes):
    """Explicit subscripts (ellipses expanded to spare capital letters) and the output's."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError(f"einsum(): more operands were provided than specified in the "
                           f"equation" if len(shapes) > len(terms) else
                           "einsum(): fewer operands were provided than specified in the "
                           "equation")
    spare = [c for c in string.ascii_uppercase if c not in equation]
    widest = 0
    expanded = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            n = len(shape) - (len(term) - 3)
            widest = max(widest, n)
            term = term.replace("...", "".join(spare[len(spare) - n:]) if n else "")
        if len(term) != len(shape):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                               f"({len(term)}) does not match the number of dimensions "
                               f"({len(shape)}) for operand {len(expanded)}")
        expanded.append(term)
    ellipsis = "".join(spare[len(spare) - widest:]) if widest else ""
    if arrow:
        output = output.replace("...", ellipsis)
    else:
        counts = {}
        for term in expanded:
            for c in term:
                counts[c] = counts.get(c, 0) + 1
        output = ellipsis + "".join(sorted(c for c, k in counts.items()
                                           if k == 1 and c not in ellipsis))
    return expanded, output


class Einsum(Function):
    tangent_rule = "multilinear"  # linear in each operand: forward AD sums op(.., v_i, ..)
    @staticmethod
    def forward(ctx, equation, *operands):
        terms, output = _parse(equation, [o.shape for o in operands])
        ctx.meta = (terms, output)
        ctx.save_for_backward(*operands)
        return np.asarray(np.einsum(",".join(terms) + "->" + output, *operands,
                                    optimize="greedy"))

    @staticmethod
    def backward(ctx, g):
        terms, output = ctx.meta
        operands = ctx.saved_tensors
        grads = [None]
        for i, (term, x) in enumerate(zip(terms, operands)):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            if len(set(term)) != len(term):
                raise NotImplementedError(f"einsum backward through a repeated index in one "
                                          f"operand ({term!r}) is not implemented in fastnn")
            others = [t for j, t in enumerate(terms) if j != i]
            available = set(output).union(*others) if others else set(output)
            kept = "".join(c for c in term if c in available)
            sizes = {}  # each letter's size: the largest it has anywhere (size 1 broadcasts)
            for t, o in zip([output] + others, [g] + [op for j, op in enumerate(operands)
                                                      if j != i]):
                for c, n in zip(t, o.shape):
                    sizes[c] = max(sizes.get(c, 1), n)
            grad = np.einsum(",".join([output] + others) + "->" + kept, g,
                             *[op for j, op in enumerate(operands) if j != i], optimize="greedy")
            # letters only this operand had: the gradient is the same along them
            full_shape = tuple(sizes.get(c, x.shape[k]) for k, c in enumerate(term))
            grad = grad.reshape([sizes.get(c) if c in kept else 1 for c in term])
            grad = np.broadcast_to(grad, full_shape)
            # dims this operand broadcast (size 1 against a larger size elsewhere): summed back
            axes = tuple(k for k, n in enumerate(x.shape) if n == 1 and full_shape[k] != 1)
            if axes:
                grad = grad.sum(axis=axes, keepdims=True)
            grads.append(np.ascontiguousarray(grad, dtype=x.dtype))
        return tuple(grads)


def einsum(equation, *operands):
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    operands = tuple(o if isinstance(o, Tensor) else Tensor(o) for o in operands)
    return Einsum.apply(equation, *operands)
