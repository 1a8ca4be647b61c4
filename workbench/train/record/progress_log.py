"""RUN/progress.jsonl: THE live log of a run, the one file another process follows while it is written.

Every kind of run writes it through this one writer (sinks.run_folder_sinks builds it for the CLI,
rank 0 of a torchrun job, each sweep trial and the app's own runs), and the app's follower reads it
(ProgressTail, through follow.RunFolderReader). history.csv and metrics.json are rewritten whole, once per epoch
and at the end; this file adds what happens between: per-batch loss, the start (baselines, sizes) and the end.

Why this format and not the recorder's older batches.csv (epoch, batch, samples_seen, loss): one file
says everything a follower needs, in order — that a run started (with its baselines and training size, so a
chart can draw them before metrics.json exists), every batch, every epoch's metrics, warnings, and how it
ended — where a CSV of batches says only the batches and two logs of one run could disagree. JSON lines also
take new fields without breaking old readers, and any language or `jq` reads them.

Density: every batch gets its line, so the app draws the same smooth per-batch curve from a followed folder
as from its own run (at 13k pairs and batch 32: ~330 lines per epoch, ~60 KB; 30 epochs ≈ 2 MB). Lines are
not written one syscall each: batch lines are gathered and appended in one `write` at most once per
`interval` (1 s), and always at an epoch's last batch and before any other line, so the file stays in order.

Writing: O_APPEND and one `os.write` per group of whole lines, so a reader sees whole lines and at most one
unfinished last line, which it skips until its newline arrives. Only rank 0 writes in a distributed run.

Line kinds (every line has "kind" and "t", Unix time in seconds):

    {"kind": "started", "t": …, "start_epoch": 1, "n_train": 10000, "n_val": 2500, "n_epochs": 30,
     "world_size": 1, "device": "cpu", "baselines": {"identity": {"val_cosine": …, …}, …},
     "start": {"train_cosine_start": …, "val_cosine_start": …, …}}
    {"kind": "batch", "t": …, "epoch": 3, "batch": 120, "n_batches": 625, "step": 1370,
     "samples_seen": 21920, "loss": 0.41, "running_loss": 0.43, "samples_per_s": 812.0, "eta_s": 95.0}
    {"kind": "epoch", "t": …, "epoch": 3, "is_best": true, "metrics": {<history.csv columns>}}
    {"kind": "warning", "t": …, "code": "no-gradient", "message": "…"}
    {"kind": "finished", "t": …, "reason": "completed", "best_epoch": 7, "epochs_run": 10, "seconds": 81.2,
     "error": "", "partial_batches": 0, "checkpoint": "best.safetensors"}

"step" is the global batch number (epoch − 1) · n_batches + batch, stable across a resume; "samples_seen"
is the x-axis of the app's charts. A resumed run appends a new "started" line to the same file.
"checkpoint" is the file's name in the run folder (the folder may be mounted elsewhere by the reader).

Reading: ProgressTail turns the lines back into the trainer's event dataclasses (progress_decode.py), so the
app draws a followed run through the same views as its own.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping
from pathlib import Path

from workbench.train.events import BatchProgress, EpochMetrics, EventSink, Finished, RunStarted, TrainWarning
from workbench.train.record.progress_decode import ProgressDecoder

PROGRESS_FILE = "progress.jsonl"


def _clean(value):
    """JSON has no NaN/inf: they become null, so every line parses in any language."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):       # dicts, and the baselines' Figures (under their metrics.json names)
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
        self._pending: list[str] = []        # batch lines not yet written
        self._written = clock()

    def _line(self, kind: str, **fields) -> str:
        return json.dumps(_clean({"kind": kind, "t": round(time.time(), 3), **fields}), separators=(",", ":")) + "\n"

    def _write(self, *lines: str) -> None:
        text, self._pending = "".join([*self._pending, *lines]), []
        self._written = self.clock()
        if not text:
            return
        # O_APPEND + one write: a concurrent reader never sees two lines interleaved or a line split mid-way
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, text.encode("utf-8"))
        finally:
            os.close(fd)

    def on_run_started(self, ev: RunStarted) -> None:
        self._write(self._line("started", start_epoch=ev.start_epoch, n_train=ev.n_train, n_val=ev.n_val,
                               n_epochs=self.n_epochs, world_size=self.world_size, device=ev.device,
                               lattice_shape=list(ev.lattice_shape), n_params=ev.n_params, baselines=ev.baselines,
                               start=ev.start))

    def on_batch_progress(self, ev: BatchProgress) -> None:
        self._pending.append(self._line(
            "batch", epoch=ev.epoch, batch=ev.batch, n_batches=ev.n_batches,
            step=(ev.epoch - 1) * ev.n_batches + ev.batch, samples_seen=ev.samples_seen, loss=ev.loss,
            running_loss=ev.running_loss, samples_per_s=ev.samples_per_s, eta_s=ev.eta_s, lr=ev.lr))
        if ev.batch >= ev.n_batches or self.clock() - self._written >= self.interval:
            self._write()

    def on_epoch_metrics(self, ev: EpochMetrics) -> None:
        self._write(self._line("epoch", epoch=ev.epoch, is_best=ev.is_best, metrics=ev.metrics))

    def on_train_warning(self, ev: TrainWarning) -> None:
        self._write(self._line("warning", code=ev.code, message=ev.message))

    def on_finished(self, ev: Finished) -> None:
        self._write(self._line("finished", reason=ev.reason, best_epoch=ev.best_epoch, epochs_run=ev.epochs_run,
                               seconds=ev.seconds, error=ev.error, partial_batches=ev.partial_batches,
                               checkpoint=Path(ev.checkpoint).name if ev.checkpoint else ""))


class ProgressTail:
    """Reads a progress.jsonl as it grows: each `read_new()` returns the events of the whole lines added since the
    last call, as the trainer's own dataclasses (ProgressDecoder), so a followed run reaches the views the way an
    in-app run does. A line still being written waits for the next call. A line that is not JSON, or not one of
    the kinds above, is counted in `skipped`, never fatal: the file may come from another version or a disk that
    was full."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.offset = 0          # bytes read so far
        self.decoder = ProgressDecoder(self.path.parent)

    @property
    def skipped(self) -> int:
        return self.decoder.skipped

    def read_lines(self) -> list[dict]:
        """The new whole lines as parsed JSON objects (what `read_new` decodes)."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                chunk = fh.read()
        except OSError:
            return []
        end = chunk.rfind(b"\n") + 1
        self.offset += end
        out = []
        for line in chunk[:end].splitlines():
            try:
                obj = json.loads(line)
            except ValueError:
                obj = None
            if isinstance(obj, dict):
                out.append(obj)
            elif line.strip():
                self.decoder.skipped += 1
        return out

    def read_new(self) -> list:
        return [ev for ev in map(self.decoder.decode, self.read_lines()) if ev is not None]


def read_progress(path: str | Path) -> list[dict]:
    """Every whole line of a progress.jsonl as JSON objects (an unfinished last line is left for the next read)."""
    return ProgressTail(path).read_lines()
