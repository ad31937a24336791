"""torch.nn.utils.prune: pruning by masks, as the pruning tutorial uses it.

Pruning parameter `name` of a module moves the Parameter to `name_orig`, adds the buffer
`name_mask` and makes `name` a plain tensor, orig * mask, recomputed by a forward pre-hook
before each call (so gradients reach `name_orig` through the mask). Pruning the same tensor
again combines the masks in a PruningContainer: an unstructured method prunes among the
entries still alive. remove() makes the pruning permanent: `name` is a Parameter again,
holding the masked values.
"""
from abc import ABC, abstractmethod
from numbers import Integral, Real

import numpy as np

import fastnn
from fastnn.nn.parameter import Parameter


def _validate_amount_init(amount):
    if not isinstance(amount, Real) or isinstance(amount, bool):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, Integral) and amount < 0) or \
            (not isinstance(amount, Integral) and (float(amount) > 1.0 or float(amount) < 0.0)):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a "
                         "non-negative integer")


def _validate_amount(amount, tensor_size):
    if isinstance(amount, Integral) and amount > tensor_size:
        raise ValueError(f"amount={amount} should be smaller than the number of parameters to "
                         f"prune={tensor_size}")


def _compute_nparams_toprune(amount, tensor_size):
    if isinstance(amount, Integral):
        return int(amount)
    return int(round(amount * tensor_size))


class BasePruningMethod(ABC):
    _tensor_name: str

    def __call__(self, module, inputs):
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t, default_mask):
        """The new mask (0 = pruned) for tensor t, given the mask already applied."""

    def apply_mask(self, module):
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        hooks = module._hook_table("forward_pre")
        old_method, old_keys = None, []
        for key, (hook, _) in list(hooks.items()):
            if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
                old_method = hook
                old_keys.append(key)
        method = cls(*args, **kwargs)
        method._tensor_name = name
        if old_method is not None:
            container = old_method if isinstance(old_method, PruningContainer) \
                else PruningContainer(old_method)
            container.add_pruning_method(method)
            method = container
        orig = getattr(module, name)
        scores = orig if importance_scores is None else importance_scores
        if importance_scores is not None and tuple(importance_scores.shape) != tuple(orig.shape):
            raise AssertionError(f"importance_scores should have the same shape as parameter "
                                 f"{name} of {module}")
        if old_method is None:
            if not isinstance(orig, Parameter):
                raise TypeError(f"Parameter '{name}' of module {module} has to be a Parameter "
                                "to be pruned")
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = fastnn.ones_like(orig)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        with fastnn.no_grad():
            mask = method.compute_mask(scores.detach(), default_mask=default_mask)
        module.register_buffer(name + "_mask", mask)
        setattr(module, name, method.apply_mask(module))
        module.register_forward_pre_hook(method)
        for key in old_keys:
            del hooks[key]
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        scores = t if importance_scores is None else importance_scores
        mask = default_mask if default_mask is not None else fastnn.ones_like(t)
        return t * self.compute_mask(scores, default_mask=mask)

    def remove(self, module):
        weight = self.apply_mask(module)
        if hasattr(module, self._tensor_name):
            delattr(module, self._tensor_name)
        orig = module._parameters[self._tensor_name + "_orig"]
        orig.data = weight.data
        del module._parameters[self._tensor_name + "_orig"]
        del module._buffers[self._tensor_name + "_mask"]
        setattr(module, self._tensor_name, orig)


