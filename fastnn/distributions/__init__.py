"""torch.distributions' common distributions: Categorical, Bernoulli, Binomial, Poisson,
Normal, Uniform, Multinomial, OneHotCategorical, Exponential, Laplace, LogNormal, Gamma, Beta,
Dirichlet, MultivariateNormal and Independent, with sample/rsample, log_prob, entropy, torch's
argument validation, and kl_divergence in closed form. log_prob and rsample are differentiable (REINFORCE and the
reparameterisation trick in pytorch/examples' reinforcement_learning and vae)."""
from fastnn.distributions.distribution import Distribution  # noqa: F401
from fastnn.distributions.discrete import (Bernoulli, Binomial, Categorical,  # noqa: F401
                                           Multinomial, OneHotCategorical, Poisson)
from fastnn.distributions.continuous import Normal, Uniform  # noqa: F401
from fastnn.distributions.more_continuous import (Beta, Dirichlet, Exponential,  # noqa: F401
                                                  Gamma, Laplace, LogNormal)
from fastnn.distributions.multivariate import Independent, MultivariateNormal  # noqa: F401
from fastnn.distributions.kl import kl_divergence, register_kl  # noqa: F401
from fastnn.distributions import kl, kl_cross  # noqa: F401
from fastnn.distributions import (bernoulli, binomial, categorical, multinomial,  # noqa: F401,E402
                                  normal, poisson, uniform)
