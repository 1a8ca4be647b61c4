"""The one place where a run's events meet the views: an EventSink, like the CLI printer and the recorder.

The worker emits every event (the trainer's dataclasses, plus worker.Prepared and worker.Failed)
on one Qt signal; RunController hands each to `RunViews(ev)` in the GUI thread, which calls
`on_<event_type>`. A new event type needs one method here and nothing else.
"""

from __future__ import annotations

from pathlib import Path

from workbench.train.events import (BatchProgress, EmbedProgress, EpochMetrics, EvalProgress, EventSink, Finished,
                            LatticeSnapshot, RunEstimate, RunStarted, TrainWarning)
from workbench.gui.training.worker import Failed, Prepared


class RunViews(EventSink):
    def __init__(self, controller):
        """controller: the RunController (its window's panels, the run's name and config, where results go)."""
        self.ctl = controller
        self.win = controller.win

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
        self.ctl.started = ev
        self.win.training.form.set_embedding_dim(ev.embedding_dim)
        run = self.win.charts.start_run(self.ctl.run_name, ev.baselines, self.ctl.run_config.target_similarity,
                                        ev.n_train)
        run.folder = self.ctl.out_dir     # so the next launch lists it once, not twice

    def on_batch_progress(self, ev: BatchProgress) -> None:
        if not self.ctl.stopping:        # events already queued when Stop was pressed keep "stopping…" up
            self.win.training.show_batch(ev)
        self.win.charts.add_batch(ev.samples_seen, ev.loss, ev.n_epochs, ev.lr)

    def on_eval_progress(self, ev: EvalProgress) -> None:
        if not self.ctl.stopping:
            self.win.training.show_eval(ev)

    def on_epoch_metrics(self, ev: EpochMetrics) -> None:
        self.win.charts.add_epoch(ev.metrics)

    def on_lattice_snapshot(self, ev: LatticeSnapshot) -> None:
        self.win.lattice.set_snapshot(ev)

    def on_train_warning(self, ev: TrainWarning) -> None:
        self.win.training.show_warning(ev.message)
        if ev.code == "slow-epoch":          # hours per epoch: hold the run and ask before going on
            self.ctl.ask_about_slow_run(ev.message)

    def on_failed(self, ev: Failed) -> None:
        self.win.show_error("Training failed", ev.message, ev.details)

    def on_finished(self, ev: Finished) -> None:
        ctl, win = self.ctl, self.win
        ctl.last_finished = ev
        win.charts.redraw()           # every plot at once: the timer's one-plot-per-tick pacing is for a live run
        if ev.error:
            win.show_error("Training stopped", ev.error)
        win.report.show_run(ctl.out_dir)
        if ev.checkpoint or ev.kept:     # no best epoch yet: the weights where the stop came
            win.ask_panel.set_checkpoint(ev.checkpoint or ev.kept)
        win.training.show_status(f"{ev.reason}: best epoch {ev.best_epoch} of {ev.epochs_run}"
                                 + (f" + {ev.partial_batches} batches of epoch {ev.epochs_run + 1}" if ev.kept else ""))
        resumable = ev.reason == "stopped" and bool(ev.kept or ev.epochs_run) and bool(ctl.out_dir)
        notice = ev.stop_notice("Resume with the button here, or Run ▸ Resume… at any later time." if resumable
                                else "")
        if notice:
            ctl.resumable = str(Path(ctl.out_dir) / "last.safetensors") if resumable else ""
            win.training.show_notice(notice, resumable)
