"""RUN/progress.jsonl: an append-only log of the run that any process can follow while it is written.

Why: history.csv and metrics.json are rewritten whole, once per epoch and at the end; a viewer that
watches a run folder written by another process (the CLI, a torchrun job, a cluster node on a shared
filesystem) also wants per-step curves. The writer (rank 0 only in a distributed run) appends one JSON
object per line, each line written whole in one `write` call and flushed, so a reader sees whole lines
and at most one unfinished last line, which it should skip until its newline arrives.

Line kinds (every line has "kind" and "t", Unix time in seconds):

    {"kind": "started", "t": …, "start_epoch": 1, "n_train": 10000, "n_val": 2500, "n_epochs": 30,
     "world_size": 1, "device": "cpu", "baselines": {"identity": {"val_cosine": …, …}, …},
     "start": {"train_cosine_start": …, "val_cosine_start": …, …}}
    {"kind": "batch", "t": …, "epoch": 3, "batch": 120, "n_batches": 625, "step": 1370,
     "samples_seen": 21920, "loss": 0.41, "running_loss": 0.43, "samples_per_s": 812.0, "eta_s": 95.0}
    {"kind": "epoch", "t": …, "epoch": 3, "is_best": true, "metrics": {<history.csv columns>}}
    {"kind": "warning", "t": …, "code": "no-gradient", "message": "…"}
    {"kind": "finished", "t": …, "reason": "completed", "best_epoch": 7, "epochs_run": 10, "error": ""}

"step" is the global batch number (epoch − 1) · n_batches + batch, stable across a resume. Batch lines are
throttled to at most one per `interval` seconds (1 s) plus each epoch's last batch; a resumed run appends
a new "started" line to the same file.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

from .events import BatchProgress, EpochMetrics, EventSink, Finished, RunStarted, TrainWarning

PROGRESS_FILE = "progress.jsonl"


def _clean(value):
    """JSON has no NaN/inf: they become null, so every line parses in any language."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


class ProgressLog(EventSink):
    def __init__(self, out_dir: str | Path, n_epochs: int = 0, world_size: int = 1, interval: float = 1.0,
                 clock=time.monotonic):
        self.path = Path(out_dir) / PROGRESS_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.n_epochs, self.world_size, self.interval, self.clock = n_epochs, world_size, interval, clock
        self._last = float("-inf")

    def _append(self, kind: str, **fields) -> None:
        line = json.dumps(_clean({"kind": kind, "t": round(time.time(), 3), **fields}), separators=(",", ":")) + "\n"
        # O_APPEND + one write: a concurrent reader never sees two lines interleaved or a line split mid-way
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)

    def on_run_started(self, ev: RunStarted) -> None:
        self._append("started", start_epoch=ev.start_epoch, n_train=ev.n_train, n_val=ev.n_val,
                     n_epochs=self.n_epochs, world_size=self.world_size, device=ev.device,
                     lattice_shape=list(ev.lattice_shape), n_params=ev.n_params, baselines=ev.baselines,
                     start=ev.start)

    def on_batch_progress(self, ev: BatchProgress) -> None:
        now = self.clock()
        if now - self._last < self.interval and ev.batch < ev.n_batches:
            return
        self._last = now
        self._append("batch", epoch=ev.epoch, batch=ev.batch, n_batches=ev.n_batches,
                     step=(ev.epoch - 1) * ev.n_batches + ev.batch, samples_seen=ev.samples_seen,
                     loss=ev.loss, running_loss=ev.running_loss, samples_per_s=ev.samples_per_s, eta_s=ev.eta_s)

    def on_epoch_metrics(self, ev: EpochMetrics) -> None:
        self._append("epoch", epoch=ev.epoch, is_best=ev.is_best, metrics=ev.metrics)

    def on_train_warning(self, ev: TrainWarning) -> None:
        self._append("warning", code=ev.code, message=ev.message)

    def on_finished(self, ev: Finished) -> None:
        self._append("finished", reason=ev.reason, best_epoch=ev.best_epoch, epochs_run=ev.epochs_run,
                     seconds=ev.seconds, error=ev.error)


def read_progress(path: str | Path) -> list[dict]:
    """Every whole line of a progress.jsonl (an unfinished last line is left for the next read)."""
    text = Path(path).read_text(encoding="utf-8") if Path(path).exists() else ""
    lines = text.split("\n")[:-1]              # the part after the last newline is not yet whole
    return [json.loads(line) for line in lines if line.strip()]
