"""torch's module-level in-place functions (torch.sin_(x) is x.sin_()), for the programs that
call them that way."""

__all__ = ["sin_", "cos_", "tan_", "asin_", "acos_", "atan_", "sinh_", "cosh_", "log2_", "log10_",
           "log1p_", "expm1_", "exp2_", "rsqrt_", "reciprocal_", "erf_", "abs_", "relu_",
           "sigmoid_", "tanh_", "exp_", "log_", "sqrt_", "neg_", "floor_", "ceil_", "round_",
           "trunc_", "sign_", "square_", "frac_", "zero_", "fill_", "clamp_"]


def sin_(input):
    return input.sin_()


def cos_(input):
    return input.cos_()


def tan_(input):
    return input.tan_()


def asin_(input):
    return input.asin_()


def acos_(input):
    return input.acos_()


def atan_(input):
    return input.atan_()


def sinh_(input):
    return input.sinh_()


def cosh_(input):
    return input.cosh_()


def log2_(input):
    return input.log2_()


def log10_(input):
    return input.log10_()


def log1p_(input):
    return input.log1p_()


def expm1_(input):
    return input.expm1_()


def exp2_(input):
    return input.exp2_()


def rsqrt_(input):
    return input.rsqrt_()


def reciprocal_(input):
    return input.reciprocal_()


def erf_(input):
    return input.erf_()


def abs_(input):
    return input.abs_()


def relu_(input):
    return input.relu_()


def sigmoid_(input):
    return input.sigmoid_()


def tanh_(input):
    return input.tanh_()


def exp_(input):
    return input.exp_()


def log_(input):
    return input.log_()


def sqrt_(input):
    return input.sqrt_()


def neg_(input):
    return input.neg_()


def floor_(input):
    return input.floor_()


def ceil_(input):
    return input.ceil_()


def round_(input):
    return input.round_()


def trunc_(input):
    return input.trunc_()


def sign_(input):
    return input.sign_()


def square_(input):
    return input.square_()


def frac_(input):
    return input.frac_()


def zero_(input):
    return input.zero_()


def fill_(input, value):
    return input.fill_(value)


def clamp_(input, min=None, max=None):
    return input.clamp_(min, max)
