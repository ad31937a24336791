"""torch.special: the special functions under torch's names, each differentiable. Most are
fastnn's own ops under another name (expit is sigmoid, gammaln is lgamma, psi is digamma);
the normal distribution's ndtr, ndtri and log_ndtr, erfc, entr and xlog1py are written with
them."""
import math

import fastnn
from fastnn.ops.gamma_functions import digamma, lgamma, mvlgamma, polygamma


psi = digamma
gammaln = lgamma


def gammainc(input, other):
    from fastnn.ops.incomplete_gamma import igamma
    return igamma(input, other)


def gammaincc(input, other):
    from fastnn.ops.incomplete_gamma import igammac
    return igammac(input, other)


def multigammaln(input, p):
    return mvlgamma(input, p)


def erf(input):
    return fastnn.erf(input)


def erfc(input):
    return 1.0 - fastnn.erf(input)


def erfinv(input):
    return fastnn.erfinv(input)


def expit(input):
    return fastnn.sigmoid(input)


def logit(input, eps=None):
    return fastnn.logit(input, eps)


def exp2(input):
    return fastnn.exp2(input)


def expm1(input):
    return fastnn.expm1(input)


def log1p(input):
    return fastnn.log1p(input)


def sinc(input):
    return fastnn.sinc(input)


def round(input, *, decimals=0):
    return fastnn.round(input, decimals=decimals)


def xlogy(input, other):
    return fastnn.xlogy(input, other)


def xlog1py(input, other):
    """input * log1p(other), 0 where input is 0 (even where log1p(other) is inf or nan)."""
    input, other = fastnn.as_tensor(input), fastnn.as_tensor(other)
    zero = input == 0
    # log1p runs on 0 where input is 0, so no 0 * inf makes a nan (or a nan gradient)
    product = input * fastnn.log1p(fastnn.where(zero, fastnn.zeros_like(other), other))
    return fastnn.where(zero, fastnn.zeros_like(product), product)


def entr(input):
    """-x log x elementwise: 0 at 0, -inf below 0."""
    x = fastnn.as_tensor(input)
    positive = x > 0
    safe = fastnn.where(positive, x, fastnn.ones_like(x))
    value = fastnn.where(positive, -safe * fastnn.log(safe), fastnn.zeros_like(x))
    return fastnn.where(x < 0, fastnn.full_like(value, -math.inf), value)


def ndtr(input):
    """The standard normal's CDF."""
    return 0.5 * (1.0 + fastnn.erf(input * (1.0 / math.sqrt(2.0))))


def ndtri(input):
    """The standard normal's quantile function (the inverse of ndtr)."""
    return math.sqrt(2.0) * fastnn.erfinv(2.0 * input - 1.0)


def log_ndtr(input):
    return fastnn.log(ndtr(input))


def softmax(input, dim, *, dtype=None):
    return fastnn.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    return fastnn.log_softmax(input, dim, dtype=dtype)


def logsumexp(input, dim, keepdim=False):
    return fastnn.logsumexp(input, dim, keepdim)


__all__ = ["digamma", "entr", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammaln",
           "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr",
           "ndtri", "polygamma", "psi", "round", "sinc", "softmax", "xlog1py", "xlogy"]
