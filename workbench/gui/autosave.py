"""Autosave and recovery: unsaved table edits go to a recovery file (atomically) shortly after each change.

The recovery file lives in the user's autosave folder, named after the dataset's path, so
reopening the same file after a crash offers the edits back.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMessageBox

from ..data.dataset import DataError, Dataset, load_dataset, save_dataset
from .paths import user_dir


class AutosaveController(QObject):
    DELAY_MS = 1500   # long enough to batch a burst of typing, short enough to lose little

    def __init__(self, win):
        """Uses win.model (undo stack and pairs), win.path, and win.ask (looked up at call time)."""
        super().__init__(win)
        self.win = win
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(self.DELAY_MS)
        self.timer.timeout.connect(self.autosave)
        win.model.contentChanged.connect(self.schedule)

    def recovery_file(self) -> Path:
        path = self.win.path
        key = hashlib.sha1(str(Path(path or "untitled").resolve()).encode()).hexdigest()[:16]
        return user_dir("autosave") / f"{Path(path or 'untitled').stem}-{key}.jsonl"

    def schedule(self) -> None:
        if not self.win.model.undo.isClean():
            self.timer.start()

    def autosave(self) -> Path | None:
        """Write unsaved edits to the recovery file (atomically), so a crash loses nothing."""
        if self.win.model.undo.isClean():
            return None
        f = self.recovery_file()
        save_dataset(Dataset(self.win.model.dataset.pairs), f)
        return f

    def discard(self) -> None:
        """The edits were saved or deliberately thrown away: no recovery to offer any more."""
        self.timer.stop()
        self.recovery_file().unlink(missing_ok=True)

    def offer_recovery(self) -> Dataset | None:
        """After opening win.path: a recovery file newer than the dataset is offered back."""
        path = self.win.path
        f = self.recovery_file()
        if not f.exists() or f.stat().st_mtime < Path(path).stat().st_mtime:
            return None
        answer = self.win.ask("Recover unsaved edits?", f"Unsaved edits to {Path(path).name} were found "
                              f"({f}). Restore them?", QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
        if answer != QMessageBox.Yes:
            return None
        try:
            rec = load_dataset(f)
            rec.path = path
            return rec
        except DataError:
            return None
