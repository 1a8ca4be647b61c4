"""The main window: dataset editor, hyperparameters and training controls, charts, 3D cube, report, Ask.

Heavy modules (torch, transformers, pyvista) are imported only when first needed, so the
window appears fast. Dialogs go through `self.ask` / `self.show_error`, which tests replace.
"""

from __future__ import annotations

import copy
import gc
import hashlib
import os
import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QSplitter, QTabWidget

from ..train.config import RunConfig, from_preset, load_config, save_config
from ..data.dataset import DataError, Dataset, load_dataset, save_dataset
from ..model.lattice_config import grid_shape
from ..teacher.encoder import DEFAULT_TEACHER
from .charts import ChartsPanel
from .dataset_model import DatasetModel
from .dataset_panel import DatasetPanel
from .lattice_view import LatticeView
from .panels import AskPanel, ReportPanel
from .training_panel import TrainingPanel
from .worker import TrainingRun, TrainingWorker

FILTERS = "Datasets (*.csv *.jsonl *.json);;CSV (*.csv);;JSON Lines (*.jsonl);;JSON (*.json)"


def user_dir(kind: str) -> Path:
    env = os.environ.get(f"LATTICE_WORKBENCH_{kind.upper()}")
    if env:
        return Path(env)
    from platformdirs import user_data_dir
    return Path(user_data_dir("lattice-workbench")) / kind


