"""The console view of a run: tqdm bars on a terminal, a plain timed progress line in a log.

On a terminal, embedding, each epoch and each evaluation pass get a tqdm bar that redraws in place (texts/s, cache hits, ETA;
batches, running loss, samples/s, ETA). When the stream is a file or a pipe, bars would write one line per
redraw, so a plain line goes out at most every `interval` seconds (10 by default) instead: a log of an
hour-long run stays readable and still shows it is alive. Permanent lines (epoch metrics, warnings) go out
either way.
"""

from __future__ import annotations

import io
import os
import sys
import time
from typing import Callable, TextIO

from workbench.train.events import (BatchProgress, EmbedProgress, EpochMetrics, EvalProgress, EventSink, Finished, RunEstimate,
                            RunStarted, TrainWarning)
from workbench.train.pace import fmt_duration

DEFAULT_INTERVAL_S = 10.0
BAR_FORMAT = "{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]"
REDRAW_S = 0.1          # a bar redraws at most this often (tqdm's mininterval)


class Printer(EventSink):
    """Turns events into console output; `interval` seconds between plain progress lines when not on a terminal."""

    def __init__(self, quiet: bool = False, stream: TextIO | None = None, interval: float = DEFAULT_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic):
        self.stream = stream if stream is not None else sys.stderr
        self.quiet, self.interval, self.clock = quiet, interval, clock
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty and isatty())
        self._bar = None               # the open tqdm bar (terminal only)
        self._bar_key: tuple = ()      # which phase the open bar belongs to
        self._t0 = clock()
        self._last_plain = float("-inf")

    # -- output primitives --------------------------------------------------------------------------------------
    def line(self, text: str) -> None:
        """A permanent line; an open bar is cleared first and redrawn after by tqdm."""
        if self._bar is not None:
            self._bar.clear()
            print(text, file=self.stream, flush=True)
            self._bar.refresh()
        else:
            print(text, file=self.stream, flush=True)

    def _plain(self, text: str, force: bool = False) -> None:
        """A timed progress line for logs: at most one per `interval` seconds, unless forced (a phase starts)."""
        now = self.clock()
        if force or now - self._last_plain >= self.interval:
            self._last_plain = now
            print(f"[{fmt_duration(now - self._t0)}] {text}", file=self.stream, flush=True)

    def _show_bar(self, key: tuple, desc: str, n: int, total: int, postfix: str) -> None:
        if self._bar is None or self._bar_key != key:
            self.close_bar()
            from tqdm import tqdm
            cols, rows = self._size()
            self._bar = tqdm(total=total, desc=desc, file=self.stream, leave=False, ncols=cols, nrows=rows,
                             bar_format=BAR_FORMAT, disable=False, mininterval=REDRAW_S, postfix=postfix)
            self._bar_key = key
        self._bar.set_postfix_str(postfix, refresh=False)
        self._bar.update(n - self._bar.n)

    def _size(self) -> tuple[int, int]:
        """(columns, rows) of the terminal, read when a bar opens; 100 x 24 where it reports 0 (a pty nobody sized,
        as in some containers and CI runners) or none (a fake stream): tqdm silently draws nothing at size 0."""
        try:
            size = os.get_terminal_size(self.stream.fileno())
            cols, rows = size.columns, size.lines
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            cols = rows = 0
        return cols if cols > 0 else 100, rows if rows > 0 else 24

    def close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar, self._bar_key = None, ()

    # -- events -------------------------------------------------------------------------------------------------
    def on_embed_progress(self, ev: EmbedProgress) -> None:
        if self.quiet:
            return
        rate = (f"{ev.texts_per_s:.1f} texts/s" if ev.encoded else
                "all from the cache" if ev.done >= ev.total else "loading the teacher")
        if self.tty:
            if ev.done >= ev.total and self._bar is None:
                return                                   # all from the cache: the summary line says so
            self._show_bar(("embed", ev.label), f"embedding {ev.label}", ev.done, ev.total,
                           f"{ev.cache_hits} cached, {rate}, ETA {fmt_duration(ev.eta_s)}")
            if ev.done >= ev.total:
                self.close_bar()
        else:
            self._plain(f"embedding {ev.label}: {ev.done}/{ev.total} ({ev.cache_hits} cached), {rate}, "
                        f"ETA {fmt_duration(ev.eta_s)}", force=ev.encoded == 0 and ev.done < ev.total)

    def on_batch_progress(self, ev: BatchProgress) -> None:
        if self.quiet:
            return
        epochs = f"/{ev.n_epochs}" if ev.n_epochs else ""
        stats = f"loss {ev.running_loss:.4f}, {ev.samples_per_s:.0f} samples/s, ETA {fmt_duration(ev.eta_s)}"
        if self.tty:
            self._show_bar(("epoch", ev.epoch), f"epoch {ev.epoch}{epochs}", ev.batch, ev.n_batches, stats)
        else:
            self._plain(f"epoch {ev.epoch}{epochs}: batch {ev.batch}/{ev.n_batches}, {ev.samples_seen} samples, {stats}")

    def on_eval_progress(self, ev: EvalProgress) -> None:
        """An evaluation chunk (before training, after an epoch, the ablation): long at 100k pairs, so shown too."""
        if self.quiet:
            return
        if self.tty:
            self._show_bar(("eval", ev.phase, ev.label), f"{ev.phase}: evaluating {ev.label}", ev.done, ev.total,
                           "pairs")
        else:
            self._plain(f"{ev.phase}: evaluating {ev.label}: {ev.done:,}/{ev.total:,} pairs")

    def on_run_estimate(self, ev: RunEstimate) -> None:
        from workbench.train.estimate import describe
        self.line(describe(ev))

    def on_run_started(self, ev: RunStarted) -> None:
        self.close_bar()                                 # the "before training" evaluation's bar
        b = ev.baselines
        self.line(f"train {ev.n_train} / validation {ev.n_val} pairs, {ev.embedding_dim}-d, lattice "
                  f"{'×'.join(map(str, ev.lattice_shape))}, {ev.n_params} parameters on {ev.device}"
                  + (f" × {ev.world_size} processes ({ev.backend})" if ev.world_size > 1 else ""))
        self.line("baselines (val cosine / top-1): " + ", ".join(
            f"{k} {v.cosine:.3f}/{v.top1:.2f}" for k, v in b.items()))
        self.line(f"before training: train cosine {ev.start['train_cosine_start']:.3f}, "
                  f"val cosine {ev.start['val_cosine_start']:.3f}")

    def on_epoch_metrics(self, ev: EpochMetrics) -> None:
        self.close_bar()
        m = ev.metrics
        self.line(f"epoch {ev.epoch:3d}  loss {m['loss']:.4f}  train cos {m['train_cosine']:.3f}  "
                  f"val cos {m['val_cosine']:.3f}  top1 {m['val_top1']:.2f}  mrr {m['val_mrr']:.3f}  "
                  f"lr {m['lr']:.1e}  grad {m['grad_coverage']:.2f}{'  *best' if ev.is_best else ''}")

    def on_train_warning(self, ev: TrainWarning) -> None:
        self.line(f"WARNING: {ev.message}")

    def on_finished(self, ev: Finished) -> None:
        self.close_bar()
        self.line(f"finished: {ev.reason}, best epoch {ev.best_epoch} of {ev.epochs_run}, {ev.seconds:.1f} s")
        if ev.error:
            self.line(f"error: {ev.error}")
