"""Everything a run carries between batches, and how it goes to and from a checkpoint.

`TrainingState.create` estimates the run first (estimate.py) and refuses one that cannot fit
before the lattice is allocated. A checkpoint holds the model, optimizer, scheduler, the
batch generator (the batch order, context noise and `fire_rate < 1` update masks draw from it) and the global
RNG states (torch, CUDA, numpy, Python), the history and the metrics before the first update, so a resumed
run continues bit for bit and reports the original run's starting point.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from workbench.train.batching import n_batches
from workbench.train.record.checkpoint import CheckpointError, capture_rng, load_checkpoint, restore_rng, save_checkpoint
from workbench.train.config import RunConfig, from_dict, to_dict
from workbench.train.estimate import check_fits, estimate_run
from workbench.train.resume_check import BEST, check_split, differences, init_weights, refuse  # noqa: F401 (BEST)
from workbench.train.schedule import build_optimizer
from workbench.train.events import RunEstimate
from workbench.model.lattice import CellLattice, build_lattice
from workbench.teacher.model_files import pick_device

log = logging.getLogger(__name__)
LAST = "last.safetensors"



@dataclass
class TrainData:
    """Embeddings of a split that never overlaps: (n, D) float32 arrays, unit-normalised by the teacher."""
    q_train: np.ndarray
    a_train: np.ndarray
    q_val: np.ndarray
    a_val: np.ndarray
    val_questions: list[str] = field(default_factory=list)
    teacher: str = ""
    train_groups: np.ndarray | None = None   # (n_train,) int64 group id per training row, for optim.batching="group"
    split_fingerprint: str = ""     # resume_check.split_fingerprint of the pairs; "" when not built by prepare()


@dataclass
class TrainingState:
    config: RunConfig
    data: TrainData
    model: CellLattice
    optimizer: torch.optim.Optimizer
    scheduler: object | None
    device: str
    generator: torch.Generator       # draws the batch order and the context noise
    out_dir: Path | None = None
    epoch: int = 0                  # last completed epoch
    step: int = 0
    best_epoch: int = 0
    best_value: float = -math.inf
    history: list[dict] = field(default_factory=list)
    stop_requested: bool = False
    start_metrics: dict = field(default_factory=dict)   # before the first update of the original run
    seconds_before: float = 0.0     # active seconds of the epochs a resumed run inherits
    estimate: RunEstimate | None = None
    is_writer: bool = True          # the process that writes checkpoints (rank 0 under DDP)
    partial: dict | None = None     # an interrupted epoch's position (epoch.Epoch.position), saved by a stop
    ddp: object | None = None       # distributed.Ddp when torchrun started several processes, else None

    @classmethod
    def create(cls, config: RunConfig, data: TrainData, out_dir: str | Path | None = None,
               ddp=None) -> "TrainingState":
        """Estimate, refuse what cannot fit (RunTooLarge), then allocate. Raises ConfigError for an impossible lattice.
        ddp: a distributed.Ddp; the model goes on its device (cuda:LOCAL_RANK under NCCL), only rank 0 writes."""
        dim = data.q_train.shape[1]
        device = ddp.device if ddp is not None else pick_device(config.device)
        estimate = estimate_run(config, len(data.q_train), dim, len(data.q_val), device)
        check_fits(estimate, config)
        torch.manual_seed(config.seed)   # the global stream: anything outside the run's generator starts seeded
        model = build_lattice(dim, config.lattice, config.seed).to(device)
        steps = n_batches(len(data.q_train), max(1, config.optim.batch_size), config.optim.drop_last)
        opt, sched = build_optimizer(model, config, steps)
        gen = torch.Generator().manual_seed(config.seed)
        if config.init_from:           # fine-tuning: the parent's best weights; optimizer and schedule stay fresh
            model.load_state_dict(init_weights(config, model))
        return cls(config, data, model, opt, sched, device, gen, Path(out_dir) if out_dir else None,
                   estimate=estimate, is_writer=ddp is None or ddp.is_main, ddp=ddp)

    def request_stop(self) -> None:
        self.stop_requested = True

    def resume_from(self, path: str | Path) -> list[str]:
        """Continue from a checkpoint of a run with the same model and split (resume_check.py); differing keys
        are named, not tracebacked. Returns warnings for the user (an old checkpoint without a split fingerprint)."""
        ck = load_checkpoint(path)
        refuse(path, differences(ck["config"], self.config, self.model.dim, ck.get("embedding_dim"), path))
        notes = check_split(ck, self.data.split_fingerprint, path)    # the same train/validation pairs
        for note in notes:
            log.warning(note)
        try:
            self.model.load_state_dict(ck["model"])
            self.optimizer.load_state_dict(ck["optimizer"])
            if self.scheduler is not None and ck.get("scheduler"):
                self.scheduler.load_state_dict(ck["scheduler"])
            self.generator.set_state(ck["generator"])
        except (RuntimeError, ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(f"{path}: checkpoint does not fit this model ({str(exc).splitlines()[0]})") from None
        if "rng" in ck:
            restore_rng(ck["rng"])
        log.info("resumed from %s at epoch %s", path, ck["epoch"])
        self.epoch, self.step = int(ck["epoch"]), int(ck.get("step", 0))
        self.best_epoch, self.best_value = int(ck.get("best_epoch", 0)), float(ck.get("best_value", -math.inf))
        self.history = list(ck.get("history", []))
        self.start_metrics = dict(ck.get("start_metrics", {}))
        self.seconds_before = float(self.history[-1].get("seconds", 0.0)) if self.history else 0.0
        self.partial = self._partial_from(ck, path, notes)
        if self.partial:                # the interrupted epoch's active seconds count too
            self.seconds_before = float(self.partial.get("seconds", self.seconds_before))
        return notes

    def _partial_from(self, ck: dict, path, notes: list[str]) -> dict | None:
        """The interrupted epoch's position, when the checkpoint holds one that this run's batch size can continue."""
        p = ck.get("partial")
        if not p:
            return None
        old = int(from_dict(ck["config"]).optim.batch_size)
        if old != self.config.optim.batch_size or len(p["order"]) != len(self.data.q_train):
            note = (f"{path}: stopped in epoch {p['epoch']} after {p['batches']} batches of {old}; with batch size "
                    f"{self.config.optim.batch_size} that epoch starts again from its first batch")
            log.warning(note)
            notes.append(note)
            return None
        return p

    def payload(self) -> dict:
        return {
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "generator": self.generator.get_state(), "rng": capture_rng(), "config": to_dict(self.config),
            "embedding_dim": self.model.dim, "teacher": self.data.teacher,
            "split_fingerprint": self.data.split_fingerprint,
            "epoch": self.epoch, "step": self.step, "best_epoch": self.best_epoch,
            "best_value": self.best_value, "history": self.history,
            "metrics": self.history[-1] if self.history else {}, "start_metrics": self.start_metrics,
            "partial": self.partial,
        }

    def save(self, name: str) -> str:
        """Write a checkpoint into the run folder: the one place the trainer writes (rank 0 only under DDP)."""
        if self.out_dir is None or not self.is_writer:
            return ""
        path = self.out_dir / name
        t = time.perf_counter()
        save_checkpoint(path, self.payload())
        log.debug("saved %s (epoch %d) in %.3f s", path, self.epoch, time.perf_counter() - t)
        return str(path)
