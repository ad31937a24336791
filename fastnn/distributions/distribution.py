"""The Distribution base: batch and event shapes, sample shapes, argument validation with
torch's message, and the repr torch prints."""
import numpy as np

from fastnn.tensor import Size, Tensor

_validate_default = True


def as_tensor(value):
    if isinstance(value, Tensor):
        return value if value._data.dtype.kind == "f" else value.float()
    return Tensor._wrap(np.asarray(value, dtype=np.float32))


class Distribution:
    has_rsample = False
    has_enumerate_support = False
    # name -> a constraints.Constraint, or (its repr, a predicate on the values)
    arg_constraints = {}
    support = None

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape, self._event_shape = Size(batch_shape), Size(event_shape)
        validate = _validate_default if validate_args is None else validate_args
        if validate:
            from fastnn.distributions.constraints import Constraint, is_dependent
            for name, constraint in self.arg_constraints.items():
                if isinstance(constraint, Constraint):
                    if is_dependent(constraint):
                        continue  # the distribution checks it itself (torch skips it too)
                    constraint, valid = repr(constraint), constraint._check
                else:
                    constraint, valid = constraint
                value = self.__dict__.get(name)
                if value is None:
                    continue
                data = value._data if isinstance(value, Tensor) else np.asarray(value)
                if not np.all(valid(data)):
                    raise ValueError(
                        f"Expected parameter {name} (Tensor of shape {tuple(data.shape)}) of "
                        f"distribution {self!r} to satisfy the constraint {constraint}, but "
                        f"found invalid values:\n{as_tensor(value).detach()}")

    @staticmethod
    def set_default_validate_args(value):
        global _validate_default
        _validate_default = bool(value)

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=()):
        return tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape)

    def sample(self, sample_shape=()):
        from fastnn.autograd.grad_mode import no_grad
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__} has no reparameterized sampler")

    # what a distribution does not define raises as torch's base class does
    @property
    def mean(self):
        raise NotImplementedError

    @property
    def mode(self):
        raise NotImplementedError(f"{self.__class__} does not implement mode")

    @property
    def variance(self):
        raise NotImplementedError

    def log_prob(self, value):
        raise NotImplementedError

    def cdf(self, value):
        raise NotImplementedError

    def icdf(self, value):
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError

    def enumerate_support(self, expand=True):
        raise NotImplementedError

    @property
    def stddev(self):
        return self.variance.sqrt()

    def perplexity(self):
        return self.entropy().exp()

    def sample_n(self, n):
        return self.sample((n,))

    def __repr__(self):
        params = self.__dict__.get("_given") or [
            name for name in self.arg_constraints if self.__dict__.get(name) is not None]
        parts = []
        for name in params:
            value = self.__dict__[name]
            shown = value.item() if value.numel() == 1 and value.ndim == 0 else value.shape
            parts.append(f"{name}: {shown}")
        return f"{type(self).__name__}({', '.join(parts)})"


# --- torch's draws (torch/distributions/utils.py and each sampler): a seed gives its samples ---
def _filled(shape, dtype, fill, *args):
    """torch's `x.new(shape).<fill>_(*args)` (normal_, uniform_, exponential_, cauchy_)."""
    from fastnn.creation import empty
    return getattr(empty(tuple(shape), dtype=dtype), fill + "_")(*args)


def _standard_normal(shape, dtype):
    """torch.distributions.utils._standard_normal: torch.empty(shape).normal_()."""
    return _filled(shape, dtype, "normal")


def _rand(shape, dtype):
    from fastnn.creation import rand
    return rand(*tuple(shape), dtype=dtype)
