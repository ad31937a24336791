"""Stochastic weight averaging and exponential moving averages of a model's weights
(torch.optim.swa_utils; Izmailov et al. 2018, "Averaging Weights Leads to Wider Optima and
Better Generalization"): AveragedModel keeps the running average, SWALR anneals the learning
rate to a constant SWA rate, update_bn recomputes the batch-norm statistics for the averaged
weights with one pass over the data."""
import itertools
import math
from copy import deepcopy

from fastnn import creation
from fastnn.autograd.grad_mode import no_grad
from fastnn.nn.conv import BatchNorm2d
from fastnn.nn.module import Module
from fastnn.optim.lr_scheduler import LRScheduler

__all__ = ["AveragedModel", "SWALR", "update_bn", "get_ema_avg_fn", "get_ema_multi_avg_fn",
           "get_swa_avg_fn", "get_swa_multi_avg_fn"]


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         "[0,1] range.")


def get_ema_avg_fn(decay=0.999):
    """avg_fn for an exponential moving average: decay * average + (1 - decay) * current."""
    _check_decay(decay)

    def ema_update(ema_param, current_param, num_averaged):
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    """avg_fn for the equal-weight average of every model seen: a + (p - a) / (n + 1)."""
    def swa_update(averaged_param, current_param, num_averaged):
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


def get_ema_multi_avg_fn(decay=0.999):
    """The EMA over lists of tensors, updated in place (torch's foreach lerp)."""
    _check_decay(decay)

    def ema_update(ema_param_list, current_param_list, _):
        with no_grad():
            for ema, current in zip(ema_param_list, current_param_list):
                if ema.is_floating_point():
                    ema.lerp_(current, 1 - decay)
                else:
                    ema.copy_(ema * decay + current * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn():
    """The running equal-weight average over lists of tensors, updated in place."""
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        with no_grad():
            weight = 1.0 / (float(num_averaged) + 1)
            for averaged, current in zip(averaged_param_list, current_param_list):
                if averaged.is_floating_point():
                    averaged.lerp_(current, weight)
                else:
                    averaged.add_((current - averaged) * weight)
    return swa_update


class AveragedModel(Module):
    """A copy of `model` whose parameters (and buffers, with use_buffers=True) hold the
    average of the weights passed to update_parameters; forward runs the copy."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        self.register_buffer("n_averaged", creation.tensor(0))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _averaged(self, model):
        if self.use_buffers:
            return (list(itertools.chain(self.module.parameters(), self.module.buffers())),
                    list(itertools.chain(model.parameters(), model.buffers())))
        return list(self.parameters()), list(model.parameters())

    def update_parameters(self, model):
        mine, theirs = self._averaged(model)
        mine = [p.detach() for p in mine]
        theirs = [p.detach() for p in theirs]
        count = int(self.n_averaged.item())
        with no_grad():
            if count == 0:
                for averaged, current in zip(mine, theirs):
                    averaged.copy_(current)
            elif self.avg_fn is not None:
                for averaged, current in zip(mine, theirs):
                    averaged.copy_(self.avg_fn(averaged, current, self.n_averaged))
            else:
                (self.multi_avg_fn or get_swa_multi_avg_fn())(mine, theirs, self.n_averaged)
            if not self.use_buffers:  # buffers follow the model being averaged
                for own, source in zip(self.module.buffers(), model.buffers()):
                    own.copy_(source.detach())
        self.n_averaged.add_(1)


def update_bn(loader, model, device=None):
    """One pass over `loader` in training mode with cumulative (momentum=None) batch-norm
    statistics, so the averaged weights get statistics of their own. A batch that is a list
    or tuple contributes its first element."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, BatchNorm2d):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each group's learning rate from its value to swa_lr over anneal_epochs steps
    (cosine or linear), then holds swa_lr. Like torch's, each step moves from the rate the
    group has now, so it may follow another schedule."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos",
                 last_epoch=-1):
        groups = optimizer.param_groups
        if isinstance(swa_lr, (list, tuple)):
            if len(swa_lr) != len(groups):
                raise ValueError(f"swa_lr must have the same length as optimizer.param_groups: "
                                 f"swa_lr has {len(swa_lr)}, optimizer.param_groups has "
                                 f"{len(groups)}")
            rates = list(swa_lr)
        else:
            rates = [swa_lr] * len(groups)
        for rate, group in zip(rates, groups):
            group["swa_lr"] = rate
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else \
            self._linear_anneal
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _initial_lr(lr, swa_lr, alpha):
        """The rate annealing started from, given the rate reached at alpha."""
        return swa_lr if alpha == 1 else (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        self._warn_if_not_in_step()
        step = self._step_count - 1  # counted by LRScheduler.step
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [group["swa_lr"] * alpha
                + self._initial_lr(group["lr"], group["swa_lr"], prev_alpha) * (1 - alpha)
                for group in self.optimizer.param_groups]