class PruningContainer(BasePruningMethod):
    """Successive prunings of one tensor; each new mask only removes more."""

    def __init__(self, *args):
        self._pruning_methods = ()
        if len(args) == 1 and not isinstance(args[0], (tuple, list)):
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        else:
            for method in (args[0] if len(args) == 1 else args):
                self.add_pruning_method(method)

    def add_pruning_method(self, method):
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError("Can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer {self}. Found "
                             f"'{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t, default_mask):
        method = self._pruning_methods[-1]
        if method.PRUNING_TYPE == "unstructured":
            return _prune_alive(method, t, default_mask)
        return default_mask * method.compute_mask(t, default_mask=fastnn.ones_like(default_mask))


def _prune_alive(method, scores, mask):
    """mask with `method` applied among the entries it still keeps (those equal to 1): an
    unstructured method's amount counts the surviving entries only, as torch's."""
    alive = mask._data == 1
    partial = method.compute_mask(fastnn.tensor(scores.detach()._data[alive]),
                                  default_mask=fastnn.ones(int(alive.sum()), dtype=mask.dtype))
    out = mask.detach().clone()
    out._data[alive] = partial._data
    return out


class Identity(BasePruningMethod):
    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


class _SmallestUnstructured(BasePruningMethod):
    """Prunes the `amount` entries with the lowest scores(t)."""
    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _validate_amount_init(amount)
        self.amount = amount

    def scores(self, t):
        raise NotImplementedError

    def compute_mask(self, t, default_mask):
        size = t.numel()
        _validate_amount(self.amount, size)
        k = _compute_nparams_toprune(self.amount, size)
        mask = default_mask.clone()
        if k:
            drop = fastnn.topk(self.scores(t), k=k, largest=False).indices
            mask.view(-1)[drop] = 0
        return mask


class RandomUnstructured(_SmallestUnstructured):
    def scores(self, t):
        return fastnn.rand(t.numel())

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(_SmallestUnstructured):
    def scores(self, t):
        return t.abs().reshape(-1)

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


def _channel_mask(t, dim, keep, default_mask):
    """default_mask with every channel along dim outside `keep` zeroed."""
    mask = np.zeros(t.shape, dtype=default_mask._data.dtype)
    index = [slice(None)] * t.ndim
    index[dim] = np.asarray(keep, dtype=np.int64)
    mask[tuple(index)] = 1
    return fastnn.tensor(mask) * default_mask


class _LargestChannels(BasePruningMethod):
    """Keeps the channels along dim with the highest channel_scores(t, dim), zeroing the
    `amount` others."""
    PRUNING_TYPE = "structured"

    def channel_scores(self, t, dim):
        raise NotImplementedError

    def compute_mask(self, t, default_mask):
        if t.ndim <= 1:
            raise ValueError("Structured pruning can only be applied to multidimensional "
                             f"tensors. Found tensor of shape {tuple(t.shape)} with {t.ndim} "
                             "dims")
        dim = self.dim % t.ndim
        channels = t.shape[dim]
        _validate_amount(self.amount, channels)
        k = _compute_nparams_toprune(self.amount, channels)
        keep = fastnn.topk(self.channel_scores(t, dim), k=channels - k).indices.numpy()
        return _channel_mask(t, dim, keep, default_mask)


class RandomStructured(_LargestChannels):
    def __init__(self, amount, dim=-1):
        _validate_amount_init(amount)
        self.amount, self.dim = amount, dim

    def channel_scores(self, t, dim):
        return fastnn.rand(t.shape[dim])

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(_LargestChannels):
    def __init__(self, amount, n, dim=-1):
        _validate_amount_init(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def channel_scores(self, t, dim):
        return t.norm(p=self.n, dim=tuple(d for d in range(t.ndim) if d != dim))

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        if tuple(default_mask.shape) != tuple(self.mask.shape):
            raise AssertionError("the mask's shape differs from the tensor's")
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


def identity(module, name):
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name, mask):
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """One pruning over the concatenation of several tensors (the globally smallest by L1,
    say), then each tensor gets its slice of the mask."""
    parameters = list(parameters)
    importance_scores = importance_scores or {}
    scores, masks = [], []
    for module, name in parameters:
        scores.append(importance_scores.get((module, name), getattr(module, name)).reshape(-1))
        masks.append(getattr(module, name + "_mask", fastnn.ones_like(getattr(module, name)))
                     .reshape(-1))
    flat_scores, flat_mask = fastnn.cat(scores), fastnn.cat(masks)
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError('Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f"Found method {pruning_method} of type {method.PRUNING_TYPE}")
    final = _prune_alive(method, flat_scores, flat_mask)
    at = 0
    for module, name in parameters:
        param = getattr(module, name)
        n = param.numel()
        custom_from_mask(module, name, mask=final[at:at + n].reshape(param.shape))
        at += n


def remove(module, name):
    hooks = module._hook_table("forward_pre")
    for key, (hook, _) in list(hooks.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del hooks[key]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning "
                     "can be removed")


def is_pruned(module):
    for _, sub in module.named_modules():
        for hook, _ in sub._hook_table("forward_pre").values():
            if isinstance(hook, BasePruningMethod):
                return True
    return False
