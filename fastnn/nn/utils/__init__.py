"""torch.nn.utils: gradient clipping and flat parameter vectors."""
from fastnn.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_  # noqa: F401
from fastnn.nn.utils.convert_parameters import (parameters_to_vector,  # noqa: F401
                                                vector_to_parameters)
