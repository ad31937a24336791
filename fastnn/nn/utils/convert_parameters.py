"""One flat vector from the parameters, and back (torch.nn.utils.parameters_to_vector)."""
import numpy as np

from fastnn.ops.shape import cat


def parameters_to_vector(parameters):
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    offset = 0
    for p in parameters:
        n = p.numel()
        p._data[...] = np.asarray(vec._data[offset:offset + n]).reshape(p._data.shape)
        offset += n
