"""What the charts draw, as plain numpy (no Qt): one run's per-batch loss and per-epoch metrics.

The x-axis of every chart is "samples seen", so per-batch training loss and per-epoch
validation points line up. Per-batch values go into preallocated buffers that double when
full (amortised O(1) per batch, no Python list of dicts at 100k batches), and the EMA of the
loss is kept up to date incrementally, so a redraw never recomputes it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from workbench.train.events import BatchProgress, EpochMetrics, EventSink, RunStarted
from workbench.train.record.follow import RunFolderReader

LOG_KEYS = ("lr", "grad_norm", "update_ratio")   # drawn on log axes: zero or negative points are left out
LR_STEP = 0.01                                  # relative change of the per-batch lr that makes a new point


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


class RunSeries(EventSink):
    """One run as the charts see it, filled from the trainer's events: this app's runs, or a run folder's
    (decoded by follow.RunFolderReader). `series(ev)` takes the events that carry chart data."""

    def __init__(self, name: str, alpha: float = 0.9):
        self.name = name
        self.baselines: dict = {}             # name → Figures (record/compare.py), from the run's RunStarted
        self.n_train = 0
        self.history: list[dict] = []        # EpochMetrics.metrics rows, plus "samples_seen"
        self.batch_loss = Growable(4096)     # (samples seen, loss of that batch)
        self.batch_ema = Ema(alpha)
        self.last_samples = 0                # samples seen at the latest batch
        self.batch_lr = Growable(256)        # (samples seen, lr) where the per-batch rate moved by > LR_STEP
        self.folder: str | None = None

    def clear(self) -> None:
        """Empty, as a run that has not started (a followed folder is replayed from its first line)."""
        self.baselines, self.n_train, self.history, self.last_samples = {}, 0, [], 0
        self.batch_loss = Growable(4096)
        self.batch_ema = Ema(self.batch_ema.alpha)
        self.batch_lr = Growable(256)

    # ---------------------------------------------------------------- from events
    def on_run_started(self, ev: RunStarted) -> None:
        """The run's size and baselines; a resumed run's second start keeps the curves drawn so far."""
        self.n_train = ev.n_train or self.n_train
        self.baselines = dict(ev.baselines) or self.baselines

    def on_batch_progress(self, ev: BatchProgress) -> None:
        self.add_batch(ev.samples_seen, ev.loss, ev.lr)

    def on_epoch_metrics(self, ev: EpochMetrics) -> None:
        self.add_epoch(ev.metrics)

    def add_batch(self, samples_seen: int, loss: float, lr: float = 0.0) -> None:
        self.last_samples = samples_seen
        self.batch_loss.append(samples_seen, loss)
        self.batch_ema.push(samples_seen, loss)
        # a warm-up moves the rate every batch; a point only where it moved by > LR_STEP keeps the lr chart's
        # repaints rare (a constant rate is one point per run; a cosine curve a few hundred)
        if lr > 0 and (self.batch_lr.n == 0 or abs(lr / self.batch_lr.y[-1] - 1) > LR_STEP):
            self.batch_lr.append(samples_seen, lr)

    def lr_steps(self) -> tuple[np.ndarray, np.ndarray]:
        """The per-batch rate as held values: each rate runs flat until the batch where it moved, then steps, and
        the last one runs to the latest batch. Joining the recorded points instead drew a constant rate followed
        by a drop as a slow diagonal decline over the whole constant stretch."""
        x, y = self.batch_lr.x, self.batch_lr.y
        if not len(x):
            return x, y
        xs, ys = np.repeat(x, 2)[1:], np.repeat(y, 2)[:-1]      # (x0,y0) (x1,y0) (x1,y1) (x2,y1) (x2,y2) …
        if self.last_samples > x[-1]:
            xs, ys = np.append(xs, self.last_samples), np.append(ys, y[-1])
        return xs, ys

    def add_epoch(self, metrics: dict) -> dict:
        row = dict(metrics)
        if "samples_seen" not in row:
            # an epoch ends where its last batch ended; without batches (a run folder), epochs × training pairs
            row["samples_seen"] = (self.last_samples or
                                   int(row.get("epoch", len(self.history) + 1)) * (self.n_train or 1))
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
        """A run written by any process, as far as it got: its events (follow.RunFolderReader, the decoder
        of progress.jsonl and of older folders) replayed into the series, as a live run fills it."""
        folder = Path(folder)
        run = cls(name or folder.name)
        run.folder = str(folder)
        for ev in RunFolderReader(folder).read_new():
            run(ev)
        return run


def _num(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")
