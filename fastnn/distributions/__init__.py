"""torch.distributions' common distributions: Categorical, Bernoulli, Binomial, Poisson,
Normal, Uniform, Multinomial and OneHotCategorical, with sample/rsample, log_prob, entropy and
torch's argument validation. log_prob and rsample are differentiable (REINFORCE and the
reparameterisation trick in pytorch/examples' reinforcement_learning and vae)."""
from fastnn.distributions.distribution import Distribution  # noqa: F401
from fastnn.distributions.discrete import (Bernoulli, Binomial, Categorical,  # noqa: F401
                                           Multinomial, OneHotCategorical, Poisson)
from fastnn.distributions.continuous import Normal, Uniform  # noqa: F401
from fastnn.distributions import (bernoulli, binomial, categorical, multinomial,  # noqa: F401,E402
                                  normal, poisson, uniform)
