"""The open dataset file: open, save, save as, and asking before unsaved edits are thrown away."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox

from ..data.dataset import DataError, load_dataset, save_dataset
from .paths import is_shipped_sample, user_documents_dir

FILTERS = "Datasets (*.csv *.jsonl *.json);;CSV (*.csv);;JSON Lines (*.jsonl);;JSON (*.json)"


class DatasetDocument(QObject):
    pathChanged = Signal(str)

    def __init__(self, win, autosave):
        """Uses win.model (the table), win.ask / win.show_error (dialogs, looked up at call time)."""
        super().__init__(win)
        self.win = win
        self.autosave = autosave
        self.path: str | None = None

    def pick_open(self) -> bool:
        if self.confirm_discard():
            path = self.win.choose_path("Open dataset", str(Path(self.path).parent) if self.path else "", FILTERS)
            if path:
                return self.open(path)
        return False

    def pick_save(self) -> bool:
        """Save As; for the shipped sample the dialog starts in the user's documents folder."""
        if self.path and is_shipped_sample(self.path):
            start = str(user_documents_dir() / Path(self.path).name)
        else:
            start = self.path or str(user_documents_dir() / "pairs.csv")
        path = self.win.choose_path("Save dataset as", start, FILTERS, save=True)
        return bool(path) and self.save(path)

    def open(self, path: str) -> bool:
        try:
            ds = load_dataset(path)
        except DataError as exc:
            self.win.show_error("Cannot open dataset", str(exc.problems[0]) if exc.problems else str(exc), exc.report())
            return False
        self.path = str(path)
        recovered = self.autosave.offer_recovery()
        self.win.model.set_dataset(recovered or ds)
        if recovered:
            self.win.model.undo.resetClean()  # the recovered edits are not saved yet
        self.pathChanged.emit(self.path)
        return True

    def save(self, path: str | None = None) -> bool:
        target = path or self.path
        if not target or (path is None and is_shipped_sample(target)):
            # never overwrite the shipped sample: Ctrl+S offers a copy in the user's folder instead
            return self.pick_save()
        lost = self.win.model.file_problems
        if lost and Path(target).resolve() == Path(self.path or "").resolve():
            answer = self.win.ask(
                "Overwrite records the table could not read?",
                f"{len(lost):,} record(s) of {Path(target).name} could not be read (first: {lost[0]}) and are not "
                f"in the table. Saving over the file leaves them out of it. Save anyway? (No: choose another file)",
                QMessageBox.Yes | QMessageBox.No | QMessageBox.Cancel, QMessageBox.No)
            if answer == QMessageBox.No:
                return self.pick_save()
            if answer != QMessageBox.Yes:
                return False
        try:
            save_dataset(self.win.model.dataset, target)
        except (OSError, DataError, TypeError) as exc:
            self.win.show_error("Could not save", f"{target}: {exc}")
            return False
        old, self.path = self.path, str(target)
        self.win.model.file_problems = []      # the file now holds exactly the table
        self.win.model.problemsChanged.emit()
        self.win.model.undo.setClean()
        self.autosave.discard()
        if old and old != self.path:
            self.autosave.discard(old)   # the edits made to the old file are safe in the new one
        self.pathChanged.emit(self.path)
        return True

    def confirm_discard(self) -> bool:
        """True when the table may be replaced or closed: nothing unsaved, or the user saved or discarded it."""
        if self.win.model.undo.isClean():
            return True
        answer = self.win.ask("Unsaved changes", "The dataset has unsaved changes. Save them?",
                              QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
        if answer == QMessageBox.Save:
            return self.save()
        if answer == QMessageBox.Discard:
            self.autosave.discard()
        return answer == QMessageBox.Discard
