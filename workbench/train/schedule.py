"""Learning-rate schedules: "plateau" steps once per epoch on validation cosine, "cosine" once per batch.

cosine: the rate rises linearly over the first warmup_fraction of all updates (from lr/warm-up steps
to lr), then follows half a cosine down to min_lr_fraction·lr at the last update. Both are torch
schedulers, so their state goes into the checkpoint and a resumed run continues on the same curve
(as long as optim.epochs is unchanged: more epochs stretch the remaining curve from where it stands).
"""

from __future__ import annotations

import math

import torch

from workbench.train.config import OptimConfig, RunConfig


class WarmupCosine:
    """The multiplier of optim.lr after `step` updates (LambdaLR's lr_lambda)."""

    def __init__(self, total_steps: int, warmup_fraction: float, min_fraction: float):
        self.total = max(1, int(total_steps))
        self.warmup = int(round(warmup_fraction * self.total))
        self.min_fraction = float(min_fraction)

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / self.warmup
        progress = min(1.0, (step - self.warmup) / max(1, self.total - self.warmup))
        return self.min_fraction + (1 - self.min_fraction) * 0.5 * (1 + math.cos(math.pi * progress))


def build_scheduler(opt: torch.optim.Optimizer, o: OptimConfig, steps_per_epoch: int):
    """The scheduler optim.scheduler names, or None ("none")."""
    if o.scheduler == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=o.plateau_factor,
                                                          patience=o.plateau_patience)
    if o.scheduler == "cosine":
        fn = WarmupCosine(steps_per_epoch * o.epochs, o.warmup_fraction, o.min_lr_fraction)
        # wrapped in a function: LambdaLR's state_dict then keeps only the step count, and a resumed run
        # follows the curve of its current config (a callable object's fields would be restored over it)
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda step: fn(step))
    return None


def per_step(sched) -> bool:
    return isinstance(sched, torch.optim.lr_scheduler.LambdaLR)


def after_batch(sched) -> None:
    """Called after every optimizer step."""
    if per_step(sched):
        sched.step()


def after_epoch(sched, val_cosine: float) -> None:
    """Called after each epoch's evaluation."""
    if sched is not None and not per_step(sched):
        sched.step(val_cosine)


def build_optimizer(model: torch.nn.Module, cfg: RunConfig, steps_per_epoch: int = 1):
    """The optimizer and the scheduler optim.scheduler names; steps_per_epoch sizes the cosine curve."""
    o = cfg.optim
    params = model.parameters()
    if o.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay)
    elif o.optimizer == "adam":
        opt = torch.optim.Adam(params, lr=o.lr, weight_decay=o.weight_decay)
    else:
        opt = torch.optim.AdamW(params, lr=o.lr, weight_decay=o.weight_decay)
    return opt, build_scheduler(opt, o, steps_per_epoch)
