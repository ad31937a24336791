"""nn.Module: parameters and submodules registered by attribute assignment, in order, as torch
does, so state_dict keys ('0.weight', 'fc1.bias') match PyTorch's for the same model."""
import collections
from collections import OrderedDict

import numpy as np

from fastnn.nn.parameter import Buffer, Parameter
from fastnn.tensor import Size, Tensor


class _IncompatibleKeys(collections.namedtuple("_IncompatibleKeys",
                                             ["missing_keys", "unexpected_keys"])):
    """What load_state_dict returns (torch's _IncompatibleKeys)."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


IncompatibleKeys = _IncompatibleKeys


def _entries(module, prefix):
    """state_dict's keys and tensors (None for `_extra_state`) without its hooks."""
    for name, param in module._parameters.items():
        if param is not None:
            yield prefix + name, param
    transient = module.__dict__.get("_non_persistent_buffers_set", ())
    for name, buf in module._buffers.items():
        if buf is not None and name not in transient:
            yield prefix + name, buf
    if type(module).get_extra_state is not Module.get_extra_state:
        yield prefix + "_extra_state", None
    for name, child in module._modules.items():
        if child is not None:
            yield from _entries(child, f"{prefix}{name}.")


def _assign(module, dotted, value):
    """load_state_dict(assign=True): the checkpoint's tensor takes the entry's place (as a
    Parameter where a parameter was)."""
    *path, name = dotted.split(".")
    for part in path:
        module = module._modules[part]
    if name in module._parameters:
        module._parameters[name] = value if isinstance(value, Parameter) else \
            Parameter(value, requires_grad=module._parameters[name].requires_grad)
    else:
        module._buffers[name] = value


def factory_kwargs(module, device, dtype):
    """A layer's device= and dtype= constructor arguments, as torch's: the device must be the
    CPU (torch's CPU-only errors otherwise), and a dtype casts the layer's floating parameters
    and buffers (module.to(dtype=...)) once they are made."""
    if dtype is not None:
        module.to(dtype=dtype)
    if device is not None:
        module.to(device)


def registered(module, name):
    """module.<name> for a registered parameter, read from _parameters directly; else the
    attribute as usual. For a module of a class that defines no attribute of that name this is
    the object attribute access finds (Module.__setattr__ keeps registered names out of the
    instance __dict__), without the failed lookup that precedes __getattr__: 0.04 us against
    0.47, four times in a batch-1 MLP forward (issue 12)."""
    params = module._parameters
    return params[name] if name in params else getattr(module, name)


def _replace_with_copy(module, t):
    """A new parameter (or buffer) object in t's place in `module`, sharing t's data
    (torch.__future__.set_overwrite_module_params_on_conversion(True))."""
    for table in (module._parameters, module._buffers):
        for name, value in table.items():
            if value is t:
                fresh = Parameter(t._data, requires_grad=t.requires_grad) \
                    if isinstance(t, Parameter) else t.detach()
                if t._grad is not None:
                    fresh.grad = t._grad.detach()
                table[name] = fresh
                return fresh
    return t


def _type_name(value):
    """torch.typename's words: a tensor's legacy type name, else the type's name."""
    return value.type() if isinstance(value, Tensor) else type(value).__name__


