"""torch.nn.utils: gradient clipping, flat parameter vectors, rnn (padding and packing), prune,
parametrize, stateless (functional_call)."""
from fastnn.nn.utils.clip_grad import (clip_grad_norm, clip_grad_norm_,  # noqa: F401
                                       clip_grad_value_, clip_grads_with_norm_,
                                       get_total_norm)
from fastnn.nn.utils.weight_norm import remove_weight_norm, weight_norm  # noqa: F401
from fastnn.nn.utils.convert_parameters import (parameters_to_vector,  # noqa: F401
                                                vector_to_parameters)
from fastnn.nn.utils import rnn  # noqa: F401,E402
from fastnn.nn.utils import prune  # noqa: F401,E402
from fastnn.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm  # noqa: F401,E402
from fastnn.nn.utils import parametrizations, parametrize, stateless  # noqa: F401,E402
from fastnn.nn.utils import fusion  # noqa: F401,E402
from fastnn.nn.utils.fusion import (fuse_conv_bn_eval, fuse_conv_bn_weights,  # noqa: F401,E402
                                    fuse_linear_bn_eval, fuse_linear_bn_weights)


def skip_init(module_cls, *args, **kwargs):
    """torch.nn.utils.skip_init: the module, its parameters left for the caller to set (torch
    builds it on the meta device and allocates without initialising; fastnn initialises as
    usual, which the caller then overwrites)."""
    if "device" not in __import__("inspect").signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    return module_cls(*args, **kwargs)
