"""Run control: Start / Pause / Stop of one training run, the worker's signals into the views, GC arrangement.

The controller is a plain QObject living in the GUI thread. Worker signals are connected to its
bound methods (or to the views' slots), so Qt queues every call into this thread; a lambda has
no receiver object and would run in the worker thread, touching widgets there.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QMessageBox

from ..data.dataset import Dataset
from ..model.lattice_config import grid_shape
from ..teacher.encoder import DEFAULT_TEACHER
from .gc_guard import GuiThreadGC
from .paths import user_dir
from .worker import TrainingRun, TrainingWorker


class RunController(QObject):
    runningChanged = Signal(bool)

    def __init__(self, win):
        """`win` gives the views (training, charts, lattice, report, ask_panel), the dataset model,
        the document path and the dialogs (`ask`, `show_error`, looked up at call time: tests replace them)."""
        super().__init__(win)
        self.win = win
        self.run: TrainingRun | None = None
        self.last_finished: dict | None = None
        self.run_count = 0
        self.run_config = None
        self.refused = ""       # why the last Start did not start, for --screenshot and the status bar
        self.dropped = 0        # rows with errors the latest run was started without
        self.gc = GuiThreadGC(self)
        t = win.training
        t.start_btn.clicked.connect(self.start)
        t.pause_btn.toggled.connect(self.set_paused)
        t.stop_btn.clicked.connect(self.stop)

    def is_running(self) -> bool:
        return self.run is not None and self.run.is_running()

    # ---------------------------------------------------------------- start
    def start(self, drop_errors: bool | None = None) -> bool:
        """Start a run on the table as it is. Rows with errors stop a run; here the user may train
        without them (drop_errors=None asks, True drops without asking, False refuses)."""
        win = self.win
        if self.is_running():
            return False
        keep = self._rows_to_train(drop_errors)
        if keep is None:
            return False
        cfg = copy.deepcopy(win.training.form.config)
        pairs = [copy.deepcopy(p) for p in win.model.dataset.pairs]
        ds = Dataset(pairs, win.path or "<editor>")
        if len(keep) < len(pairs):
            ds = ds.subset(keep)   # each row keeps its table row number: splits and cosines land on the right rows
        self.run_count += 1
        out = user_dir("runs") / time.strftime(f"run-%Y%m%d-%H%M%S-{self.run_count}")
        worker = TrainingWorker(cfg, ds, str(out))
        self.run_config = cfg
        self._connect(worker)
        if cfg.teacher.model == DEFAULT_TEACHER:  # its 384-d is known without loading it: pre-build the cube
            win.lattice.prepare_shape(grid_shape(cfg.lattice, 384))
        self.run = TrainingRun(worker)
        self.gc.worker_started()
        win.training.run_started(cfg.optim.epochs)
        win.training.set_running(True)
        self.run.start()
        self.runningChanged.emit(True)
        return True

    def _rows_to_train(self, drop_errors: bool | None) -> list[int] | None:
        """Table rows the run gets: all but rows with errors, once the user agreed to leave those out."""
        win = self.win
        checks = win.model.checks
        n = win.model.rowCount()
        errors = checks.rows_at("error")
        if not errors:
            return list(range(n))
        bad = set(errors)
        dropped_anyway = set(checks.rows_at("warning")) - bad
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

    def _connect(self, worker: TrainingWorker) -> None:
        win = self.win
        worker.embedProgress.connect(win.training.show_embed)
        worker.prepared.connect(self._on_prepared)
        worker.started.connect(self._on_started)
        worker.batch.connect(win.training.show_batch)
        worker.epoch.connect(self._on_epoch)
        worker.snapshot.connect(win.lattice.set_snapshot)
        worker.warning.connect(self._on_warning)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.done.connect(self._on_done)

    # ---------------------------------------------------------------- pause / stop
    def set_paused(self, paused: bool) -> None:
        if self.run is not None:
            (self.run.worker.pause if paused else self.run.worker.resume)()
            self.win.training.pause_btn.setText("Resume" if paused else "Pause")

    def stop(self) -> None:
        if self.run is not None:
            self.run.worker.stop()

    def shutdown(self, timeout_ms: int = 15000) -> None:
        """Window closing: stop the worker and wait for its thread, then give GC back to Python."""
        if self.is_running():
            self.run.stop_and_wait(timeout_ms)
        self.gc.worker_ended()

    # ---------------------------------------------------------------- worker signals (GUI thread)
    @Slot(dict)
    def _on_prepared(self, d: dict) -> None:
        self.win.model.set_annotations(d["cosines"], d["splits"])

    @Slot(dict)
    def _on_started(self, d: dict) -> None:
        self.win.charts.start_run(f"run {self.run_count}", d["baselines"], self.run_config.target_similarity)

    @Slot(dict)
    def _on_epoch(self, d: dict) -> None:
        self.win.charts.add_epoch(d["metrics"])

    @Slot(str, str)
    def _on_warning(self, code: str, message: str) -> None:
        self.win.training.show_warning(message)

    @Slot(str, str)
    def _on_failed(self, message: str, details: str) -> None:
        self.win.show_error("Training failed", message, details)

    @Slot(dict)
    def _on_finished(self, d: dict) -> None:
        win = self.win
        self.last_finished = d
        if d.get("error"):
            win.show_error("Training stopped", d["error"])
        win.report.show_run(d["out_dir"])
        ck = Path(d["out_dir"]) / "best.pt"
        if ck.exists():
            win.ask_panel.set_checkpoint(str(ck))
        win.training.train_bar.setFormat(f"{d['reason']}: best epoch {d['best_epoch']} of {d['epochs_run']}")

    @Slot()
    def _on_done(self) -> None:
        self.win.training.set_running(False)
        self.gc.worker_ended()
        self.runningChanged.emit(False)