class Module:
    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required "
                                  "\"forward\" function")

    def __call__(self, *args, **kwargs):
        hooks = self.__dict__.get("_hooks")
        if not hooks:
            return self.forward(*args, **kwargs)
        return _call_with_hooks(self, hooks, args, kwargs)

    # --- hooks (torch's register_*_hook; the handles have .remove()) ----------------------
    def _hook_table(self, kind):
        hooks = self.__dict__.get("_hooks")
        if hooks is None:
            hooks = {"forward_pre": {}, "forward": {}, "backward": {}}
            object.__setattr__(self, "_hooks", hooks)
        return hooks[kind]

    @property
    def _forward_pre_hooks(self):
        """The forward pre-hooks by handle id (the pruning tutorial prints them)."""
        return OrderedDict((key, hook) for key, (hook, _) in
                           self._hook_table("forward_pre").items())

    @property
    def _forward_hooks(self):
        return OrderedDict((key, hook) for key, (hook, _) in
                           self._hook_table("forward").items())

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """hook(module, args) -> None or new args, before forward."""
        from fastnn.autograd.function import RemovableHandle
        return RemovableHandle(self._hook_table("forward_pre"), (hook, with_kwargs))

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False,
                              always_call=False):
        """hook(module, args, output) -> None or a new output, after forward (how torch
        programs pick out feature maps)."""
        from fastnn.autograd.function import RemovableHandle
        return RemovableHandle(self._hook_table("forward"), (hook, with_kwargs))

    def register_full_backward_hook(self, hook, prepend=False):
        """hook(module, grad_input, grad_output) -> None or new grad_input, when the
        gradients with respect to the module's tensor inputs have been computed."""
        from fastnn.autograd.function import RemovableHandle
        return RemovableHandle(self._hook_table("backward"), (hook, False))

    def _has_hooks(self):
        hooks = self.__dict__.get("_hooks")
        return bool(hooks) and any(hooks.values())

    # --- registration ---------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign before Module.__init__() call")
        params, modules = self.__dict__["_parameters"], self.__dict__["_modules"]
        buffers = self.__dict__["_buffers"]
        if isinstance(value, Buffer):  # self.x = nn.Buffer(t): a buffer, with its persistence
            params.pop(name, None)
            modules.pop(name, None)
            self.__dict__.pop(name, None)
            self.register_buffer(name, value, persistent=value.persistent)
            return
        if name in buffers and not isinstance(value, (Parameter, Module)):
            if value is not None and not isinstance(value, Tensor):  # torch's rule and words
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                f"(fastnn.Tensor or None expected)")
            buffers[name] = value  # assigning to a buffer keeps it a buffer, as torch's
            return
        # torch's order of rules: a registered name keeps its place in its dict (children(),
        # state_dict() and Sequential(*model.children()) surgery see the replacement where
        # the original was), and only a Parameter, a Module or None may replace a parameter
        # or a child module
        for kind, table, role, expected in (
                (Parameter, params, "parameter", "fastnn.nn.Parameter"),
                (Module, modules, "child module", "fastnn.nn.Module")):
            if isinstance(value, kind):
                for other in (params, modules, buffers):
                    if other is not table:
                        other.pop(name, None)
                self.__dict__.pop(name, None)
                table[name] = value
                return
            if name in table:
                if value is not None:
                    raise TypeError(f"cannot assign '{_type_name(value)}' as {role} '{name}' "
                                    f"({expected} or None expected)")
                table[name] = None
                return
        object.__setattr__(self, name, value)

    def __getattr__(self, name):
        d = self.__dict__
        if "_parameters" in d and name in d["_parameters"]:
            return d["_parameters"][name]
        if "_buffers" in d and name in d["_buffers"]:
            return d["_buffers"][name]
        if "_modules" in d and name in d["_modules"]:
            return d["_modules"][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name, param):
        if param is None:
            self._parameters.pop(name, None)
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    def register_module(self, name, module):
        self.add_module(name, module)

    def add_module(self, name, module):
        self._modules[name] = module

    def register_buffer(self, name, tensor, persistent=True):
        """State that is saved and loaded but not trained (BatchNorm's running statistics);
        a non-persistent buffer stays out of state_dict. torch's checks and messages."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"buffer name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError('buffer name can\'t contain "."')
        if name == "":
            raise KeyError('buffer name can\'t be empty string ""')
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer "
                            f"'{name}' (torch Tensor or None required)")
        self._buffers[name] = tensor
        transient = self.__dict__.setdefault("_non_persistent_buffers_set", set())
        if persistent:
            transient.discard(name)
        else:
            transient.add(name)

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def _named_members(self, table, prefix, recurse, remove_duplicate):
        """(name, tensor) of each parameter or buffer (`table`), skipping None entries; with
        remove_duplicate a tensor reachable under several names (tied weights) and a shared
        module are listed once."""
        seen = set()
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        for module_prefix, module in modules:
            for name, value in getattr(module, table).items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    # --- traversal ------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        # a module reached twice (shared between two parents) is listed once, as torch's
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                                remove_duplicate)

    def get_submodule(self, target):
        module = self
        for atom in target.split(".") if target else []:
            if not hasattr(module, atom):
                raise AttributeError(f"{type(module).__name__} has no attribute `{atom}`")
            module = getattr(module, atom)
            if not isinstance(module, Module):
                raise AttributeError(f"`{atom}` is not an nn.Module")
        return module

    def _owner_of(self, target):
        """The submodule holding `target`'s last name, and that name (torch's errors)."""
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if not hasattr(module, name):
            raise AttributeError(f"{type(module).__name__} has no attribute `{name}`")
        return module, name

    def get_parameter(self, target):
        module, name = self._owner_of(target)
        param = getattr(module, name)
        if not isinstance(param, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return param

    def get_buffer(self, target):
        module, name = self._owner_of(target)
        if name not in module._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return getattr(module, name)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def children(self):
        for _, module in self.named_children():
            yield module

    def named_children(self):
        """The direct submodules, as torch's: a child set to None is skipped, and one module
        registered under two names is listed once."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def apply(self, fn):
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # --- modes and gradients --------------------------------------------------------------
    def train(self, mode=True):
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                param.grad._data[...] = 0

    # --- device and dtype (torch's Module.to / cpu / float / double / half) ---------------
    def to(self, *args, **kwargs):
        """to(device), to(dtype), to(device, dtype), to(tensor): casts floating parameters and
        buffers in place and returns the module, as torch's."""
        from fastnn import dtypes
        from fastnn.device import check_device
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        fmt = kwargs.pop("memory_format", None)
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, (dtypes.dtype, type)) and not isinstance(arg, str):
                dtype = arg
            elif arg is not None:
                device = arg
        if device is not None:
            self._move(check_device(device))
        if dtype is not None:
            dtype = dtypes.to_dtype(dtype)
            if not dtype.is_floating_point:
                raise TypeError("nn.Module.to only accepts floating point or complex dtypes, "
                                f"but got desired dtype={dtype!r}")
            self._cast_floating(dtype)
        if fmt is not None:  # model.to(memory_format=torch.channels_last): its 4-D weights
            from fastnn import memory_formats
            for module in self.modules():
                for t in list(module._parameters.values()) + list(module._buffers.values()):
                    if t is not None and t._data.ndim == 4 and \
                            fmt is not memory_formats.preserve_format:
                        t._data = memory_formats.laid_out(t._data, fmt)
        return self

    def _move(self, target):
        """Parameters and buffers onto `target`, the CPU or meta (torch's errors for copying
        a meta tensor's data to the CPU: to_empty() is the way there)."""
        from fastnn.tensor import _moved
        for module in self.modules():
            for t in list(module._parameters.values()) + list(module._buffers.values()):
                if t is not None:
                    t._data = _moved(t.detach(), target)._data
                    if t._grad is not None:
                        t.grad._data = _moved(t.grad, target)._data

    def _cast_floating(self, dtype):
        from fastnn.future_flags import flags
        for module in self.modules():
            tensors = list(module._parameters.values()) + list(module._buffers.values())
            for t in tensors:
                if t is not None and t._data.dtype.kind == "f" and t._data.dtype != dtype.numpy:
                    if flags.overwrite and not flags.swap:  # new objects, as torch's
                        t = _replace_with_copy(module, t)
                    t._data = t._data.astype(dtype.numpy)
                    if t._grad is not None:
                        t.grad._data = t.grad._data.astype(dtype.numpy)

    def cpu(self):
        return self

    def cuda(self, device=None):
        from fastnn.device import check_device
        check_device("cuda")

    def float(self):
        return self.to(dtype="float32")

    def double(self):
        return self.to(dtype="float64")

    def half(self):
        return self.to(dtype="float16")

    def bfloat16(self):
        return self.to(dtype="bfloat16")

    def type(self, dst_type):
        return self.to(dtype=dst_type)

    def compile(self, *args, **kwargs):
        """torch's in-place Module.compile: fastnn runs eagerly, so there is nothing to do."""
        from fastnn.compiling import compile as check_arguments
        check_arguments(lambda: None, *args, **kwargs)

    def requires_grad_(self, requires_grad=True):
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    # --- state ----------------------------------------------------------------------------
    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """OrderedDict of name -> Tensor (shares memory) for parameters and persistent buffers,
        in torch's order and with torch's key names (after `prefix`), added to `destination`
        when given; keep_vars keeps the tensors themselves rather than detached views. As
        torch's: each module's state-dict pre-hooks run before its entries, its
        get_extra_state() (when overridden) is saved as `_extra_state` after its own tensors,
        its children follow, then its post-hooks; `_metadata` holds each module's version."""
        out = OrderedDict() if destination is None else destination
        metadata = getattr(out, "_metadata", None)
        if metadata is None:
            try:
                metadata = out._metadata = OrderedDict()
            except AttributeError:  # a plain dict given as destination
                metadata = None
        local = {"version": getattr(type(self), "_version", 1)}
        if metadata is not None:
            metadata[prefix[:-1]] = local
        hooks = self.__dict__.get("_sd_hooks")
        if hooks:
            for hook in list(hooks["save_pre"].values()):
                hook(self, prefix, keep_vars)
        for name, param in self._parameters.items():
            if param is not None:
                out[prefix + name] = param if keep_vars else param.detach()
        transient = self.__dict__.get("_non_persistent_buffers_set", ())
        for name, buf in self._buffers.items():
            if buf is not None and name not in transient:
                out[prefix + name] = buf if keep_vars else buf.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            out[prefix + "_extra_state"] = self.get_extra_state()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=out, prefix=f"{prefix}{name}.",
                                  keep_vars=keep_vars)
        if hooks:
            for hook in list(hooks["save_post"].values()):
                hook(self, out, prefix, local)
        return out

    def share_memory(self):
        """Parameters and buffers moved to shared memory (Tensor.share_memory_), so the
        processes the module is sent to train the same values (the Hogwild recipe)."""
        for tensor in list(self.parameters()) + list(self.buffers()):
            tensor.share_memory_()
        return self

    def to_empty(self, *, device=None, recurse=True):
        """Parameters and buffers replaced by uninitialised tensors of the same shapes, on
        `device` (the way from the meta device to the CPU, as torch's)."""
        from fastnn.device import check_device
        from fastnn.meta import meta_array
        on_meta = check_device(device if device is not None else "cpu").type == "meta"
        modules = self.modules() if recurse else [self]
        for module in modules:
            for table in (module._parameters, module._buffers):
                for name, value in table.items():
                    if value is not None:
                        shape, dtype = value._data.shape, value._data.dtype
                        # zeros rather than uninitialised memory: no stale data is visible
                        value._data = meta_array(shape, dtype) if on_meta else \
                            np.zeros(shape, dtype)
        return self

    def get_extra_state(self):
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never "
                           "be called. Please file an issue at "
                           "https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml "
                           "to report this bug.")

    def set_extra_state(self, state):
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never "
                           "be called. Please file an issue at "
                           "https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml "
                           "to report this bug.")

    def _sd_hook_table(self, kind):
        hooks = self.__dict__.get("_sd_hooks")
        if hooks is None:
            hooks = {"save_pre": {}, "save_post": {}, "load_pre": {}, "load_post": {}}
            object.__setattr__(self, "_sd_hooks", hooks)
        return hooks[kind]

    def register_state_dict_pre_hook(self, hook):
        """hook(module, prefix, keep_vars) before the module's entries are saved."""
        from fastnn.autograd.function import RemovableHandle
        return RemovableHandle(self._sd_hook_table("save_pre"), hook)

    def register_state_dict_post_hook(self, hook):
        """hook(module, state_dict, prefix, local_metadata) after the module's subtree."""
        from fastnn.autograd.function import RemovableHandle
        return RemovableHandle(self._sd_hook_table("save_post"), hook)

    _register_state_dict_hook = register_state_dict_post_hook

    def register_load_state_dict_pre_hook(self, hook):
        """hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs) before loading; it may edit state_dict (rename keys)."""
        from fastnn.autograd.function import RemovableHandle
        return RemovableHandle(self._sd_hook_table("load_pre"), hook)

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        if with_module:
            return self.register_load_state_dict_pre_hook(hook)
        return self.register_load_state_dict_pre_hook(
            lambda module, *args: hook(*args))

    def register_load_state_dict_post_hook(self, hook):
        """hook(module, incompatible_keys) after loading; it may clear the key lists in place
        before strict loading judges them."""
        from fastnn.autograd.function import RemovableHandle
        return RemovableHandle(self._sd_hook_table("load_post"), hook)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copies the tensors of state_dict into the parameters and persistent buffers
        (assign=True puts the given tensors in their place); torch's report of missing and
        unexpected keys (errors when strict) and of size mismatches (always errors)."""
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        if metadata is not None:
            state_dict._metadata = metadata
        modules = list(self.named_modules(remove_duplicate=False))
        errors, missing, unexpected = [], [], []
        for path, module in modules:
            hooks = module.__dict__.get("_sd_hooks")
            if hooks and hooks["load_pre"]:
                prefix = f"{path}." if path else ""
                local = (metadata or {}).get(path, {})
                for hook in list(hooks["load_pre"].values()):
                    hook(module, state_dict, prefix, local, strict, missing, unexpected, errors)
            if hasattr(module, "_lazy_load_hook"):
                module._lazy_load_hook(state_dict, f"{path}." if path else "")
        own = dict(_entries(self, ""))  # (the save hooks do not run: nothing is saved)
        missing += [k for k in own if k not in state_dict]
        unexpected += [k for k in state_dict if k not in own]
        for name, value in state_dict.items():
            if name not in own:
                continue
            if name == "_extra_state" or name.endswith("._extra_state"):
                self.get_submodule(name[:-len("._extra_state")] if "." in name else "") \
                    .set_extra_state(value)
                continue
            target = own[name]
            array = np.asarray(value._data if isinstance(value, Tensor) else value)
            if array.shape != target._data.shape:
                errors.append(f"size mismatch for {name}: copying a param with shape "
                              f"{Size(array.shape)} from checkpoint, the shape in current "
                              f"model is {Size(target._data.shape)}.")
                continue
            if assign and isinstance(value, Tensor):
                _assign(self, name, value)
            else:
                target._data[...] = array
        result = IncompatibleKeys(missing, unexpected)
        for _, module in modules:
            hooks = module.__dict__.get("_sd_hooks")
            if hooks:
                for hook in list(hooks["load_post"].values()):
                    hook(module, result)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        return result

    # --- printing -------------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        # as torch's: a one-line extra_repr of a leaf stays on the head line; extra lines
        # (ParameterList's) and children go one per line, indented
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        children = [f"({name}): " + repr(module).replace("\n", "\n  ")
                    for name, module in self._modules.items()]
        head = f"{type(self).__name__}("
        if len(extra_lines) == 1 and not children:
            return head + extra_lines[0] + ")"
        if not extra_lines and not children:
            return head + ")"
        return head + "\n  " + "\n  ".join(extra_lines + children) + "\n)"



def _call_with_hooks(module, hooks, args, kwargs):
    for hook, with_kwargs in list(hooks["forward_pre"].values()):
        result = hook(module, args, kwargs) if with_kwargs else hook(module, args)
        if result is not None:
            if with_kwargs:
                args, kwargs = result
            else:
                args = result if isinstance(result, tuple) else (result,)
    backward = _BackwardHooks(module, hooks["backward"]) if hooks["backward"] else None
    if backward is not None:
        args = backward.wrap_inputs(args)
    output = module.forward(*args, **kwargs)
    for hook, with_kwargs in list(hooks["forward"].values()):
        result = hook(module, args, kwargs, output) if with_kwargs else hook(module, args, output)
        if result is not None:
            output = result
    if backward is not None:
        backward.watch_output(output)
    return output


class _BackwardHooks:
    """register_full_backward_hook for one call: each tensor input that requires grad passes
    through an identity op whose gradient hook collects grad_input; a hook on the output
    collects grad_output; once every input's gradient is in, the module's hooks run and may
    replace grad_input."""

    def __init__(self, module, hooks):
        self.module, self.hooks = module, hooks
        self.grad_output, self.grad_input = None, {}

    def wrap_inputs(self, args):
        from fastnn.tensor import Tensor
        out = []
        for a in args:
            if isinstance(a, Tensor) and a.requires_grad:
                index = len(self.grad_input)
                self.grad_input[index] = None
                a = a * 1.0  # a node of this call's own, whose gradient is this input's
                a.register_hook(lambda grad, index=index: self._input_ready(index, grad))
            out.append(a)
        return tuple(out)

    def watch_output(self, output):
        from fastnn.tensor import Tensor
        if isinstance(output, Tensor) and output.requires_grad:
            output.register_hook(self._output_ready)

    def _output_ready(self, grad):
        self.grad_output = (grad,)
        if not self.grad_input:  # no input requires grad: torch reports grad_input (None,)
            self._run((None,))

    def _input_ready(self, index, grad):
        self.grad_input[index] = grad
        if any(g is None for g in self.grad_input.values()):
            return None
        grads = self._run(tuple(self.grad_input[i] for i in sorted(self.grad_input)))
        return grads[index]

    def _run(self, grads):
        for hook, _ in list(self.hooks.values()):
            result = hook(self.module, grads, self.grad_output)
            if result is not None:
                grads = tuple(result)
        return grads
