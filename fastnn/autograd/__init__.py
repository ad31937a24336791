"""torch.autograd's names: backward, grad, Function, the grad-mode context managers."""
from fastnn.autograd.anomaly_mode import (detect_anomaly, is_anomaly_check_nan_enabled,  # noqa: F401
                                          is_anomaly_enabled, set_detect_anomaly)
from fastnn.autograd.gradcheck import gradcheck, gradgradcheck  # noqa: F401
from fastnn.autograd.variable import Variable  # noqa: F401
from fastnn.autograd.grad_mode import (enable_grad, inference_mode, no_grad,  # noqa: F401
                                       set_grad_enabled)


def __getattr__(name):
    # Function is imported on first use: fastnn.tensor imports this package before Tensor
    # exists, and the user-facing Function needs Tensor
    if name in ("Function", "FunctionCtx"):
        from fastnn.autograd import custom_function
        return getattr(custom_function, name)
    if name in ("function", "functional", "profiler", "forward_ad", "graph"):
        import importlib
        return importlib.import_module(f"fastnn.autograd.{name}")
    raise AttributeError(f"module 'fastnn.autograd' has no attribute '{name}'")


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    from fastnn.tensor import Tensor
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors] * len(tensors)
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        t.backward(g, retain_graph=retain_graph or i < len(tensors) - 1, inputs=inputs)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, materialize_grads=False):
    from fastnn.autograd.engine import grad as _grad
    return _grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                 materialize_grads)
