"""One epoch's bookkeeping beside TrainingState (state.py, what a checkpoint keeps): what one call of train() carries
between steps (Run), the running sums of one epoch (Epoch), and the epoch's end: measure both splits (eval_pass.py:
in chunks, with progress and Stop), record the row, keep the best weights and checkpoint, step the schedule, and
show the lattice's state on one validation pair. Also the gradient-path watch's warnings: a lattice that gets no
gradient, or whose parameters never change, is reported, never drawn as a silently flat curve.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch

from workbench.train import batching, eval_pass, schedule
from workbench.train.events import EpochMetrics, LatticeSnapshot, TrainWarning
from workbench.train.pace import ActiveClock, Throughput
from workbench.train.record.compare import Figures
from workbench.train.state import BEST, LAST, TrainingState

log = logging.getLogger("workbench.train.trainer")     # the epoch lines keep the trainer's logger name in run.log
GRAD_CHECK_STEPS = 3   # the rule's last layer starts at zero, so its first layer sees gradient from step 2


@dataclass
class Run:
    """What one call of train() holds: the splits on the device, the clock and the gradient-path watch."""
    q_tr: torch.Tensor
    a_tr: torch.Tensor
    q_va: torch.Tensor
    a_va: torch.Tensor
    clock: ActiveClock
    batch_size: int
    drop_last: bool = False
    stopped: bool = False                    # Stop came before training began (baselines, untrained model)
    speed: Throughput = field(default_factory=Throughput)
    samples: int = 0                         # samples trained since this call began (a resumed run starts at 0)
    touched: dict[str, bool] = field(default_factory=dict)   # parameter → got a non-zero gradient yet
    theta_first: torch.Tensor | None = None
    best_weights: dict | None = None         # the best epoch's weights (this call's), for the ablation at the end
    q_sc: torch.Tensor | None = None         # the training pairs scored each epoch (eval_pass.train_score_rows):
    a_sc: torch.Tensor | None = None         # set by _new_run

    @property
    def n_batches(self) -> int:
        return batching.n_batches(len(self.q_tr), self.batch_size, self.drop_last)


@dataclass
class Epoch:
    """Running sums of one epoch."""
    number: int
    theta0: torch.Tensor
    nonzero: list[torch.Tensor]              # per parameter: which entries got a non-zero gradient
    sums: dict[str, float] = field(default_factory=dict)
    norms: list[float] = field(default_factory=list)
    seen: int = 0
    batches: int = 0
    stopped: bool = False                    # Stop came in the epoch's batches or in its evaluation
    order: torch.Tensor | None = None        # (n_train,) int64 CPU: the epoch's batch order, drawn once

    def position(self) -> dict:
        """Where the epoch stands, for a mid-epoch checkpoint (TrainingState.partial): a resume continues
        with the next batch of the same order, and the epoch's row comes out as if never interrupted."""
        return {"epoch": self.number, "batches": self.batches, "seen": self.seen, "order": self.order,
                "sums": dict(self.sums), "norms": list(self.norms), "theta0": self.theta0,
                "nonzero": list(self.nonzero)}


