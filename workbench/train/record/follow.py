"""A run folder read as it is written, by any process: its events, in order, and what state it is in.

`RunFolderReader(folder).read_new()` returns the events added since the last call, as the trainer's own
dataclasses (train/events.py), so the app draws a followed run through the views of its own runs. The source:

- progress.jsonl, the live log every run writes (progress_log.py), decoded line by line (progress_decode.py);
- a folder written before progress.jsonl existed: history.csv (per epoch), batches.csv (per batch) and
  metrics.json (the end), read once and replayed in order (each epoch's batches, then the epoch), so past runs
  keep their curves.

States (`state()`): "absent" (not a run folder), "setting up" (only run.log so far: the CLI has started and the
teacher is embedding; config.json and progress.jsonl come once the data is ready), "running", "finished".
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from workbench.train.events import BatchProgress, EpochMetrics, Finished, RunStarted
from workbench.train.record.compare import rows_from_metrics
from workbench.train.record.progress_log import PROGRESS_FILE, ProgressTail

LEGACY_BATCHES = "batches.csv"   # per-batch log of folders written before progress.jsonl (read, never written)
RUN_LOG = "run.log"
RUN_FILES = ("history.csv", "config.json", PROGRESS_FILE)


def folder_state(folder: str | Path) -> str:
    folder = Path(folder)
    if not folder.is_dir():
        return "absent"
    if (folder / "metrics.json").is_file():
        return "finished"
    if any((folder / n).exists() for n in RUN_FILES):
        return "running"
    return "setting up" if (folder / RUN_LOG).is_file() else "absent"


def is_run_folder(folder: str | Path) -> bool:
    """A folder a run has written, or is still setting up (only its run.log so far)."""
    return folder_state(folder) != "absent"


def setup_note(folder: str | Path) -> str:
    """What a run that is still setting up last logged (its run.log's last line, without the time stamp)."""
    try:
        with open(Path(folder) / RUN_LOG, "rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - 4096))
            lines = fh.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    last = lines[-1] if lines else ""
    return last.split(": ", 1)[-1] if ": " in last else last


class RunFolderReader:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.tail = ProgressTail(self.folder / PROGRESS_FILE)
        self.legacy_done = False

    def state(self) -> str:
        return folder_state(self.folder)

    def read_new(self) -> list:
        events = self.tail.read_new()
        if events or self.tail.offset or (self.folder / PROGRESS_FILE).exists():
            return events
        if self.legacy_done or not (self.folder / "history.csv").is_file():
            return []
        self.legacy_done = True
        return legacy_events(self.folder)


def legacy_events(folder: Path) -> list:
    """A pre-progress.jsonl folder as events: the start (size, baselines from metrics.json), each epoch's batches
    then the epoch, and the end when metrics.json is there."""
    metrics = read_json(folder / "metrics.json")
    rows = read_history(folder / "history.csv")
    batches = _legacy_batches(folder / LEGACY_BATCHES)
    n_epochs = len(rows)
    out: list = [RunStarted(n_train=int(metrics.get("n_train") or 0), n_val=int(metrics.get("n_val") or 0),
                            embedding_dim=0, lattice_shape=tuple(metrics.get("lattice_shape") or (0, 0, 0)),
                            n_params=int(metrics.get("n_params") or 0), device=str(metrics.get("device") or ""),
                            baselines={r.name: r.figures for r in rows_from_metrics(metrics)
                                       if r.kind == "baseline"}, start={})]
    epochs = sorted({b[0] for b in batches} | {int(r["epoch"]) for r in rows})
    by_epoch = {int(r["epoch"]): r for r in rows}
    for epoch in epochs:
        mine = [b for b in batches if b[0] == epoch]
        n_batches = max((b[1] for b in mine), default=0)
        out += [BatchProgress(epoch, batch, n_batches, loss, 0.0, n_epochs, seen) for _, batch, seen, loss in mine]
        if epoch in by_epoch:
            out.append(EpochMetrics(epoch, dict(by_epoch[epoch]), False))
    if metrics:
        best = int(metrics.get("best_epoch") or 0)
        ck = folder / "best.safetensors"
        out.append(Finished(str(metrics.get("finish_reason") or "completed"), best,
                            int(metrics.get("epochs_run") or n_epochs),
                            dict(by_epoch.get(best, {})),
                            _num(metrics.get("seconds")), checkpoint=str(ck) if ck.is_file() else ""))
    return out


def _legacy_batches(path: Path) -> list[tuple[int, int, int, float]]:
    """batches.csv rows (epoch, batch, samples_seen, loss); a half-written last line is left out."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    out = []
    for line in text[:text.rfind("\n") + 1].splitlines()[1:]:
        parts = line.split(",")
        try:
            out.append((int(parts[0]), int(parts[1]), int(parts[2]), float(parts[3])))
        except (IndexError, ValueError):
            continue
    return out


def _num(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}   # not there yet, or caught mid-write by a writer that is not atomic


def read_history(path: Path) -> list[dict]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError:
        return []
    out = []
    for r in rows:
        try:
            row = {k: (int(v) if k == "epoch" else _num(v)) for k, v in r.items() if k and v not in (None, "")}
        except ValueError:
            continue      # a half-written last line
        if "epoch" in row:
            out.append(row)
    return out
