"""The open dataset file: open, save, save as, and asking before unsaved edits are thrown away."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ..data.dataset import DataError, load_dataset, save_dataset

FILTERS = "Datasets (*.csv *.jsonl *.json);;CSV (*.csv);;JSON Lines (*.jsonl);;JSON (*.json)"


class DatasetDocument(QObject):
    pathChanged = Signal(str)

    def __init__(self, win, autosave):
        """Uses win.model (the table), win.ask / win.show_error (dialogs, looked up at call time)."""
        super().__init__(win)
        self.win = win
        self.autosave = autosave
        self.path: str | None = None

    def pick_open(self) -> None:
        if self.confirm_discard():
            path, _ = QFileDialog.getOpenFileName(self.win, "Open dataset", "", FILTERS)
            if path:
                self.open(path)

    def pick_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.win, "Save dataset as", self.path or "pairs.csv", FILTERS)
        if path:
            self.save(path)

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
        if not target:
            self.pick_save()
            return self.path is not None and self.win.model.undo.isClean()
        try:
            save_dataset(self.win.model.dataset, target)
        except (OSError, DataError, TypeError) as exc:
            self.win.show_error("Could not save", f"{target}: {exc}")
            return False
        self.path = str(target)
        self.win.model.undo.setClean()
        self.autosave.discard()
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