def flat_params(model: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def stop_requested(state: TrainingState) -> bool:
    """A stop asked on any rank stops every rank at the same batch (a collective under DDP)."""
    return state.ddp.any(state.stop_requested) if state.ddp is not None else state.stop_requested


def evaluate_epoch(state: TrainingState, run: Run, ep: Epoch) -> Iterator:
    """Measure both splits, record the epoch, checkpoint, step the schedule; yield what was found.
    A Stop during the measurement sets ep.stopped: the epoch is then not recorded."""
    t_eval = run.clock()
    measured = yield from measure(state, run, f"epoch {ep.number}")
    if measured is None:
        ep.stopped = True
        return
    tr, va, va_loss = measured
    run.speed.eval_s = run.clock() - t_eval
    row = epoch_row(state, run, ep, tr, va, va_loss)
    if state.ddp is not None:      # every rank decides best epoch, schedule and early stop on rank 0's numbers
        row = state.ddp.broadcast(row)
    state.epoch = ep.number
    state.history.append(row)
    is_best = row["val_cosine"] > state.best_value
    if is_best:
        state.best_value, state.best_epoch = row["val_cosine"], ep.number
    schedule.after_epoch(state.scheduler, row["val_cosine"])
    if is_best:
        state.save(BEST)
        run.best_weights = {k: v.detach().clone() for k, v in state.model.state_dict().items()}
    state.save(LAST)
    log.info("epoch %d: loss %.4f, val cosine %.4f%s", ep.number, row["loss"], row["val_cosine"],
             " (best)" if is_best else "")
    yield EpochMetrics(ep.number, row, is_best)
    yield snapshot(state, run.q_va)
    if row["grad_coverage"] == 0.0:
        yield TrainWarning("no-gradient", f"LATTICE NOT IN GRADIENT PATH: in epoch {ep.number} no parameter "
                           "received a non-zero gradient; the curves are flat because nothing learns.")


def epoch_row(state: TrainingState, run: Run, ep: Epoch, tr: float, va: Figures, va_loss: float) -> dict:
    n, s = max(1, ep.seen), ep.sums
    theta1 = flat_params(state.model)
    covered = sum(int(nz.sum()) for nz in ep.nonzero) / max(1, sum(nz.numel() for nz in ep.nonzero))
    return {"epoch": ep.number,
            "loss": s.get("total", 0.0) / n,
            "loss_mse": s.get("mse", 0.0) / n, "loss_cosine": s.get("cosine", 0.0) / n,
            "loss_l1": s.get("l1", 0.0) / n, "loss_infonce": s.get("infonce", 0.0) / n,
            "val_loss": va_loss, "train_cosine": tr, "val_cosine": va.cosine,
            "val_top1": va.top1, "val_top5": va.top5, "val_mrr": va.mrr,
            "lr": state.optimizer.param_groups[0]["lr"],
            "grad_norm": float(np.mean(ep.norms)) if ep.norms else 0.0,
            "update_ratio": float((theta1 - ep.theta0).norm() / ep.theta0.norm().clamp(min=1e-12)),
            "grad_coverage": float(covered),
            "target_progress": va.cosine / state.config.target_similarity,
            "seconds": state.seconds_before + run.clock()}


def eval_context(state: TrainingState, run: Run) -> eval_pass.EvalContext:
    return eval_pass.EvalContext(state, run.clock, lambda: stop_requested(state))


def measure(state: TrainingState, run: Run, phase: str) -> Iterator:
    """(train cosine on the scored subset, validation Figures, validation loss), yielding EvalProgress; None when
    Stop came."""
    ctx = eval_context(state, run)
    tr = yield from eval_pass.train_cosine(ctx, run.q_sc, run.a_sc, phase)
    va = None if tr is None else (yield from eval_pass.validation(ctx, run.q_va, run.a_va, phase))
    return None if va is None else (tr, *va)


def snapshot(state: TrainingState, q_val: torch.Tensor) -> LatticeSnapshot:
    i = min(state.config.snapshot_sample, len(q_val) - 1)
    state.model.eval()
    with torch.no_grad():
        _, trace = state.model(q_val[i:i + 1], record=True)
    face = state.config.lattice.io == "face"
    question = state.data.val_questions[i] if i < len(state.data.val_questions) else ""
    return LatticeSnapshot(state.epoch, i, question, state.model.trace_grids(trace).astype(np.float32),
                           "z=0" if face else "volume", f"z={state.model.shape[2] - 1}" if face else "volume")


def gradient_path_warnings(state: TrainingState, run: Run) -> Iterator[TrainWarning]:
    dead = [n for n, hit in run.touched.items() if not hit]
    if dead:
        yield TrainWarning("no-gradient", f"LATTICE NOT IN GRADIENT PATH: {len(dead)} of {len(run.touched)} parameter "
                           f"tensors received no gradient in the first {GRAD_CHECK_STEPS} steps ({', '.join(dead)}). "
                           "The curves below do not come from a learning lattice.")
    if torch.equal(run.theta_first, flat_params(state.model).cpu()):
        yield TrainWarning("no-update", "NO PARAMETER CHANGED in the first steps (learning rate 0, or the optimizer "
                           "does not hold the lattice's parameters): the model is not training.")
