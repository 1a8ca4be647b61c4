"""What the charts draw, as plain numpy (no Qt): one run's per-batch loss and per-epoch metrics.

The x-axis of every chart is "samples seen", so per-batch training loss and per-epoch
validation points line up. Per-batch values go into preallocated buffers that double when
full (amortised O(1) per batch, no Python list of dicts at 100k batches), and the EMA of the
loss is kept up to date incrementally, so a redraw never recomputes it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from workbench.train.record.compare import Figures, rows_from_metrics
from workbench.train.record.progress_log import PROGRESS_FILE, ProgressTail

LEGACY_BATCHES = "batches.csv"   # per-batch log of folders written before progress.jsonl (read, never written)
LOG_KEYS = ("lr", "grad_norm", "update_ratio")   # drawn on log axes: zero or negative points are left out


class Growable:
    """x, y float64 buffers with amortised O(1) append; `x`, `y` are views of the filled part."""

    def __init__(self, capacity: int = 1024):
        self._x = np.empty(capacity)
        self._y = np.empty(capacity)
        self.n = 0

    def append(self, x: float, y: float) -> None:
        if self.n == len(self._x):
            self._x = np.concatenate([self._x, np.empty_like(self._x)])
            self._y = np.concatenate([self._y, np.empty_like(self._y)])
        self._x[self.n], self._y[self.n] = x, y
        self.n += 1

    @property
    def x(self) -> np.ndarray:
        return self._x[:self.n]

    @property
    def y(self) -> np.ndarray:
        return self._y[:self.n]


class Ema:
    """Debiased exponential moving average of a growing series (as TensorBoard draws it): the first
    points are not dragged toward zero. alpha=0 returns the raw values."""

    def __init__(self, alpha: float = 0.9):
        self.alpha = alpha
        self.out = Growable()
        self._acc = 0.0
        self._weight = 0.0

    def push(self, x: float, y: float) -> None:
        if not np.isfinite(y):
            return
        a = self.alpha
        self._acc = a * self._acc + (1 - a) * y
        self._weight = a * self._weight + (1 - a)
        self.out.append(x, self._acc / self._weight if self._weight > 0 else y)

    def reset(self, alpha: float, xs: np.ndarray, ys: np.ndarray) -> None:
        self.alpha, self.out, self._acc, self._weight = alpha, Growable(max(1024, len(xs))), 0.0, 0.0
        for x, y in zip(xs.tolist(), ys.tolist()):
            self.push(x, y)


def ema(values: np.ndarray, alpha: float) -> np.ndarray:
    """Debiased EMA of a whole array (what Ema.push builds point by point)."""
    e = Ema(alpha)
    e.reset(alpha, np.arange(len(values), dtype=float), np.asarray(values, dtype=float))
    return e.out.y.copy() if alpha > 0 else np.asarray(values, dtype=float)


class RunSeries:
    """One run as the charts see it. Filled from trainer events (this app's runs) or a run folder."""

    def __init__(self, name: str, alpha: float = 0.9):
        self.name = name
        self.baselines: dict[str, Figures] = {}   # name → figures (record/compare.py)
        self.n_train = 0
        self.history: list[dict] = []        # EpochMetrics.metrics rows, plus "samples_seen"
        self.batch_loss = Growable(4096)     # (samples seen, loss of that batch)
        self.batch_ema = Ema(alpha)
        self.last_samples = 0                # samples seen at the latest batch
        self.folder: str | None = None
        self._tail: ProgressTail | None = None  # the folder's progress.jsonl, read as it grows
        self._batch_offset = 0               # bytes read of an older folder's batches.csv (no progress.jsonl)
        self._epoch_end: dict[int, int] = {}  # epoch → samples seen at its last batch (from the live log)

    # ---------------------------------------------------------------- from events
    def add_batch(self, samples_seen: int, loss: float) -> None:
        self.last_samples = samples_seen
        self.batch_loss.append(samples_seen, loss)
        self.batch_ema.push(samples_seen, loss)

    def add_epoch(self, metrics: dict) -> dict:
        row = dict(metrics)
        if "samples_seen" not in row:
            # an epoch ends where its last batch ended; without batches (a run folder), epochs × training pairs
            row["samples_seen"] = self.last_samples or int(row.get("epoch", len(self.history) + 1)) * self.n_train
        self.history.append(row)
        return row

    def set_smoothing(self, alpha: float) -> None:
        if alpha != self.batch_ema.alpha:
            self.batch_ema.reset(alpha, self.batch_loss.x, self.batch_loss.y)

    # ---------------------------------------------------------------- for drawing
    def epoch_series(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """Per-epoch points of one metric at their samples-seen x; positive only for the log-axis keys."""
        x = np.array([r.get("samples_seen", np.nan) for r in self.history], dtype=float)
        y = np.array([_num(r.get(key)) for r in self.history], dtype=float)
        ok = np.isfinite(x) & np.isfinite(y) & ((y > 0) if key in LOG_KEYS else True)
        return x[ok], y[ok]

    def x_max(self) -> float:
        xs = [self.last_samples] + [r.get("samples_seen", 0) for r in self.history[-1:]]
        return float(max(xs))

    def nearest_epoch(self, x: float) -> dict | None:
        return min(self.history, key=lambda r: abs(r.get("samples_seen", 0) - x)) if self.history else None

    # ---------------------------------------------------------------- from a run folder
    @classmethod
    def from_folder(cls, folder: str | Path, name: str | None = None) -> "RunSeries":
        """A run written by any process: history.csv (per epoch) and, if present, metrics.json."""
        folder = Path(folder)
        run = cls(name or folder.name)
        run.folder = str(folder)
        run.reload(folder)
        return run

    def reload(self, folder: str | Path) -> bool:
        """Re-read the folder's files; True when something new was found."""
        folder = Path(folder)
        changed = False
        metrics = _read_json(folder / "metrics.json")
        if metrics:
            n_train = int(metrics.get("n_train") or self.n_train)
            if n_train != self.n_train:
                self.n_train, self.history = n_train, []   # epoch x positions are recomputed below
            base = {r.name: r.figures for r in rows_from_metrics(metrics) if r.kind == "baseline"}
            if base != self.baselines:
                self.baselines, changed = base, True
        changed |= self._read_live_log(folder)
        rows = _read_history(folder / "history.csv")
        if len(rows) != len(self.history):
            self.history = []
            for r in rows:
                end = self._epoch_end.get(int(r["epoch"]))
                self.add_epoch({**r, "samples_seen": end if end is not None else
                                int(r["epoch"]) * (self.n_train or 1)})
            changed = True
        return changed

    def _read_live_log(self, folder: Path) -> bool:
        """Take the whole lines another process appended to the folder's progress.jsonl since the last read:
        every batch's loss, and the run's size and baselines from its "started" line (metrics.json, written
        at the end, has them too; until then the baselines are drawn from here)."""
        if self._tail is None or self._tail.path.parent != folder:
            self._tail = ProgressTail(folder / PROGRESS_FILE)
        lines = self._tail.read_new()
        if not lines and self._tail.offset == 0 and (folder / LEGACY_BATCHES).exists():
            return self._read_legacy_batches(folder / LEGACY_BATCHES)
        changed = False
        for line in lines:
            kind = line.get("kind")
            if kind == "batch":
                try:
                    epoch, seen, loss = int(line["epoch"]), int(line["samples_seen"]), _num(line["loss"])
                except (KeyError, TypeError, ValueError):
                    continue
                self.add_batch(seen, loss)
                self._epoch_end[epoch] = seen
                changed = True
            elif kind == "started" and not (folder / "metrics.json").exists():
                n_train = int(line.get("n_train") or 0)
                if n_train and n_train != self.n_train:
                    self.n_train, self.history = n_train, []   # epoch x positions are recomputed by reload
                base = {name: Figures.of(vals) for name, vals in (line.get("baselines") or {}).items()
                        if isinstance(vals, dict)}
                if base and base != self.baselines:
                    self.baselines = base
                changed = True
        return changed

    def _read_legacy_batches(self, path: Path) -> bool:
        """A folder written before progress.jsonl was the one live log: its batches.csv
        (epoch,batch,samples_seen,loss), so past runs keep their per-batch curves."""
        try:
            with open(path, "rb") as fh:
                fh.seek(self._batch_offset)
                chunk = fh.read()
        except OSError:
            return False
        end = chunk.rfind(b"\n") + 1          # a line still being written waits for the next read
        if end == 0:
            return False
        lines = chunk[:end].decode("utf-8", "replace").splitlines()
        if self._batch_offset == 0 and lines and lines[0].startswith("epoch"):
            lines = lines[1:]
        self._batch_offset += end
        for line in lines:
            parts = line.split(",")
            if len(parts) >= 4:
                try:
                    epoch, seen, loss = int(parts[0]), int(parts[2]), float(parts[3])
                except ValueError:
                    continue
                self.add_batch(seen, loss)
                self._epoch_end[epoch] = seen
        return bool(lines)


def _num(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}   # not there yet, or caught mid-write by a writer that is not atomic


def _read_history(path: Path) -> list[dict]:
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
