"""torch.distributions' common distributions: Categorical, Bernoulli, Normal, Uniform,
Multinomial and OneHotCategorical, with sample/rsample, log_prob, entropy and torch's argument
validation. log_prob and rsample are differentiable (REINFORCE and the reparameterisation
trick in pytorch/examples' reinforcement_learning and vae)."""
from fastnn.distributions.distribution import Distribution  # noqa: F401
from fastnn.distributions.discrete import (Bernoulli, Categorical, Multinomial,  # noqa: F401
                                           OneHotCategorical)
from fastnn.distributions.continuous import Normal, Uniform  # noqa: F401
from fastnn.distributions import multinomial, categorical, normal, bernoulli, uniform  # noqa: F401,E402
