"""torch.distributions' common distributions: Categorical, Bernoulli, Binomial, Poisson,
Normal, Uniform, Multinomial, OneHotCategorical, Exponential, Laplace, LogNormal, Gamma, Beta,
Dirichlet, MultivariateNormal, Independent, and (constraints, transforms, transformed.py,
families.py) TransformedDistribution with its transforms, Cauchy, Gumbel, HalfNormal, HalfCauchy,
Weibull, Pareto, StudentT, Chi2, Geometric, NegativeBinomial, MixtureSameFamily and the relaxed
(Gumbel-softmax) distributions, InverseGamma, Kumaraswamy and FisherSnedecor
(more_families.py), with sample/rsample, log_prob, entropy, torch's
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
from fastnn.distributions import constraints, transforms  # noqa: F401,E402
from fastnn.distributions.transforms import (AbsTransform, AffineTransform,  # noqa: F401,E402
                                             ComposeTransform, ExpTransform,
                                             IndependentTransform, PowerTransform,
                                             ReshapeTransform, SigmoidTransform,
                                             SoftmaxTransform, SoftplusTransform,
                                             StickBreakingTransform, TanhTransform, Transform,
                                             identity_transform)
from fastnn.distributions.transformed import (Cauchy, Gumbel, HalfCauchy,  # noqa: F401,E402
                                              HalfNormal, Pareto, RelaxedBernoulli,
                                              RelaxedOneHotCategorical, TransformedDistribution,
                                              Weibull, biject_to, transform_to)
from fastnn.distributions.families import (Chi2, Geometric,  # noqa: F401,E402
                                           MixtureSameFamily, NegativeBinomial,
                                           OneHotCategoricalStraightThrough, StudentT)
from fastnn.distributions.more_families import (FisherSnedecor, InverseGamma,  # noqa: F401,E402
                                                Kumaraswamy)
