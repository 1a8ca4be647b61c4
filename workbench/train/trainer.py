"""Training as a generator of plain events over a state object (Orange3-style: testable without a thread).

    state = TrainingState.create(config, data)
    for event in train(state): ...          # state.request_stop() ends it between batches or evaluation chunks

The trainer computes the baselines once on the same split, measures the model before the
first update, and watches the gradient path: a lattice whose parameters get no gradient
or never change is reported with a TrainWarning, never as a silently flat curve.

The loop reads top-down: `_train` runs epochs, `_train_epoch` runs batches, `_train_batch`
is one update, and `epoch.evaluate_epoch` measures (eval_pass.py: in chunks, with progress and
Stop) and records. What the loop carries between steps is in epoch.py too (Run, Epoch).
For data parallelism there is one place the batch is drawn (`_batch_indices`), one place
gradients are combined (`_reduce_gradients`) and one place files are written
(`TrainingState.save`, rank 0).
"""

from __future__ import annotations

import logging
import math
from typing import Iterator

import numpy as np
import torch

from workbench.train import batching, eval_pass, schedule
from workbench.train import metrics as M
from workbench.train.estimate import describe, slow_warning
from workbench.train.events import BatchProgress, EvalProgress, Finished, RunEstimate, RunStarted, TrainWarning
from workbench.train.pace import ActiveClock
from workbench.train.state import BEST, LAST, TrainingState  # noqa: F401  (TrainingState: re-exported, the drivers' one import)
from workbench.train.epoch import (GRAD_CHECK_STEPS, Epoch, Run, eval_context, evaluate_epoch, flat_params,
                                   gradient_path_warnings, measure, snapshot, stop_requested)

log = logging.getLogger(__name__)


class Diverged(Exception):
    """The loss stopped being a finite number; the message says where and what to change."""


def train(state: TrainingState) -> Iterator:
    """Yield RunEstimate, RunStarted, then per batch BatchProgress, per epoch EpochMetrics and LatticeSnapshot,
    and Finished; EvalProgress per evaluated chunk before training, after each epoch and in the final ablation. Time the consumer holds an event (a paused GUI) is not counted in the run's seconds."""
    clock = ActiveClock()
    for ev in _train(state, clock):
        if isinstance(ev, TrainWarning):
            log.warning("%s: %s", ev.code, ev.message)
        elif isinstance(ev, RunEstimate):
            log.info("%s (%s)", describe(ev), ev.basis)
        clock.hold()
        yield ev
        clock.release()


def _train(state: TrainingState, clock: ActiveClock) -> Iterator:
    run = yield from _begin(state, clock)
    if run.stopped:
        yield from _finish(state, run, "stopped")
        return
    o = state.config.optim
    reason = "completed"
    while state.epoch < o.epochs:
        ep = _next_epoch(state)
        try:
            yield from _train_epoch(state, run, ep)
            if not ep.stopped:
                yield from evaluate_epoch(state, run, ep)
        except Diverged as exc:
            yield from _finish(state, run, "error", error=str(exc))
            return
        if ep.stopped:
            yield from _stopped_in_epoch(state, run, ep)
            return
        if stop_requested(state):
            reason = "stopped"
            break
        if o.early_stop_patience and state.epoch - state.best_epoch >= o.early_stop_patience:
            reason = "early-stopped"
            break
    yield from _finish(state, run, reason)


def _next_epoch(state: TrainingState) -> Epoch:
    """The epoch to train next: a fresh one, or the one a mid-epoch checkpoint stopped in (state.partial,
    set by resume_from), with its batch order, position and running sums."""
    p, state.partial = state.partial, None
    if p is None or int(p["epoch"]) != state.epoch + 1:
        return Epoch(state.epoch + 1, flat_params(state.model),
                      [torch.zeros_like(w, dtype=torch.bool) for w in state.model.parameters()])
    dev = state.device
    return Epoch(state.epoch + 1, p["theta0"].to(dev), [nz.to(dev) for nz in p["nonzero"]], dict(p["sums"]),
                  [float(x) for x in p["norms"]], int(p["seen"]), int(p["batches"]), order=p["order"])


def _stopped_in_epoch(state: TrainingState, run: Run, ep: Epoch) -> Iterator:
    """Stop came in epoch ep's batches or its evaluation: the epoch is not recorded, but last.safetensors keeps
    its position (batch order, running sums, RNG states), so a resume goes on with the next batch."""
    kept = ""
    if ep.batches:
        state.partial = {**ep.position(), "seconds": state.seconds_before + run.clock()}
        kept = state.save(LAST)
        where = ("all its batches, stopped in its evaluation" if ep.batches == run.n_batches
                 else f"{ep.batches} of {run.n_batches} batches")
        log.info("stopped in epoch %d after %s; kept in %s", ep.number, where, kept or "memory (no run folder)")
    yield from _finish(state, run, "stopped", partial_batches=ep.batches, kept=kept)


