"""optimizer.state as torch has it: a defaultdict(dict) keyed by the parameter tensors, so
`optimizer.state[p]["exp_avg"]` and `for p, s in optimizer.state.items()` work. Lookups go by
the tensor's identity (a dict keyed by tensors would compare them elementwise); the
optimizers' own loops pass the parameter too, so every entry knows its tensor."""
from collections.abc import MutableMapping

from fastnn.tensor import Tensor


class ParamState(MutableMapping):
    __slots__ = ("_states", "_params")

    def __init__(self):
        self._states = {}  # id(param) -> that parameter's state dict
        self._params = {}  # id(param) -> param

    @staticmethod
    def _key(key):
        return id(key) if isinstance(key, Tensor) else key

    def __getitem__(self, key):
        if isinstance(key, Tensor):
            return self.setdefault(key)  # defaultdict(dict), as torch's
        return self._states[key]

    def __setitem__(self, key, value):
        k = self._key(key)
        if isinstance(key, Tensor):
            self._params[k] = key
        self._states[k] = value

    def __delitem__(self, key):
        k = self._key(key)
        del self._states[k]
        self._params.pop(k, None)

    def __contains__(self, key):
        return self._key(key) in self._states

    def __iter__(self):
        params = self._params
        return iter([params.get(k, k) for k in self._states])

    def __len__(self):
        return len(self._states)

    def setdefault(self, key, default=None):
        k = self._key(key)
        state = self._states.get(k)
        if state is None:
            state = self._states[k] = {} if default is None else default
            if isinstance(key, Tensor):
                self._params[k] = key
        return state

    def by_id(self):
        """{id(param): state}: what state_dict numbers by position."""
        return self._states

    def __repr__(self):
        return repr(dict(self.items()))
