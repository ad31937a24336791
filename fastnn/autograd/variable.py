"""torch.autograd.Variable, the pre-0.4 wrapper older programs still import: Variable(t) is a
tensor on t's storage (requires_grad as asked), and every tensor is an instance of Variable."""
import warnings


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        from fastnn.tensor import Tensor
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    def __new__(cls, data=None, requires_grad=False, volatile=False):
        from fastnn.tensor import Tensor
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():`"
                          " instead.", UserWarning, stacklevel=2)
        if data is None:
            from fastnn.creation import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        out = data.detach()
        if requires_grad:
            out.requires_grad_(True)
        return out