def _new_run(state: TrainingState, clock: ActiveClock, score_rows: np.ndarray) -> Run:
    """The splits on the device, and the training rows scored each epoch (score_rows: eval_pass.train_score_rows)."""
    d, dev = state.data, state.device
    rows = torch.from_numpy(score_rows).to(dev)
    q_tr, a_tr = torch.from_numpy(d.q_train).to(dev), torch.from_numpy(d.a_train).to(dev)
    return Run(q_tr, a_tr, torch.from_numpy(d.q_val).to(dev), torch.from_numpy(d.a_val).to(dev), clock,
                max(1, state.config.optim.batch_size), state.config.optim.drop_last, q_sc=q_tr[rows], a_sc=a_tr[rows])


def _begin(state: TrainingState, clock: ActiveClock):
    """Measure baselines and the untrained model, announce the run. A Stop in here sets run.stopped."""
    d, dev = state.data, state.device
    # the training rows scored each epoch, and the baselines' train cosine: the same before training and on resume
    score_rows = eval_pass.train_score_rows(len(d.q_train), state.config.seed)
    run = _new_run(state, clock, score_rows)
    if state.estimate is not None:
        yield state.estimate
        slow = slow_warning(state.estimate)
        if slow:
            yield TrainWarning("slow-epoch", slow)
    yield EvalProgress("before training", "baselines", 0, 1, clock())   # ridge: one solve, seconds at 100k pairs
    ridge_w = M.ridge_fit(d.q_train, d.a_train)   # kept: the run folder saves it for workbench-eval
    base = M.baselines(d.q_train, d.a_train, d.q_val, d.a_val, ridge_w=ridge_w,
                       train_rows=score_rows)
    if not state.start_metrics:      # a resumed run keeps the original run's starting point
        start = yield from measure(state, run, "before training")
        if start is not None:
            tr0, va0, _ = start
            state.start_metrics = {"train_cosine_start": tr0, "val_cosine_start": va0.cosine,
                                   "val_top1_start": va0.top1, "val_mrr_start": va0.mrr}
    if stop_requested(state):       # asked during the baselines or the untrained model's evaluation
        run.stopped = True
        return run
    n_params = sum(p.numel() for p in state.model.parameters())
    log.info("run: %d train / %d validation pairs, lattice %s, %d parameters on %s, from epoch %d",
             len(run.q_tr), len(run.q_va), state.model.shape, n_params, dev, state.epoch + 1)
    yield RunStarted(len(run.q_tr), len(run.q_va), run.q_tr.shape[1], state.model.shape, n_params, dev, base,
                     dict(state.start_metrics), state.epoch + 1, ridge_weights=ridge_w,
                     world_size=state.ddp.world_size if state.ddp is not None else 1,
                     backend=state.ddp.backend if state.ddp is not None else "none")
    if state.epoch == 0 and state.partial is None:     # (a mid-epoch resume must not draw numbers here)
        yield snapshot(state, run.q_va)
    run.touched = {n: False for n, _ in state.model.named_parameters()}
    run.theta_first = flat_params(state.model).cpu()
    return run


def _batch_indices(state: TrainingState, run: Run, ep: Epoch) -> Iterator[torch.Tensor]:
    """The one place batches are drawn: a seeded order per epoch (random, or whole groups together with
    optim.batching = "group": batching.py), cut into batch_size slices; an epoch resumed mid-way keeps its
    order and skips the batches it already trained."""
    if ep.order is None:
        groups = state.data.train_groups if state.config.optim.batching == "group" else None
        ep.order = batching.epoch_order(len(run.q_tr), state.generator, groups)
    yield from batching.cut(ep.order.to(state.device), run.batch_size, run.drop_last)[ep.batches:]


