"""torch.compile for programs that call it. fastnn runs eagerly with its compiled kernels and
has no graph compiler, so compiling changes nothing the program computes: a module comes back
wrapped as torch's OptimizedModule (its state_dict keys carry torch's `_orig_mod.` prefix, so
checkpoints of compiled models load in both libraries), a function comes back as itself."""
import functools

from fastnn.nn.module import Module

MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


class OptimizedModule(Module):
    """What compile(module) returns: runs the original module, whose attributes it shows."""

    def __init__(self, mod):
        super().__init__()
        self._orig_mod = mod

    def forward(self, *args, **kwargs):
        return self._orig_mod(*args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.__dict__["_modules"]["_orig_mod"], name)


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, disable=False):
    """torch.compile's signature and checks; usable as @compile or @compile(...)."""
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    if mode is not None and mode not in MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(MODES)}")
    if model is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic,
                                 backend=backend, mode=mode, options=options, disable=disable)
    if isinstance(model, Module):
        return model if disable else OptimizedModule(model)
    if not callable(model):
        raise RuntimeError(f"Unsupported type {type(model)} for torch.compile")
    return model
