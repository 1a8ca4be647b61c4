"""Run control: Start / Pause / Stop of one training run, its events into the views, the GC arrangement.

The controller is a plain QObject living in the GUI thread. The worker's two signals are connected
to its bound methods, so Qt queues every call into this thread (a lambda has no receiver object and
would run in the worker thread, touching widgets there). Each event then goes to RunViews, the one
dispatch by event type. Closing the window mid-run stops the run without freezing the window: the
trainer honours Stop between batches and between evaluation chunks, so the worker ends within a chunk,
and the window closes once its thread has ended (never before, never by blocking the GUI thread).
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QMessageBox

from workbench.data.dataset import Dataset
from workbench.data.pairs import DialoguePair
from workbench.model.lattice_config import grid_shape
from workbench.teacher.model_files import DEFAULT_TEACHER
from workbench.gui.common.gc_guard import GuiThreadGC
from workbench.gui.common.paths import user_dir
from workbench.gui.training.views import RunViews
from workbench.gui.training.worker import TrainingRun, TrainingWorker


LAST_CHECKPOINT = "last.safetensors"   # state.LAST, named here: importing state would load torch at window start


class RunController(QObject):
    runningChanged = Signal(bool)
    CLOSE_POLL_MS = 50         # after the worker's last signal, how often a closing window looks if its thread has ended

    def __init__(self, win):
        """`win` gives the views (training, charts, lattice, report, ask_panel), the dataset model,
        the document path and the dialogs (`ask`, `show_error`, looked up at call time: tests replace them)."""
        super().__init__(win)
        self.win = win
        self.run: TrainingRun | None = None
        self.last_finished = None      # the run's Finished event
        self.started = None            # its RunStarted
        self.prepared = None           # its worker.Prepared
        self.series = None             # its charts.data.RunSeries, from its RunStarted on
        self.run_count = 0
        self.run_name = ""
        self.run_config = None
        self.out_dir = ""
        self.views = RunViews(self)
        self.refused = ""       # why the last Start did not start, for --screenshot and the status bar
        self.dropped = 0        # rows with errors the latest run was started without
        self.gc = GuiThreadGC(self)
        self._close_when_done = False
        self.closing = False
        self.ask_slow = True    # ask before going on with an hours-long epoch (off for --screenshot)
        self.slow_box = None    # that question, while it is open
        t = win.training
        t.start_btn.clicked.connect(lambda: self.start())
        t.resume_btn.clicked.connect(lambda: self.resume(t.resumable))
        win.charts.shownRunChanged.connect(self._shown_run_changed)
        t.pause_btn.toggled.connect(self.set_paused)
        t.stop_btn.clicked.connect(self.stop)

    shown = True               # for RunViews: the app's own run always drives the training panel

    @property
    def target(self) -> float:
        return self.run_config.target_similarity

    def is_running(self) -> bool:
        return self.run is not None and self.run.is_running()

    @property
    def stopping(self) -> bool:
        """Stop was asked of the current run (its "stopping…" label must stay up until it has ended)."""
        return self.run is not None and self.run.worker.stopping

    # ---------------------------------------------------------------- start
    def start(self, drop_errors: bool | None = None, resume: str = "") -> bool:
        """Start a run on the table as it is. Rows with errors stop a run; here the user may train
        without them (drop_errors=None asks, True drops without asking, False refuses).
        resume: a checkpoint to go on from (see resume()); the run then writes into its folder."""
        win = self.win
        if self.is_running():
            return False
        keep = self._rows_to_train(drop_errors)
        if keep is None:
            return False
        cfg = copy.deepcopy(win.training.form.config)
        ds = Dataset(snapshot_pairs(win.model.dataset.pairs), win.path or "<editor>")
        if len(keep) < len(ds.pairs):
            ds = ds.subset(keep)   # each row keeps its table row number: splits and cosines land on the right rows
        self.run_count += 1
        self.run_name = f"run {self.run_count}" + (" (resumed)" if resume else "")
        self.out_dir = (str(Path(resume).parent) if resume and Path(resume).name == LAST_CHECKPOINT else
                        str(user_dir("runs") / time.strftime(f"run-%Y%m%d-%H%M%S-{self.run_count}")))
        worker = TrainingWorker(cfg, ds, self.out_dir, tensorboard=win.training.writes_tensorboard(),
                                resume=resume or None)
        self.run_config = cfg
        self.last_finished = self.started = self.prepared = self.series = None
        worker.event.connect(self._on_event)
        worker.done.connect(self._on_done)
        if cfg.teacher.model == DEFAULT_TEACHER:  # its 384-d is known without loading it: pre-build the cube
            win.lattice.prepare_shape(grid_shape(cfg.lattice, 384))
        self.run = TrainingRun(worker)
        self.gc.worker_started()
        win.training.run_started(cfg.optim.epochs)
        win.training.set_running(True)
        self.run.start()
        self.runningChanged.emit(True)
        return True

    def pick_and_resume(self) -> bool:
        """Run ▸ Resume…: a checkpoint (or a run folder's last.safetensors) to go on from."""
        path = self.win.choose_path("Resume a run: its folder's last.safetensors, or another checkpoint",
                                    str(user_dir("runs")), "Checkpoints (*.safetensors);;All files (*)")
        return self.resume(path) if path else False

    def resume(self, path: str, drop_errors: bool | None = None) -> bool:
        """Go on from a checkpoint (a run folder means its last.safetensors) on the table open now, with the
        checkpoint's own settings (shown in the form). A stop in mid-epoch goes on with the next batch. A
        checkpoint that does not fit this table or model is refused with its reason, as the CLI refuses it."""
        from workbench.train.config import from_dict
        from workbench.train.record.checkpoint import CheckpointError, read_state
        if not path or self.is_running():
            return False
        ck = Path(path) / LAST_CHECKPOINT if Path(path).is_dir() else Path(path)
        try:
            state = read_state(ck)
            cfg = from_dict(state["config"])
        except (CheckpointError, ValueError, TypeError, KeyError) as exc:
            self.win.show_error("Cannot resume", str(exc))
            return False
        self.win.training.form.set_config(cfg)
        return self.start(drop_errors, resume=str(ck))

    def _rows_to_train(self, drop_errors: bool | None) -> list[int] | None:
        """Table rows the run gets: all but rows with errors, once the user agreed to leave those out."""
        win = self.win
        checks = win.model.checks
        n = win.model.rowCount()
        errors = checks.rows_at("error")
        if not errors:
            return list(range(n))
        bad = set(errors)
        dropped_anyway = checks.rows_dropped_by_run()
        first_row = errors[0]
        first = next(it for it in checks.issues[first_row] if it.level == "error")
        where = f"row {first_row + 1}, field '{first.field}': {first.message}"
        text = (f"{len(bad):,} of {n:,} rows have errors a run cannot use (first: {where}).\n\n"
                f"Train without them? {n - len(bad) - len(dropped_anyway):,} rows would train"
                + (f" ({len(dropped_anyway):,} rows with warnings are left out too, as every run does)"
                   if dropped_anyway else "") + ". The table is not changed; the Problems tab lists every row.")
        if drop_errors is None:
            title = f"Train without {len(bad):,} row{'' if len(bad) == 1 else 's'}?"
            answer = win.ask(title, text, QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
            drop_errors = answer == QMessageBox.Yes
        if not drop_errors:
            win.dataset_panel.show_problems()
            win.statusBar().showMessage(f"Not started: {len(bad):,} rows have errors ({where})", 15000)
            self.refused = text
            return None
        self.dropped = len(bad)
        return [i for i in range(n) if i not in bad]

    # ---------------------------------------------------------------- pause / stop
    def set_paused(self, paused: bool) -> None:
        if self.run is not None:
            (self.run.worker.pause if paused else self.run.worker.resume)()
            self.win.training.pause_btn.setText("Resume" if paused else "Pause")
            if self.is_running():
                self.win.training.show_status("paused: the ETA does not count this time" if paused else "resuming…")

    def ask_about_slow_run(self, message: str) -> None:
        """The estimate says an epoch takes hours: pause at the next batch and ask. The box is window-modal
        but opened with open(), not exec(), so the event loop (and the worker's events) keep flowing."""
        if not self.is_running() or not self.ask_slow:
            return
        self.win.training.pause_btn.setChecked(True)          # the same path as the Pause button
        box = QMessageBox(QMessageBox.Icon.Question, "A slow run", f"{message[:1].upper()}{message[1:]}.\n\n"
                          "Keep training? (Stop keeps what has been trained so far.)",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self.win)
        box.button(QMessageBox.StandardButton.Yes).setText("Keep training")
        box.button(QMessageBox.StandardButton.No).setText("Stop")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.finished.connect(self._slow_run_answered)
        self.slow_box = box
        box.open()

    @Slot(int)
    def _slow_run_answered(self, result: int) -> None:
        self.slow_box = None
        if result == QMessageBox.StandardButton.Yes:
            self.win.training.pause_btn.setChecked(False)
        else:
            self.stop()

    def stop(self) -> None:
        if self.run is not None:
            self.run.worker.stop()
            if self.is_running():
                self.win.training.show_status("stopping…")

    def stop_for_close(self) -> bool:
        """The window wants to close. With a run going: ask it to stop, say so at once, and return True;
        the window is closed again when the worker is done (see _on_done). False: nothing to wait for."""
        if not self.is_running():
            return False
        if not self._close_when_done:
            self._close_when_done = True
            self.stop()
            self.win.statusBar().showMessage("stopping the training run before closing…")
        return True

    def shutdown(self, timeout_ms: int = 15000) -> None:
        """Stop the worker and wait for its thread (blocking), then give GC back to Python."""
        if self.is_running():
            self.run.stop_and_wait(timeout_ms)
        self.gc.worker_ended()

    @Slot(object)
    def _shown_run_changed(self, _run) -> None:
        """Another run is shown (a followed folder, a past run): the last run's banner, notice and progress go,
        unless this app's own run is still going."""
        if not self.is_running():
            self.win.training.clear_run_state()

    # ---------------------------------------------------------------- worker signals (GUI thread)
    @Slot(object)
    def _on_event(self, ev) -> None:
        self.views(ev)

    @Slot()
    def _on_done(self) -> None:
        if self.run is not None:
            self.run.thread.quit()         # done is the worker's last signal: its thread only has to leave exec()
            self.run.thread.wait(100)      # a moment at most; a closing window waits for it below, unblocked
        if self.slow_box is not None:      # the run ended (or was stopped) while the question was open
            box, self.slow_box = self.slow_box, None
            box.finished.disconnect(self._slow_run_answered)
            box.reject()
        self.win.training.set_running(False)
        self.win.lattice.flush_render()
        self.gc.worker_ended()
        self.runningChanged.emit(False)
        if self._close_when_done:
            self._close_when_thread_ended()

    def _close_when_thread_ended(self) -> None:
        """Close the window the user asked to close, once the worker's thread has really ended (polled, not waited)."""
        if not self._close_when_done:
            return
        if self.is_running():
            QTimer.singleShot(self.CLOSE_POLL_MS, self._close_when_thread_ended)
            return
        self._close_when_done = False
        self.closing = True                # the user confirmed closing already; the window must not ask again
        self.win.close()


def snapshot_pairs(pairs: list[DialoguePair]) -> list[DialoguePair]:
    """The run's own copy of the table's pairs, cheap enough for the GUI thread at 100k rows (~0.1 s; a deepcopy
    took 1–2 s). A copy of each pair object, not a deep copy: its fields are immutable strings, and the table
    never changes an `extra` dict in place (dataset_model.set_field replaces it); the dict is copied all the
    same, so nothing the table does later can reach the running run's data."""
    return [DialoguePair(p.question, p.answer, p.category, dict(p.extra)) for p in pairs]
