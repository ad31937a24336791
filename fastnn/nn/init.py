"""In-place parameter initialisers with torch.nn.init's names, formulas and defaults, drawing
from fastnn's generator (fastnn.manual_seed)."""
import math

from fastnn.autograd.grad_mode import no_grad


def calculate_gain(nonlinearity, param=None):
    linear = ("linear", "conv1d", "conv2d", "conv3d", "sigmoid", "identity")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than "
                         "2 dimensions")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def zeros_(tensor):
    with no_grad():
        return tensor.zero_()


def ones_(tensor):
    with no_grad():
        return tensor.fill_(1.0)


def constant_(tensor, val):
    with no_grad():
        return tensor.fill_(val)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot & Bengio 2010: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    # torch's arithmetic, so the bound is its bits: std = gain sqrt(2 / fans), a = sqrt(3) std
    bound = math.sqrt(3.0) * (gain * math.sqrt(2.0 / float(fan_in + fan_out)))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He et al. 2015: U(-b, b), b = gain * sqrt(3 / fan); with a = sqrt(5) this is torch's
    default Linear/Conv weight init."""
    # torch's arithmetic, so the bound is its bits: std = gain / sqrt(fan), b = sqrt(3) std
    bound = math.sqrt(3.0) * (calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode)))
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def default_(weight, bias=None):
    """PyTorch's default for Linear and Conv weights: kaiming_uniform_(a=sqrt(5)), i.e.
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for the bias."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)


def _write(tensor, values):
    """Copies an array into the parameter in place (the optimizer keeps the same object)."""
    with no_grad():
        tensor._data[...] = values
        tensor._version[0] += 1
    return tensor


def orthogonal_(tensor, gain=1.0, generator=None):
    """Saxe et al. 2013: a (semi-)orthogonal matrix from the QR decomposition of a Gaussian one,
    signs fixed by R's diagonal so the result is uniform over orthogonal matrices."""
    import numpy as np
    from fastnn import random
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    # torch draws the matrix in the parameter's float32 and factors it there
    flat = random.rng(generator).normal_values((rows, cols), 0.0, 1.0, np.float32)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _write(tensor, (gain * q).reshape(tuple(tensor.shape)))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """N(mean, std) restricted to [a, b] (absolute bounds), by torch's rejection sampling, so a
    seed gives torch's values. When the window holds more than 30% of the mass: normals, with
    the rejected ones redrawn (a whole tensor of draws per round, as torch's). Otherwise
    uniforms on [a, b], kept with probability pdf / pdf(mode), also redrawn whole per round."""
    import warnings

    import numpy as np
    from fastnn import random, torch_stream
    if tensor.is_meta:
        return tensor

    def cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    rng, shape = random.rng(generator), tuple(tensor.shape)
    work = torch_stream.precision(tensor._data.dtype)
    lo, hi = work(a), work(b)  # the bounds as the tensor holds them (torch's new_tensor)
    if cdf((b - mean) / std) - cdf((a - mean) / std) > 0.3:
        result = rng.normal_values(shape, mean, std, work)
        while True:
            rejected = (result < lo) | (result > hi)
            if not rejected.any():
                break
            result = np.where(rejected, rng.normal_values(shape, mean, std, work), result)
        return _write(tensor, result)
    mode = max(a, min(mean, b))
    log_peak = -0.5 * ((mode - mean) / std) ** 2

    def log_density(x):
        return ((x - work(mean)) / work(std)) ** 2 * work(-0.5) - work(log_peak)

    result = rng.uniform_values(shape, a, b, work)
    pending = np.log(rng.uniform_values(shape, 0.0, 1.0, work)) > log_density(result)
    while pending.any():
        candidates = rng.uniform_values(shape, a, b, work)
        result = np.where(pending, candidates, result)
        accepted = np.log(rng.uniform_values(shape, 0.0, 1.0, work)) <= log_density(candidates)
        pending = pending & ~accepted
    return _write(tensor, result)


def eye_(tensor):
    import numpy as np
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _write(tensor, np.eye(*tensor.shape))


def dirac_(tensor, groups=1):
    """A convolution weight that passes its input through (one 1 at each kernel's centre)."""
    import numpy as np
    if tensor.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    out_per_group = tensor.shape[0] // groups
    min_dim = min(out_per_group, tensor.shape[1])
    values = np.zeros(tuple(tensor.shape))
    centre = tuple(s // 2 for s in tensor.shape[2:])
    for g in range(groups):
        for d in range(min_dim):
            values[(g * out_per_group + d, d) + centre] = 1
    return _write(tensor, values)


def _deprecated(new):
    """torch's pre-1.0 names without the trailing underscore: the same initialiser, with the
    FutureWarning torch gives."""
    old = new.__name__[:-1]

    def initialiser(*args, **kwargs):
        import warnings
        warnings.warn(f"`nn.init.{old}` is now deprecated in favor of `nn.init.{new.__name__}`.",
                      FutureWarning, stacklevel=2)
        return new(*args, **kwargs)
    initialiser.__name__ = initialiser.__qualname__ = old
    return initialiser


uniform, normal, constant = _deprecated(uniform_), _deprecated(normal_), _deprecated(constant_)
xavier_uniform, xavier_normal = _deprecated(xavier_uniform_), _deprecated(xavier_normal_)
kaiming_uniform, kaiming_normal = _deprecated(kaiming_uniform_), _deprecated(kaiming_normal_)
orthogonal, eye, dirac = _deprecated(orthogonal_), _deprecated(eye_), _deprecated(dirac_)


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """Martens 2010 ("Deep learning via Hessian-free optimization"): N(0, std) values with
    ceil(sparsity * rows) entries of each column, at random rows, set to zero (torch's)."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    if tensor.is_meta:
        return tensor
    from fastnn import random
    rows, cols = tensor.shape
    zeros = math.ceil(sparsity * rows)
    rng = random.rng(generator)
    values = rng.standard_normal((rows, cols)) * std
    for col in range(cols):
        values[rng.permutation(rows)[:zeros], col] = 0.0
    return _write(tensor, values)
