from fastnn import dtypes
from fastnn.device import default_is_meta
from fastnn.meta import to_meta
from fastnn.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a Module registers as a learnable parameter (requires_grad by default)."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = []
        # A tensor is wrapped as it is, sharing its memory and keeping its dtype (torch's
        # Parameter(t)); other data become an array of their own dtype.
        super().__init__(data if isinstance(data, Tensor) else dtypes.as_array(data),
                         requires_grad=requires_grad)
        if not isinstance(data, Tensor) and default_is_meta():
            # a layer's own parameter, made inside `with fastnn.device("meta")` (torch makes
            # it with torch.empty, which the context puts on meta)
            self._data = to_meta(self._data)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Buffer(Tensor):
    """torch.nn.Buffer: `self.x = nn.Buffer(t)` in a Module registers t (detached) as a buffer,
    persistent (in state_dict) unless persistent=False."""

    __slots__ = ("persistent",)

    def __init__(self, data=None, *, persistent=True):
        if data is None:
            data = dtypes.as_array([])
        super().__init__(data.detach() if isinstance(data, Tensor) else dtypes.as_array(data))
        self.persistent = persistent


def __getattr__(name):
    # torch.nn.parameter.UninitializedParameter, defined with the lazy layers
    if name == "UninitializedParameter":
        from fastnn.nn.lazy import UninitializedParameter
        return UninitializedParameter
    raise AttributeError(name)