class MainWindow(QMainWindow):
    def __init__(self, path: str | None = None, config: RunConfig | None = None):
        super().__init__()
        self.path: str | None = None
        self.run: TrainingRun | None = None
        self.last_error: tuple[str, str] | None = None
        self.last_finished: dict | None = None
        self.run_count = 0
        self.model = DatasetModel()
        self.dataset_panel = DatasetPanel(self.model)
        self.training = TrainingPanel(config or from_preset())
        self.charts = ChartsPanel()
        self.lattice = LatticeView()
        self.report = ReportPanel()
        self.ask_panel = AskPanel(lambda: self.model.dataset.answers())
        self.tabs = QTabWidget()
        for w, name in ((self.charts, "Charts"), (self.report, "Report"), (self.ask_panel, "Ask")):
            self.tabs.addTab(w, name)
        right = QSplitter(Qt.Vertical)   # curves and cube visible together while training
        right.addWidget(self.tabs)
        right.addWidget(self.lattice)
        right.setSizes([520, 440])
        split = QSplitter()
        left = QSplitter(Qt.Vertical)
        left.addWidget(self.dataset_panel)
        split.addWidget(left)
        split.addWidget(right)
        split.addWidget(self.training)
        split.setSizes([520, 820, 330])
        self.setCentralWidget(split)
        self.resize(1680, 960)
        self._menus()
        t = self.training
        t.start_btn.clicked.connect(self.start_training)
        t.pause_btn.toggled.connect(self.set_paused)
        t.stop_btn.clicked.connect(self.stop_training)
        self.model.dirtyChanged.connect(self._update_title)
        self.model.contentChanged.connect(self._schedule_autosave)
        self.dataset_panel.rowActivated.connect(self.inspect_row)
        self._gc_timer = QTimer(self)
        self._gc_timer.setInterval(1000)
        self._gc_timer.timeout.connect(lambda: gc.collect(1))
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setSingleShot(True)
        self.autosave_timer.setInterval(1500)
        self.autosave_timer.timeout.connect(self.autosave)
        if path:
            self.open_file(path)
        self._update_title()

    # ---------------------------------------------------------------- dialogs (replaceable in tests)
    def ask(self, title: str, text: str, buttons, default):
        return QMessageBox.question(self, title, text, buttons, default)

    def show_error(self, title: str, message: str, details: str = "") -> None:
        self.last_error = (title, message)
        box = QMessageBox(QMessageBox.Critical, title, message, QMessageBox.Ok, self)
        if details:
            box.setDetailedText(details)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()  # window-modal but non-blocking: the app keeps running

    def _menus(self) -> None:
        def act(menu, text, slot, shortcut=None):
            a = QAction(text, self)
            a.triggered.connect(slot)
            if shortcut:
                a.setShortcut(shortcut)
            menu.addAction(a)
            return a
        f = self.menuBar().addMenu("&File")
        act(f, "&Open dataset…", lambda: self._pick_open(), QKeySequence.Open)
        act(f, "&Save", lambda: self.save(), QKeySequence.Save)
        act(f, "Save &as…", lambda: self._pick_save(), QKeySequence.SaveAs)
        f.addSeparator()
        act(f, "Load config…", lambda: self._pick(lambda p: self.training.form.set_config(load_config(p)), "Config (*.json)"))
        act(f, "Save config…", lambda: self._pick(lambda p: save_config(self.training.form.config, p), "Config (*.json)", save=True))
        act(f, "Export charts as PNG…", lambda: self._pick(self.charts.export_png, "PNG (*.png)", save=True))
        act(f, "Export history as CSV…", lambda: self._pick(self.charts.export_csv, "CSV (*.csv)", save=True))
        f.addSeparator()
        act(f, "&Quit", self.close, QKeySequence.Quit)
        e = self.menuBar().addMenu("&Edit")
        undo = self.model.undo.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.Undo)
        redo = self.model.undo.createRedoAction(self, "&Redo")
        redo.setShortcut(QKeySequence.Redo)
        e.addActions([undo, redo])
        act(e, "Add row", self.dataset_panel.add_row, "Ctrl+N")
        act(e, "Duplicate rows", lambda: self.model.duplicate_rows(self.dataset_panel.selected_rows()), "Ctrl+D")
        act(e, "Delete rows", lambda: self.model.delete_rows(self.dataset_panel.selected_rows()), QKeySequence.Delete)

    def _pick(self, action, filt: str, save: bool = False) -> None:
        fn = QFileDialog.getSaveFileName if save else QFileDialog.getOpenFileName
        path, _ = fn(self, "Choose file", "", filt)
        if path:
            try:
                action(path)
            except Exception as exc:
                self.show_error("Could not complete", str(exc))

    # ---------------------------------------------------------------- files
    def _pick_open(self) -> None:
        if self._confirm_discard():
            path, _ = QFileDialog.getOpenFileName(self, "Open dataset", "", FILTERS)
            if path:
                self.open_file(path)

    def _pick_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save dataset as", self.path or "pairs.csv", FILTERS)
        if path:
            self.save(path)

    def open_file(self, path: str) -> bool:
        try:
            ds = load_dataset(path)
        except DataError as exc:
            self.show_error("Cannot open dataset", str(exc.problems[0]) if exc.problems else str(exc), exc.report())
            return False
        self.path = str(path)
        recovered = self._offer_recovery()
        self.model.set_dataset(recovered or ds)
        if recovered:
            self.model.undo.resetClean()  # the recovered edits are not saved yet
        self._update_title()
        return True

    def save(self, path: str | None = None) -> bool:
        target = path or self.path
        if not target:
            self._pick_save()
            return self.path is not None and not self.isWindowModified()
        try:
            save_dataset(self.model.dataset, target)
        except (OSError, DataError, TypeError) as exc:
            self.show_error("Could not save", f"{target}: {exc}")
            return False
        self.path = str(target)
        self.model.undo.setClean()
        self._recovery_file().unlink(missing_ok=True)
        self._update_title()
        return True

    def _update_title(self, *_):
        name = Path(self.path).name if self.path else "untitled"
        self.setWindowTitle(f"{name}[*] — Lattice Workbench")
        self.setWindowModified(not self.model.undo.isClean())

    # ---------------------------------------------------------------- autosave / recovery
    def _recovery_file(self) -> Path:
        key = hashlib.sha1(str(Path(self.path or "untitled").resolve()).encode()).hexdigest()[:16]
        return user_dir("autosave") / f"{Path(self.path or 'untitled').stem}-{key}.jsonl"

    def _schedule_autosave(self) -> None:
        if not self.model.undo.isClean():
            self.autosave_timer.start()

    def autosave(self) -> Path | None:
        """Write unsaved edits to the recovery file (atomically), so a crash loses nothing."""
        if self.model.undo.isClean():
            return None
        f = self._recovery_file()
        save_dataset(Dataset(self.model.dataset.pairs), f)
        return f

    def _offer_recovery(self) -> Dataset | None:
        f = self._recovery_file()
        if not f.exists() or f.stat().st_mtime < Path(self.path).stat().st_mtime:
            return None
        answer = self.ask("Recover unsaved edits?", f"Unsaved edits to {Path(self.path).name} were found "
                          f"({f}). Restore them?", QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
        if answer != QMessageBox.Yes:
            return None
        try:
            rec = load_dataset(f)
            rec.path = self.path
            return rec
        except DataError:
            return None

    def _confirm_discard(self) -> bool:
        if self.model.undo.isClean():
            return True
        answer = self.ask("Unsaved changes", "The dataset has unsaved changes. Save them?",
                          QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
        if answer == QMessageBox.Save:
            return self.save()
        if answer == QMessageBox.Discard:
            self._recovery_file().unlink(missing_ok=True)
        return answer == QMessageBox.Discard

    def closeEvent(self, event):
        if not self._confirm_discard():
            event.ignore()
            return
        if self.run is not None and self.run.is_running():
            self.run.stop_and_wait(15000)
            self._collect_garbage_here(False)
        self.lattice.close_plotter()
        event.accept()

    # ---------------------------------------------------------------- training
    def start_training(self) -> bool:
        if self.run is not None and self.run.is_running():
            return False
        problems = self.model.problems()
        if problems:
            r, field, why = problems[0]
            self.show_error("Fix the dataset first", f"row {r + 1}, field '{field}': {why}"
                            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
            return False
        cfg = copy.deepcopy(self.training.form.config)
        ds = Dataset([copy.copy(p) for p in self.model.dataset.pairs], self.path or "<editor>")
        self.run_count += 1
        out = user_dir("runs") / time.strftime(f"run-%Y%m%d-%H%M%S-{self.run_count}")
        worker = TrainingWorker(cfg, ds, str(out))
        self._run_cfg = cfg
        # Bound methods of this main-thread QObject only: Qt then queues each call into the GUI thread.
        # (A lambda has no receiver object and would run in the worker thread, touching widgets there.)
        worker.embedProgress.connect(self.training.show_embed)
        worker.prepared.connect(self._on_prepared)
        worker.started.connect(self._on_started)
        worker.batch.connect(self.training.show_batch)
        worker.epoch.connect(self._on_epoch)
        worker.snapshot.connect(self.lattice.set_snapshot)
        worker.warning.connect(self._on_warning)
        worker.finished.connect(self._finished)
        worker.failed.connect(self._on_failed)
        worker.done.connect(self._on_done)
        if cfg.teacher.model == DEFAULT_TEACHER:  # its 384-d is known without loading it: pre-build the cube
            self.lattice.prepare_shape(grid_shape(cfg.lattice, 384))
        self.run = TrainingRun(worker)
        self._collect_garbage_here(True)
        self.training.run_started(cfg.optim.epochs)
        self.training.set_running(True)
        self.run.start()
        return True

    @Slot(dict)
    def _on_prepared(self, d: dict) -> None:
        self.model.set_annotations(d["cosines"], d["splits"])

    @Slot(dict)
    def _on_started(self, d: dict) -> None:
        self.charts.start_run(f"run {self.run_count}", d["baselines"], self._run_cfg.target_similarity)

    @Slot(dict)
    def _on_epoch(self, d: dict) -> None:
        self.charts.add_epoch(d["metrics"])

    @Slot(str, str)
    def _on_warning(self, code: str, message: str) -> None:
        self.training.show_warning(message)

    @Slot(str, str)
    def _on_failed(self, message: str, details: str) -> None:
        self.show_error("Training failed", message, details)

    @Slot()
    def _on_done(self) -> None:
        self.training.set_running(False)
        self._collect_garbage_here(False)

    def _collect_garbage_here(self, worker_running: bool) -> None:
        """While the worker runs, cyclic garbage is collected on this thread only.

        Python's automatic GC runs in whichever thread happens to allocate. If it frees a dead Qt
        wrapper (an old window, a closed dialog) in the worker thread, ~QObject takes a Qt lock
        and then waits for the GIL, while this thread holds the GIL and waits for that lock: a
        deadlock (seen here with PySide6 6.11). So automatic GC is off during a run, and this
        thread collects the young generations every second instead. Everything alive at the start
        is frozen first: a full collection over torch, transformers and VTK objects takes ~0.2 s,
        which would stall the UI, while a young-generation pass takes about a millisecond.
        """
        if worker_running:
            gc.collect()
            gc.freeze()
            gc.disable()
            self._gc_timer.start()
        else:
            self._gc_timer.stop()
            gc.unfreeze()
            gc.enable()   # automatic collection resumes; no forced full pass that would stall the UI

    def set_paused(self, paused: bool) -> None:
        if self.run is not None:
            (self.run.worker.pause if paused else self.run.worker.resume)()
            self.training.pause_btn.setText("Resume" if paused else "Pause")

    def stop_training(self) -> None:
        if self.run is not None:
            self.run.worker.stop()

    @Slot(dict)
    def _finished(self, d: dict) -> None:
        self.last_finished = d
        if d.get("error"):
            self.show_error("Training stopped", d["error"])
        self.report.show_run(d["out_dir"])
        ck = Path(d["out_dir"]) / "best.safetensors"   # train.state.BEST
        if ck.exists():
            self.ask_panel.set_checkpoint(str(ck))
        self.training.train_bar.setFormat(f"{d['reason']}: best epoch {d['best_epoch']} of {d['epochs_run']}")

    def inspect_row(self, row: int) -> None:
        """Show the clicked pair's journey through the latest trained lattice (and the untrained one)."""
        if not self.ask_panel.checkpoint or row >= len(self.model.dataset.pairs):
            return
        try:
            from ..train.probe import trace
            loaded, teacher = self.ask_panel.model_and_teacher()
            q = teacher.encode([self.model.dataset.pairs[row].question])[0]
            text = self.model.dataset.pairs[row].question
            face = "z=0" if loaded.config.lattice.io == "face" else "volume"
            for epoch, m in ((0, loaded.untrained), (10 ** 6, loaded.trained)):
                self.lattice.set_snapshot({"epoch": epoch, "sample": row, "question": text, "states": trace(m, q),
                                           "input_face": face, "output_face": face})
        except Exception as exc:
            self.show_error("Cannot inspect this row", str(exc))

    def save_screenshot(self, path: str) -> bool:
        return self.grab().save(path)
