"""torch.jit's decorators for programs that script or trace a model. fastnn runs eagerly and
has no graph compiler: a scripted or traced function is the function itself, which computes
what TorchScript's compiled version computes."""


def script(obj=None, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    return func


def ignore(drop=False, **kwargs):
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    return fn


def is_scripting():
    return False


def is_tracing():
    return False
