"""Plain event objects the trainer yields. No tensors cross this boundary: numbers, dicts, numpy arrays.

The CLI prints them, the run recorder writes them to disk, the GUI worker re-emits them as Qt signals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workbench.teacher.progress import EmbedProgress  # noqa: F401  (re-exported: the views' one import)
from workbench.train.record.compare import Figures

# per-epoch metric names, in the column order of history.csv
EPOCH_KEYS = ("loss", "loss_mse", "loss_cosine", "loss_l1", "loss_infonce", "val_loss", "train_cosine",
              "val_cosine", "val_top1", "val_top5", "val_mrr", "lr", "grad_norm", "update_ratio",
              "grad_coverage", "target_progress", "seconds")


@dataclass
class RunEstimate:
    """Size and speed of a run, worked out from the config before anything big is allocated (estimate.py).

    The trainer yields it first; the GUI asks before a run whose epoch takes hours, the CLI prints it.
    """
    n_params: int
    weight_bytes: int           # parameters, their gradients and the optimizer's moments, plus fixed buffers
    activation_bytes: int       # the larger of: one training batch kept for backward through all steps, one eval chunk
    data_bytes: int             # the embeddings of both splits
    peak_bytes: int             # sum of the above: the most the run should hold at once
    free_bytes: int             # memory free on the device when estimated (0 = unknown)
    seconds_per_epoch: float    # training + evaluation, from a timed probe of this rule on this machine (0 = not timed)
    epochs: int
    device: str
    lattice_shape: tuple[int, int, int]
    basis: str = ""             # how the time was calibrated, in words

    @property
    def fits(self) -> bool:
        return self.free_bytes <= 0 or self.peak_bytes <= self.free_bytes

    @property
    def total_seconds(self) -> float:
        return self.seconds_per_epoch * self.epochs


@dataclass
class RunStarted:
    n_train: int
    n_val: int
    embedding_dim: int
    lattice_shape: tuple[int, int, int]
    n_params: int
    device: str
    baselines: dict[str, Figures]            # name → figures (identity, mean_answer, ridge; record/compare.py)
    start: dict[str, float]                  # metrics before the run's first update (train_cosine_start, val_…);
                                             # a resumed run reports the original run's, kept in its checkpoint
    start_epoch: int = 1                     # > 1 when resumed from a checkpoint
    ridge_weights: np.ndarray | None = None  # (D+1, D) the ridge baseline's map, saved in the run folder
    world_size: int = 1                      # processes training together (torchrun), each on a slice of every batch
    backend: str = "none"                    # torch.distributed backend: "gloo" (CPU), "nccl" (CUDA) or "none"


@dataclass
class BatchProgress:
    epoch: int
    batch: int                  # 1-based within the epoch
    n_batches: int
    loss: float                 # this batch's total loss
    elapsed_s: float            # active time of this run: excludes time the consumer held the generator (pause)
    n_epochs: int = 0           # epochs the run is configured for
    samples_seen: int = 0       # training samples processed since the run (not the resume) began: the x-axis of per-step charts
    running_loss: float = 0.0   # mean loss over this epoch's batches so far
    samples_per_s: float = 0.0  # training throughput over the last ~50 batches
    eta_s: float = 0.0          # estimated active seconds to the last epoch's end, evaluation included
    lr: float = 0.0             # the learning rate after this batch's update (per batch under a warm-up)


@dataclass
class EvalProgress:
    """A chunk of an evaluation pass done: before training, after an epoch, or the final ablation (eval_pass.py).
    Stop is honoured between chunks, so a long evaluation stays visible and stoppable."""
    phase: str                  # "before training", "epoch 3", "ablation"
    label: str                  # what is scored: "validation", "training subset", "baselines"
    done: int                   # pairs predicted so far in this pass
    total: int
    elapsed_s: float = 0.0      # active time of this run, as BatchProgress.elapsed_s


@dataclass
class EpochMetrics:
    epoch: int
    metrics: dict[str, float]   # see Trainer.EPOCH_KEYS
    is_best: bool


@dataclass
class LatticeSnapshot:
    epoch: int                  # 0 = before training
    sample: int                 # validation row shown
    question: str
    states: np.ndarray          # (T+1, C, X, Y, Z) float32, detached on the CPU
    input_face: str = "volume"  # "volume" or "z=0"; where the question was injected
    output_face: str = "volume"


@dataclass
class TrainWarning:
    code: str                   # "no-gradient", "no-update", "slow-epoch", "memory", "partial-epoch", "orphans", …
    message: str


@dataclass
class Finished:
    reason: str                 # "completed", "early-stopped", "stopped", "error"
    best_epoch: int
    epochs_run: int             # completed epochs; a stop in mid-epoch does not count that epoch (see partial_batches)
    best: dict[str, float]      # metrics of the best epoch
    seconds: float
    error: str = ""
    checkpoint: str = ""
    partial_batches: int = 0    # batches trained in an epoch the stop cut short: not evaluated or recorded, but
                                # kept with their position in last.safetensors, where a resume goes on
    extra: dict = field(default_factory=dict)
    kept: str = ""              # the mid-epoch checkpoint a stop wrote ("" when none: no run folder, or no batch)

    def stop_notice(self, resume_hint: str) -> str:
        """What a stop kept, as a notice (not an error); resume_hint says how this driver resumes."""
        if self.reason != "stopped":
            return ""
        if self.kept:
            return (f"Stopped in epoch {self.epochs_run + 1} after {self.partial_batches} batches; kept in "
                    f"{self.kept} (epochs done: {self.epochs_run}, best: {self.best_epoch}). {resume_hint}")
        if self.epochs_run:
            return f"Stopped after epoch {self.epochs_run} (best: {self.best_epoch}). {resume_hint}"
        return "Stopped before any batch was trained: nothing to resume."


def _handler_name(cls: type) -> str:
    import re
    return "on_" + re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


class EventSink:
    """Dispatch by event type in one place: `sink(ev)` calls `on_run_started(ev)`, `on_epoch_metrics(ev)`, …

    The CLI printer, the run recorder and the GUI's event dispatcher all subclass this, so each view is one
    method per event type it cares about; types it has no method for go to `on_other` (ignored by default).
    """

    def __call__(self, ev) -> None:
        getattr(self, _handler_name(type(ev)), self.on_other)(ev)

    def on_other(self, ev) -> None:
        pass