def _train_epoch(state: TrainingState, run: Run, ep: Epoch) -> Iterator:
    o = state.config.optim
    state.model.train()
    run.speed.restart(run.clock(), run.samples)   # the rate window never spans an evaluation
    for idx in _batch_indices(state, run, ep):
        if stop_requested(state):
            ep.stopped = True
            return
        loss = _train_batch(state, run, ep, idx)
        if state.step == GRAD_CHECK_STEPS:
            yield from gradient_path_warnings(state, run)
        now = run.clock()
        rate = run.speed.update(now, run.samples)
        left = (len(run.q_tr) - ep.seen) + (o.epochs - ep.number) * len(run.q_tr)
        yield BatchProgress(ep.number, ep.batches, run.n_batches, loss, now, o.epochs, run.samples,
                            ep.sums["total"] / max(1, ep.seen), rate,
                            run.speed.eta(rate, left, o.epochs - ep.number + 1), state.optimizer.param_groups[0]["lr"])
    if state.step < GRAD_CHECK_STEPS and ep.number == o.epochs:
        yield from gradient_path_warnings(state, run)


def _train_batch(state: TrainingState, run: Run, ep: Epoch, idx: torch.Tensor) -> float:
    """One update on the rows idx; returns the batch loss. Raises Diverged on a non-finite loss."""
    cfg, o = state.config, state.config.optim
    q = run.q_tr[idx]
    if o.context_noise > 0:  # fresh noise every batch, from the run's seeded generator
        q = q + o.context_noise * torch.randn(q.shape, generator=state.generator).to(state.device)
    # fire_rate < 1: the global batch's (B, T, X, Y, Z) update masks, from the same generator on every rank
    fire = state.model.fire_masks(len(idx), state.generator)
    # the one place the batch is sharded: under DDP this rank runs the lattice on its slice of the global batch
    # (and of its masks) and gathers the others' predictions, so the loss below is the global batch's on every rank
    pred = (state.ddp.forward_shard(state.model, q, fire) if state.ddp is not None
            else state.model(q, fire=fire))
    terms = M.loss_terms(pred, run.a_tr[idx], cfg.loss)
    loss = terms["total"]
    value = float(loss.detach())
    if not math.isfinite(value):
        raise Diverged(f"loss became {value} at epoch {ep.number}, batch {ep.batches + 1}: training diverged. "
                       f"Lower optim.lr (now {o.lr:g}) or tighten optim.grad_clip.")
    state.optimizer.zero_grad(set_to_none=True)
    if loss.requires_grad:  # False when nothing trainable is in the graph (e.g. zero steps): warned about
        loss.backward()
    _reduce_gradients(state)
    for (name, p), nz in zip(state.model.named_parameters(), ep.nonzero):
        if p.grad is not None:
            hit = p.grad != 0
            nz |= hit
            run.touched[name] = run.touched[name] or bool(hit.any())
    clip = o.grad_clip if o.grad_clip > 0 else float("inf")
    ep.norms.append(float(torch.nn.utils.clip_grad_norm_(state.model.parameters(), clip)))
    state.optimizer.step()
    schedule.after_batch(state.scheduler)
    state.step += 1
    ep.batches += 1
    ep.seen += len(idx)
    run.samples += len(idx)
    for k, v in terms.items():
        ep.sums[k] = ep.sums.get(k, 0.0) + float(v.detach()) * len(idx)
    return value


def _reduce_gradients(state: TrainingState) -> None:
    """The one place gradients are combined across processes; a single process has nothing to combine.
    Under DDP each rank's gradient is the global loss's through its own slice: their sum is the full gradient."""
    if state.ddp is not None:
        state.ddp.sum_gradients(state.model.parameters())


def _finish(state: TrainingState, run: Run, reason: str, error: str = "", partial_batches: int = 0,
            kept: str = "") -> Iterator:
    """The lattice ablation of the best epoch (eval_pass.ablation; a Stop skips it), then Finished."""
    extra = {}
    if state.history and not error:   # the best epoch's model with the lattice knocked out (eval_pass.ablation)
        weights = run.best_weights    # None: a resumed run whose best epoch came before the resume
        extra = yield from eval_pass.ablation(eval_context(state, run), run.q_sc, run.a_sc, run.q_va, run.a_va,
                                              weights)
        if extra is None:
            log.info("the lattice ablation was skipped: the run was stopped")
            extra = {"ablation_weights": "not measured: the run was stopped"}
        else:
            extra["ablation_weights"] = "best epoch" if weights is not None else "last epoch"
    ck = str(state.out_dir / BEST) if state.out_dir and state.best_epoch else ""
    best = next((dict(r) for r in state.history if r["epoch"] == state.best_epoch), {})
    (log.error if error else log.info)("finished: %s after %d epoch(s)%s", reason, state.epoch,
                                       f": {error}" if error else "")
    yield Finished(reason, state.best_epoch, state.epoch, best, run.clock(), error=error, checkpoint=ck,
                   partial_batches=partial_batches, extra=extra, kept=kept)
