"""The one place where a run's events meet the views: an EventSink, like the CLI printer and the recorder.

Two sources feed it the trainer's own event dataclasses:
- this app's run: the worker emits every event (plus worker.Prepared and worker.Failed) on one Qt signal, and
  RunController hands each to `RunViews(ev)` in the GUI thread;
- a run folder followed from another process (the CLI, torchrun, a sweep trial): charts.library.RunFollower
  reads it with the core's decoder (train/record/follow.py) into the same dataclasses.

So a followed run is drawn exactly as one's own: charts, progress with ETA, warnings, state and report. The
source says what it is through a few attributes (see RunSource); `on_<event_type>` is called per event, and a
new event type needs one method here and nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from workbench.train.events import (BatchProgress, EmbedProgress, EpochMetrics, EvalProgress, EventSink, Finished,
                                    LatticeSnapshot, RunEstimate, RunStarted, TrainWarning)
from workbench.gui.training.worker import Failed, Prepared


class RunSource(Protocol):
    """What RunViews needs of a run's source (RunController, RunFollower)."""
    win: object
    run_name: str
    out_dir: str
    series: object            # the run's charts.data.RunSeries: None for an own run until it starts
    started: RunStarted | None
    last_finished: Finished | None

    @property
    def target(self) -> float: ...                 # the Q→A cosine target line

    @property
    def stopping(self) -> bool: ...                # Stop asked: "stopping…" stays up until the run has ended

    @property
    def shown(self) -> bool: ...                   # it drives the training panel, report and Ask (not an overlay)

    def ask_about_slow_run(self, message: str) -> None: ...


class RunViews(EventSink):
    def __init__(self, source: RunSource):
        self.ctl = source
        self.win = source.win

    def on_embed_progress(self, ev: EmbedProgress) -> None:
        self.win.training.show_embed(ev)

    def on_prepared(self, ev: Prepared) -> None:
        self.win.model.set_annotations(ev.cosines, ev.splits)
        self.ctl.prepared = ev

    def on_run_estimate(self, ev: RunEstimate) -> None:
        from workbench.train.estimate import describe
        self.win.training.eta.setText(describe(ev).replace("estimate: ", "estimated: "))
        self.win.training.eta.setToolTip(ev.basis)

    def on_run_started(self, ev: RunStarted) -> None:
        ctl, charts = self.ctl, self.win.charts
        if ev.embedding_dim and ctl.shown:   # the shape field's auto grid for this teacher (0: a followed folder's)
            self.win.training.form.set_embedding_dim(ev.embedding_dim)
        ctl.started, ctl.last_finished = ev, None     # a resumed run starts again after its earlier end
        if ctl.series is None:       # this app's run: a new series, the charts' current run, the view starts afresh
            ctl.series = charts.start_run(ctl.run_name, ev.baselines, ctl.target, ev.n_train)
            ctl.series.folder = ctl.out_dir           # so the next launch lists it once, not twice
        else:                        # a followed run: its series was listed (and made current) when following began
            ctl.series(ev)
            if ctl.series is charts.current:
                charts.target = ctl.target
            charts.run_changed(ctl.series)
        if ctl.shown and ev.start_epoch > 1:
            self.win.training.show_status(f"resumed at epoch {ev.start_epoch}")

    def _chart(self, ev) -> None:
        """Batches and epochs into the run's series: through the charts for the current run (its x-range follows
        the run), straight into the series for an overlaid one."""
        series, charts = self.ctl.series, self.win.charts
        if series is None:
            return
        if series is not charts.current:
            series(ev)
            charts.run_changed(series)
        elif isinstance(ev, BatchProgress):
            charts.add_batch(ev.samples_seen, ev.loss, ev.n_epochs, ev.lr)
        else:
            charts.add_epoch(ev.metrics)

    def on_batch_progress(self, ev: BatchProgress) -> None:
        if self.ctl.shown and not self.ctl.stopping:   # events queued when Stop was pressed keep "stopping…" up
            self.win.training.show_batch(ev)
        self._chart(ev)

    def on_eval_progress(self, ev: EvalProgress) -> None:
        if self.ctl.shown and not self.ctl.stopping:
            self.win.training.show_eval(ev)

    def on_epoch_metrics(self, ev: EpochMetrics) -> None:
        self._chart(ev)

    def on_lattice_snapshot(self, ev: LatticeSnapshot) -> None:
        self.win.lattice.set_snapshot(ev)
        self.win.inspect.add_snapshot(ev)       # the live epoch replay

    def on_train_warning(self, ev: TrainWarning) -> None:
        if not self.ctl.shown:
            return
        self.win.training.show_warning(ev.message)
        if ev.code == "slow-epoch":          # hours per epoch: hold the run and ask before going on
            self.ctl.ask_about_slow_run(ev.message)

    def on_failed(self, ev: Failed) -> None:
        self.win.show_error("Training failed", ev.message, ev.details)

    def on_finished(self, ev: Finished) -> None:
        ctl, win = self.ctl, self.win
        ctl.last_finished = ev
        if ctl.series is not None and ctl.series is not win.charts.current:
            win.charts.run_changed(ctl.series)
            return
        win.charts.redraw()           # every plot at once: the timer's one-plot-per-tick pacing is for a live run
        if not ctl.shown:
            return
        if ev.error:
            win.show_error("Training stopped", ev.error)
        win.report.show_run(ctl.out_dir)
        if ev.checkpoint or ev.kept:     # no best epoch yet: the weights where the stop came
            win.ask_panel.set_checkpoint(ev.checkpoint or ev.kept)
        win.training.eta.setText("")   # an ETA means a run is going; none after it ends
        win.training.show_status(f"{ev.reason}: best epoch {ev.best_epoch} of {ev.epochs_run}"
                                 + (f" + {ev.partial_batches} batches of epoch {ev.epochs_run + 1}" if ev.kept else ""))
        self._stop_notice(ev)

    def _stop_notice(self, ev: Finished) -> None:
        """A stop is a notice, not an error: what was kept, and the offer to go on from it (RunController.resume)."""
        resumable = ev.reason == "stopped" and bool(ev.kept or ev.epochs_run) and bool(self.ctl.out_dir)
        notice = ev.stop_notice("Resume with the button here, or Run ▸ Resume… at any later time." if resumable
                                else "")
        if notice:
            self.win.training.show_notice(notice, str(Path(self.ctl.out_dir) / "last.safetensors") if resumable
                                          else "")
