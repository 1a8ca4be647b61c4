"""The one place where a run's events meet the views: an EventSink, like the CLI printer and the recorder.

The worker emits every event (the trainer's dataclasses, plus worker.Prepared and worker.Failed)
on one Qt signal; RunController hands each to `RunViews(ev)` in the GUI thread, which calls
`on_<event_type>`. A new event type needs one method here and nothing else.
"""

from __future__ import annotations

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
        run = self.win.charts.start_run(self.ctl.run_name, ev.baselines, self.ctl.run_config.target_similarity,
                                        ev.n_train)
        run.folder = self.ctl.out_dir     # so the next launch lists it once, not twice

    def on_batch_progress(self, ev: BatchProgress) -> None:
        if not self.ctl.stopping:        # events already queued when Stop was pressed keep "stopping…" up
            self.win.training.show_batch(ev)
        self.win.charts.add_batch(ev.samples_seen, ev.loss, ev.n_epochs)

    def on_eval_progress(self, ev: EvalProgress) -> None:
        if not self.ctl.stopping:
            self.win.training.show_eval(ev)

    def on_epoch_metrics(self, ev: EpochMetrics) -> None:
        self.win.charts.add_epoch(ev.metrics)

    def on_lattice_snapshot(self, ev: LatticeSnapshot) -> None:
        self.win.lattice.set_snapshot(ev)
        self.win.inspect.add_snapshot(ev)       # the live epoch replay

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
        if ev.checkpoint:
            win.ask_panel.set_checkpoint(ev.checkpoint)
        win.training.show_status(f"{ev.reason}: best epoch {ev.best_epoch} of {ev.epochs_run}")
