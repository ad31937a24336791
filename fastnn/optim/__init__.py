from fastnn.optim import lr_scheduler  # noqa: F401
from fastnn.optim.adadelta import Adadelta  # noqa: F401
from fastnn.optim.adagrad import Adagrad  # noqa: F401
from fastnn.optim.adamax import Adamax  # noqa: F401
from fastnn.optim.lbfgs import LBFGS  # noqa: F401
from fastnn.optim.nadam import NAdam, RAdam  # noqa: F401
from fastnn.optim.adam import Adam, AdamW  # noqa: F401
from fastnn.optim.optimizer import Optimizer  # noqa: F401
from fastnn.optim.rmsprop import RMSprop  # noqa: F401
from fastnn.optim.sgd import SGD  # noqa: F401
from fastnn.optim.rprop import Rprop  # noqa: F401
from fastnn.optim.asgd import ASGD  # noqa: F401
from fastnn.optim.adafactor import Adafactor  # noqa: F401
from fastnn.optim.muon import Muon  # noqa: F401
from fastnn.optim import swa_utils  # noqa: F401,E402
