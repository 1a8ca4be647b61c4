"""Training as a generator of plain events over a state object (Orange3-style: testable without a thread).

    state = TrainingState.create(config, data)
    for event in train(state): ...          # state.request_stop() ends it between batches

The trainer computes the baselines once on the same split, measures the model before the
first update, and watches the gradient path: a lattice whose parameters get no gradient
or never change is reported with a TrainWarning, never as a silently flat curve.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from . import metrics as M
from .checkpoint import load_checkpoint, save_checkpoint
from .config import RunConfig, to_dict
from .events import EPOCH_KEYS, BatchProgress, EpochMetrics, Finished, LatticeSnapshot, RunStarted, TrainWarning
from ..model.lattice import CellLattice
from ..teacher.encoder import pick_device

GRAD_CHECK_STEPS = 3   # the rule's last layer starts at zero, so its first layer sees gradient from step 2


@dataclass
class TrainData:
    """Embeddings of a split that never overlaps: (n, D) float32 arrays, unit-normalised by the teacher."""
    q_train: np.ndarray
    a_train: np.ndarray
    q_val: np.ndarray
    a_val: np.ndarray
    val_questions: list[str] = field(default_factory=list)
    teacher: str = ""


@dataclass
class TrainingState:
    config: RunConfig
    data: TrainData
    model: CellLattice
    optimizer: torch.optim.Optimizer
    scheduler: object | None
    device: str
    generator: torch.Generator
    out_dir: Path | None = None
    epoch: int = 0                  # last completed epoch
    step: int = 0
    best_epoch: int = 0
    best_value: float = -math.inf
    history: list[dict] = field(default_factory=list)
    stop_requested: bool = False
    start_metrics: dict = field(default_factory=dict)

    @classmethod
    def create(cls, config: RunConfig, data: TrainData, out_dir: str | Path | None = None) -> "TrainingState":
        torch.manual_seed(config.seed)
        device = pick_device(config.device)
        model = CellLattice(data.q_train.shape[1], config.lattice).to(device)
        o = config.optim
        params = model.parameters()
        if o.optimizer == "sgd":
            opt = torch.optim.SGD(params, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay)
        elif o.optimizer == "adam":
            opt = torch.optim.Adam(params, lr=o.lr, weight_decay=o.weight_decay)
        else:
            opt = torch.optim.AdamW(params, lr=o.lr, weight_decay=o.weight_decay)
        sched = (torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=o.plateau_factor,
                                                            patience=o.plateau_patience)
                 if o.scheduler == "plateau" else None)
        gen = torch.Generator().manual_seed(config.seed)
        return cls(config, data, model, opt, sched, device, gen, Path(out_dir) if out_dir else None)

    def request_stop(self) -> None:
        self.stop_requested = True

    def resume_from(self, path: str | Path) -> None:
        ck = load_checkpoint(path, self.device)
        self.model.load_state_dict(ck["model"])
        self.optimizer.load_state_dict(ck["optimizer"])
        if self.scheduler is not None and ck.get("scheduler"):
            self.scheduler.load_state_dict(ck["scheduler"])
        self.generator.set_state(ck["generator"].cpu())
        self.epoch, self.step = ck["epoch"], ck["step"]
        self.best_epoch, self.best_value = ck["best_epoch"], ck["best_value"]
        self.history = ck["history"]

    def _checkpoint(self, name: str) -> str:
        if self.out_dir is None:
            return ""
        path = self.out_dir / name
        save_checkpoint(path, {
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "generator": self.generator.get_state(), "config": to_dict(self.config),
            "embedding_dim": self.model.dim,
            "epoch": self.epoch, "step": self.step, "best_epoch": self.best_epoch,
            "best_value": self.best_value, "history": self.history,
            "metrics": self.history[-1] if self.history else {},
        })
        return str(path)


def _flat_params(model: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


@torch.no_grad()
def _evaluate(state: TrainingState, q: torch.Tensor, a: torch.Tensor) -> tuple[dict, torch.Tensor]:
    state.model.eval()
    preds = torch.cat([state.model(q[i:i + 256]) for i in range(0, len(q), 256)]) if len(q) else q
    out = M.evaluate(preds, a) if len(q) else {"cosine": float("nan"), "top1": 0.0, "top5": 0.0, "mrr": 0.0}
    out["loss"] = float(M.loss_terms(preds, a, state.config.loss)["total"]) if len(q) else float("nan")
    return out, preds


def _snapshot(state: TrainingState, q_val: torch.Tensor) -> LatticeSnapshot:
    i = min(state.config.snapshot_sample, len(q_val) - 1)
    state.model.eval()
    with torch.no_grad():
        _, trace = state.model(q_val[i:i + 1], record=True)
    face = state.config.lattice.io == "face"
    question = state.data.val_questions[i] if i < len(state.data.val_questions) else ""
    return LatticeSnapshot(state.epoch, i, question, state.model.trace_grids(trace).astype(np.float32),
                           "z=0" if face else "volume", f"z={state.model.shape[2] - 1}" if face else "volume")


def _gradient_path_warnings(model: torch.nn.Module, touched: dict[str, bool], before: torch.Tensor) -> list[TrainWarning]:
    out = []
    dead = [n for n, hit in touched.items() if not hit]
    if dead:
        out.append(TrainWarning("no-gradient", f"LATTICE NOT IN GRADIENT PATH: {len(dead)} of {len(touched)} parameter "
                                f"tensors received no gradient in the first {GRAD_CHECK_STEPS} steps ({', '.join(dead)}). "
                                "The curves below do not come from a learning lattice."))
    if torch.equal(before, _flat_params(model).cpu()):
        out.append(TrainWarning("no-update", "NO PARAMETER CHANGED in the first steps (learning rate 0, or the optimizer "
                                "does not hold the lattice's parameters): the model is not training."))
    return out


class ActiveClock:
    """Seconds the trainer itself ran: the time a consumer holds the generator between events (a paused GUI,
    a slow writer) is not counted, so throughput and ETA stay true across a pause."""

    def __init__(self):
        self.total, self._since = 0.0, time.perf_counter()

    def hold(self) -> None:
        self.total += time.perf_counter() - self._since

    def release(self) -> None:
        self._since = time.perf_counter()

    def __call__(self) -> float:
        return self.total + time.perf_counter() - self._since


class Throughput:
    """Samples/s over the last `window` batches and the ETA to the end of the run."""

    def __init__(self, window: int = 50):
        self.marks: deque[tuple[float, int]] = deque(maxlen=window + 1)
        self.eval_s = 0.0           # duration of the last end-of-epoch evaluation, added once per remaining epoch

    def restart(self, t: float, samples: int) -> None:
        self.marks.clear()
        self.marks.append((t, samples))

    def update(self, t: float, samples: int) -> float:
        self.marks.append((t, samples))
        (t0, s0), (t1, s1) = self.marks[0], self.marks[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0

    def eta(self, rate: float, samples_left: int, evals_left: int) -> float:
        return (samples_left / rate if rate > 0 else 0.0) + evals_left * self.eval_s


def train(state: TrainingState) -> Iterator:
    """Yield RunStarted, then per batch BatchProgress, per epoch EpochMetrics and LatticeSnapshot, and Finished."""
    clock = ActiveClock()
    for ev in _train(state, clock):
        clock.hold()
        yield ev
        clock.release()


def _train(state: TrainingState, clock: ActiveClock) -> Iterator:
    cfg, o, dev = state.config, state.config.optim, state.device
    d = state.data
    q_tr, a_tr = torch.from_numpy(d.q_train).to(dev), torch.from_numpy(d.a_train).to(dev)
    q_va, a_va = torch.from_numpy(d.q_val).to(dev), torch.from_numpy(d.a_val).to(dev)
    ridge_w = M.ridge_fit(d.q_train, d.a_train)   # kept: the run folder saves it for workbench-eval
    base = M.baselines(d.q_train, d.a_train, d.q_val, d.a_val, ridge_w=ridge_w)
    tr0, _ = _evaluate(state, q_tr, a_tr)
    va0, _ = _evaluate(state, q_va, a_va)
    start = {"train_cosine_start": tr0["cosine"], "val_cosine_start": va0["cosine"],
             "val_top1_start": va0["top1"], "val_mrr_start": va0["mrr"]}
    state.start_metrics = start
    n_params = sum(p.numel() for p in state.model.parameters())
    yield RunStarted(len(q_tr), len(q_va), q_tr.shape[1], state.model.shape, n_params, dev, base, start, state.epoch + 1,
                     ridge_weights=ridge_w)
    if state.epoch == 0:
        yield _snapshot(state, q_va)

    names = [n for n, _ in state.model.named_parameters()]
    touched = {n: False for n in names}
    theta_first = _flat_params(state.model).cpu()
    reason = "completed"
    bs = max(1, o.batch_size)
    n_batches = math.ceil(len(q_tr) / bs)
    speed = Throughput()
    samples_run = 0   # samples trained since this call began (a resumed run starts at 0 here)
    while state.epoch < o.epochs:
        epoch = state.epoch + 1
        state.model.train()
        theta0 = _flat_params(state.model)
        nonzero = [torch.zeros_like(p, dtype=torch.bool) for p in state.model.parameters()]
        sums: dict[str, float] = {}
        norms = []
        n_seen = 0
        speed.restart(clock(), samples_run)   # the window never spans an evaluation
        perm = torch.randperm(len(q_tr), generator=state.generator).to(dev)
        for b in range(n_batches):
            if state.stop_requested:
                reason = "stopped"
                break
            idx = perm[b * bs:(b + 1) * bs]
            q = q_tr[idx]
            if o.context_noise > 0:  # fresh noise every batch, from the run's seeded generator
                q = q + o.context_noise * torch.randn(q.shape, generator=state.generator).to(dev)
            terms = M.loss_terms(state.model(q), a_tr[idx], cfg.loss)
            loss = terms["total"]
            loss_value = float(loss.detach())
            if not math.isfinite(loss_value):
                yield Finished("error", state.best_epoch, state.epoch, _best(state), clock(),
                               error=f"loss became {loss_value} at epoch {epoch}, batch {b + 1}: training "
                                     f"diverged. Lower optim.lr (now {o.lr:g}) or tighten optim.grad_clip.")
                return
            state.optimizer.zero_grad(set_to_none=True)
            if loss.requires_grad:  # False when nothing trainable is in the graph (e.g. zero steps): warned below
                loss.backward()
            for (n, p), nz in zip(state.model.named_parameters(), nonzero):
                if p.grad is not None:
                    hit = p.grad != 0
                    nz |= hit
                    touched[n] = touched[n] or bool(hit.any())
            clip = o.grad_clip if o.grad_clip > 0 else float("inf")
            norms.append(float(torch.nn.utils.clip_grad_norm_(state.model.parameters(), clip)))
            state.optimizer.step()
            state.step += 1
            if state.step == GRAD_CHECK_STEPS:
                for w in _gradient_path_warnings(state.model, touched, theta_first):
                    yield w
            n_seen += len(idx)
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach()) * len(idx)
            samples_run += len(idx)
            now = clock()
            rate = speed.update(now, samples_run)
            left = (len(q_tr) - n_seen) + (o.epochs - epoch) * len(q_tr)
            yield BatchProgress(epoch, b + 1, n_batches, loss_value, now, o.epochs, samples_run,
                                sums["total"] / max(1, n_seen), rate, speed.eta(rate, left, o.epochs - epoch + 1))
        if reason == "stopped" and not sums:
            break
        if state.step < GRAD_CHECK_STEPS and epoch == o.epochs:
            for w in _gradient_path_warnings(state.model, touched, theta_first):
                yield w
        denom = max(1, n_seen)
        t_eval = clock()
        tr, _ = _evaluate(state, q_tr, a_tr)
        va, _ = _evaluate(state, q_va, a_va)
        speed.eval_s = clock() - t_eval
        theta1 = _flat_params(state.model)
        lr = state.optimizer.param_groups[0]["lr"]
        row = {"epoch": epoch,
               "loss": sums.get("total", 0.0) / denom,
               "loss_mse": sums.get("mse", 0.0) / denom, "loss_cosine": sums.get("cosine", 0.0) / denom,
               "loss_l1": sums.get("l1", 0.0) / denom, "loss_infonce": sums.get("infonce", 0.0) / denom,
               "val_loss": va["loss"], "train_cosine": tr["cosine"], "val_cosine": va["cosine"],
               "val_top1": va["top1"], "val_top5": va["top5"], "val_mrr": va["mrr"], "lr": lr,
               "grad_norm": float(np.mean(norms)) if norms else 0.0,
               "update_ratio": float((theta1 - theta0).norm() / theta0.norm().clamp(min=1e-12)),
               "grad_coverage": float(sum(int(nz.sum()) for nz in nonzero) / max(1, sum(nz.numel() for nz in nonzero))),
               "target_progress": va["cosine"] / cfg.target_similarity,
               "seconds": clock()}
        state.epoch = epoch
        state.history.append(row)
        is_best = va["cosine"] > state.best_value
        if is_best:
            state.best_value, state.best_epoch = va["cosine"], epoch
            state._checkpoint("best.pt")
        if state.scheduler is not None:
            state.scheduler.step(va["cosine"])
        state._checkpoint("last.pt")
        yield EpochMetrics(epoch, row, is_best)
        yield _snapshot(state, q_va)
        if row["grad_coverage"] == 0.0:
            yield TrainWarning("no-gradient", f"LATTICE NOT IN GRADIENT PATH: in epoch {epoch} no parameter "
                               "received a non-zero gradient; the curves are flat because nothing learns.")
        if reason == "stopped":
            break
        if o.early_stop_patience and epoch - state.best_epoch >= o.early_stop_patience:
            reason = "early-stopped"
            break
    ck = str(state.out_dir / "best.pt") if state.out_dir and state.best_epoch else ""
    yield Finished(reason, state.best_epoch, state.epoch, _best(state), clock(), checkpoint=ck)


def _best(state: TrainingState) -> dict:
    for row in state.history:
        if row["epoch"] == state.best_epoch:
            return dict(row)
    return {}
