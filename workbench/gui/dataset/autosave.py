"""Autosave and recovery: unsaved table edits go to a recovery file (atomically) shortly after each change.

The recovery file lives in the user's autosave folder, named after the dataset's path, so
reopening the same file after a crash offers the edits back. Three ways edits used to get lost:
- the first edit after open or save: an undo command's change signal fires inside
  QUndoStack.push(), before the stack's clean state moves, so "is there anything unsaved?"
  answered no. The timer now starts on the stack's indexChanged, which comes after the push;
- a SIGTERM (logout, `kill`) within the 1.5 s delay: `flush()` writes at once, and app.py calls it
  on SIGTERM/SIGINT/SIGHUP and on aboutToQuit;
- a damaged recovery file was silently ignored, then offered again at every open: it is now
  moved aside (never deleted) and the user is told.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMessageBox

from workbench.data.dataset import DataError, Dataset, load_dataset, save_dataset
from workbench.gui.common.paths import user_dir


class AutosaveController(QObject):
    DELAY_MS = 1500   # long enough to batch a burst of typing, short enough to lose little

    def __init__(self, win):
        """Uses win.model (undo stack and pairs), win.path, win.ask / win.show_error (looked up at call time)."""
        super().__init__(win)
        self.win = win
        self.failed_once = False
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(self.DELAY_MS)
        self.timer.timeout.connect(self._on_timer)
        win.model.undo.indexChanged.connect(self.schedule)   # after the push: the clean state is current

    def recovery_file(self, path: str | None = None) -> Path:
        path = path if path is not None else self.win.path
        key = hashlib.sha1(str(Path(path or "untitled").resolve()).encode()).hexdigest()[:16]
        return user_dir("autosave") / f"{Path(path or 'untitled').stem}-{key}.jsonl"

    def schedule(self, *_) -> None:
        self.timer.start()

    def autosave(self) -> Path | None:
        """Write unsaved edits to the recovery file (atomically), so a crash loses nothing.
        Back at the saved state (all edits undone) the recovery file is obsolete and removed."""
        self.timer.stop()
        f = self.recovery_file()
        if self.win.model.undo.isClean():
            f.unlink(missing_ok=True)
            return None
        save_dataset(Dataset(self.win.model.dataset.pairs), f)
        return f

    def flush(self) -> Path | None:
        """Write now whatever is unsaved (quit, SIGTERM); never raises, never asks."""
        try:
            return self.autosave()
        except (OSError, DataError) as exc:
            self._report_failure(exc)
            return None

    def _on_timer(self) -> None:
        self.flush()

    def _report_failure(self, exc: Exception) -> None:
        msg = f"Autosave failed: could not write {self.recovery_file()}: {exc}"
        bar = getattr(self.win, "statusBar", None)
        if bar is not None:
            bar().showMessage(msg, 15000)
        if not self.failed_once:   # one dialog, not one every 1.5 s
            self.failed_once = True
            self.win.show_error("Autosave failed", msg + "\nSave the dataset to keep your edits.")

    def discard(self, path: str | None = None) -> None:
        """The edits were saved or deliberately thrown away: no recovery to offer any more."""
        self.timer.stop()
        self.recovery_file(path).unlink(missing_ok=True)

    def _move_aside(self, f: Path, why: str) -> Path:
        dest = f.with_name(f"{f.stem}.{why}-{time.strftime('%Y%m%d-%H%M%S')}{f.suffix}")
        f.replace(dest)
        return dest

    def offer_recovery(self) -> Dataset | None:
        """After opening win.path: a recovery file newer than the dataset is offered back.
        Declined or damaged recovery files are moved aside (kept, not offered again)."""
        path = self.win.path
        f = self.recovery_file()
        if not f.exists() or f.stat().st_mtime < Path(path).stat().st_mtime:
            return None
        answer = self.win.ask("Recover unsaved edits?", f"Unsaved edits to {Path(path).name} were found "
                              f"({f}). Restore them?", QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
        if answer != QMessageBox.Yes:
            self._move_aside(f, "declined")
            return None
        try:
            rec = load_dataset(f)
            if rec.load_problems:   # we wrote this file whole: any record that does not parse means damage
                raise DataError(rec.load_problems)
        except DataError as exc:
            kept = self._move_aside(f, "damaged")
            self.win.show_error("Could not recover unsaved edits",
                                f"The recovery file for {Path(path).name} is damaged ({exc}). "
                                f"{Path(path).name} opens as last saved; the damaged file was kept as {kept}.",
                                exc.report())
            return None
        rec.path = path
        return rec
