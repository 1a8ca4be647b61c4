"""progress.jsonl lines back into the trainer's own event dataclasses (train/events.py).

A run followed from another process (the CLI, a torchrun job, a sweep trial) then reaches the app's views
as the same RunStarted, BatchProgress, EpochMetrics, TrainWarning and Finished objects an in-app run yields,
so one set of views draws both: no second path keyed on a line's "kind". The writer is progress_log.py; the
line format is documented there.

The decoder keeps what later lines need from earlier ones: the planned epochs (a batch line does not repeat
them), the start time (a batch's elapsed seconds), and each epoch's metrics (Finished carries the best epoch's).
"""

from __future__ import annotations

import math
from pathlib import Path

from workbench.train.events import BatchProgress, EpochMetrics, Finished, RunStarted, TrainWarning
from workbench.train.record.compare import Figures


def _float(v) -> float:
    """A number from a line; null (how the writer stores NaN and inf) and junk become NaN."""
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _metrics(d) -> dict[str, float]:
    return {str(k): _float(v) for k, v in d.items()} if isinstance(d, dict) else {}


class ProgressDecoder:
    """`decode(line)`: one parsed progress.jsonl line → its event, or None (counted in `skipped`) for a line
    of an unknown kind or with a missing or malformed field."""

    def __init__(self, folder: str | Path | None = None):
        self.folder = Path(folder) if folder is not None else None   # resolves the finished line's checkpoint name
        self.n_epochs = 0
        self.t0: float | None = None        # Unix time of the latest "started" line
        self.epochs: dict[int, dict[str, float]] = {}
        self.skipped = 0

    def decode(self, line: dict):
        kind = line.get("kind")
        handler = getattr(self, f"_{kind}", None) if isinstance(kind, str) else None
        try:
            ev = handler(line) if handler is not None else None
        except (KeyError, TypeError, ValueError, AttributeError):
            ev = None
        if ev is None:
            self.skipped += 1
        return ev

    def _elapsed(self, line: dict) -> float:
        t = _float(line.get("t"))
        return max(0.0, t - self.t0) if self.t0 is not None and math.isfinite(t) else 0.0

    def _started(self, line: dict) -> RunStarted:
        self.n_epochs = int(line.get("n_epochs") or self.n_epochs)
        t = _float(line.get("t"))
        self.t0 = t if math.isfinite(t) else None
        baselines = {str(name): Figures.of(vals) for name, vals in (line.get("baselines") or {}).items()
                     if isinstance(vals, dict)}
        shape = tuple(int(v) for v in line.get("lattice_shape") or (0, 0, 0))
        return RunStarted(n_train=int(line["n_train"]), n_val=int(line.get("n_val") or 0), embedding_dim=0,
                          lattice_shape=shape, n_params=int(line.get("n_params") or 0),
                          device=str(line.get("device") or ""), baselines=baselines, start=_metrics(line.get("start")),
                          start_epoch=int(line.get("start_epoch") or 1), world_size=int(line.get("world_size") or 1))

    def _batch(self, line: dict) -> BatchProgress:
        return BatchProgress(epoch=int(line["epoch"]), batch=int(line["batch"]), n_batches=int(line["n_batches"]),
                             loss=_float(line["loss"]), elapsed_s=self._elapsed(line), n_epochs=self.n_epochs,
                             samples_seen=int(line["samples_seen"]), running_loss=_float(line.get("running_loss")),
                             samples_per_s=_float(line.get("samples_per_s")), eta_s=_float(line.get("eta_s")),
                             lr=_float(line.get("lr")))

    def _epoch(self, line: dict) -> EpochMetrics:
        epoch, metrics = int(line["epoch"]), _metrics(line["metrics"])
        metrics["epoch"] = epoch       # as the trainer's rows hold it: an int, also when the line left it out
        self.epochs[epoch] = metrics
        return EpochMetrics(epoch=epoch, metrics=metrics, is_best=bool(line.get("is_best")))

    def _warning(self, line: dict) -> TrainWarning:
        return TrainWarning(code=str(line["code"]), message=str(line["message"]))

    def _finished(self, line: dict) -> Finished:
        best = int(line.get("best_epoch") or 0)
        return Finished(reason=str(line["reason"]), best_epoch=best, epochs_run=int(line.get("epochs_run") or 0),
                        best=dict(self.epochs.get(best, {})), seconds=_float(line.get("seconds")),
                        error=str(line.get("error") or ""), checkpoint=self._checkpoint(line.get("checkpoint")),
                        partial_batches=int(line.get("partial_batches") or 0))

    def _checkpoint(self, name) -> str:
        """The finished line names its checkpoint inside the folder; older lines name none (best, if there)."""
        if self.folder is None:
            return ""
        for candidate in (name, "best.safetensors"):
            if candidate and (self.folder / Path(str(candidate)).name).is_file():
                return str(self.folder / Path(str(candidate)).name)
        return ""
