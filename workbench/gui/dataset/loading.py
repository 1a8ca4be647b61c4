"""Reading a dataset file off the GUI thread, with progress and Cancel (issue 21).

`load_with_progress(parent, path, columns)` reads with the same bounded reader as the CLI
(`load_dataset`, streamed: memory bounded by the rows kept, endless files refused) in a
TaskRunner worker, while a window-modal progress dialog shows how far it got and a local event
loop keeps the window painting and answering. It returns the Dataset, raises the DataError the
reader raised (so callers show it as before), or returns None when the user pressed Cancel.

Open, Import and reopening with a remembered mapping keep their synchronous shape (they return
whether a file was opened): the wait is an event loop, not a block, as `QDialog.exec` is.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QProgressDialog

from workbench.data.dataset import DataError, Dataset, load_dataset
from workbench.data.stream import LoadCancelled
from workbench.gui.common.background import TaskRunner

SHOW_AFTER_MS = 400      # a file read faster than this shows no dialog at all
REPORT_EVERY_S = 0.1     # progress reaches the dialog at most this often
_runner: TaskRunner | None = None   # one worker thread for every read, in order (a cancelled read ends first)


def _shared_runner() -> TaskRunner:
    global _runner
    if _runner is None:
        _runner = TaskRunner("lattice-load")
    return _runner


def _fmt(n: int) -> str:
    return f"{n / 1e6:,.0f} MB" if n >= 10e6 else f"{n / 1e6:,.1f} MB"


class _Load:
    """One read: the worker's callbacks (any thread) and the dialog's (GUI thread)."""

    def __init__(self, parent, path: str, columns):
        self.path, self.columns = str(path), columns
        self.cancelled = threading.Event()
        self.outcome: tuple | None = None
        self.reported = 0.0
        self.loop = QEventLoop()
        self.dialog = QProgressDialog(f"Reading {Path(path).name}…", "Cancel", 0, 0, parent)
        self.dialog.setWindowTitle("Reading dataset")
        self.dialog.setWindowModality(Qt.WindowModal)
        self.dialog.setMinimumDuration(SHOW_AFTER_MS)
        self.dialog.reset()                          # no show on its own timer: _show_dialog decides
        self.dialog.setAutoReset(False)
        self.dialog.canceled.connect(self._cancel)
        self.runner = _shared_runner()
        self.runner.progressed.connect(self._show)

    def progress(self, done: int, total: int | None) -> None:
        """Worker thread: stop when cancelled, else tell the dialog."""
        if self.cancelled.is_set():
            raise LoadCancelled()
        now = time.monotonic()
        if now - self.reported >= REPORT_EVERY_S:       # a pipe reads in small pieces: not a signal for each
            self.reported = now
            self.runner.report((done, total))

    def work(self):
        """Worker thread: the outcome as a value, so the DataError itself (with every problem) reaches the caller."""
        try:
            return "ok", load_dataset(self.path, columns=self.columns, progress=self.progress)
        except DataError as exc:
            return "error", exc
        except LoadCancelled:
            return "cancelled", None

    def _show(self, item) -> None:
        done, total = item
        if self.path.endswith(".parquet"):          # Parquet reports row groups
            text = f"Reading {Path(self.path).name}: row group {done:,} of {total:,}"
        else:
            text = f"Reading {Path(self.path).name}: {_fmt(done)}" + (f" of {_fmt(total)}" if total else
                                                                        " (a file without a size)")
        self.dialog.setLabelText(text)
        if total:
            self.dialog.setMaximum(1000)
            self.dialog.setValue(min(999, int(1000 * done / total)))

    def _show_dialog(self) -> None:
        """Still reading after SHOW_AFTER_MS: show the dialog (QProgressDialog shows itself only on setValue)."""
        if self.outcome is None:
            self.dialog.show()

    def _cancel(self) -> None:
        self.cancelled.set()
        self._finish(("cancelled", None))        # the worker stops at its next chunk; its result is dropped

    def _finish(self, outcome) -> None:
        if self.outcome is None:
            self.outcome = outcome
            self.loop.quit()

    def run(self):
        self.runner.submit(self.work, lambda res: self._finish(res.value if res.ok else ("error", res.error)))
        QTimer.singleShot(SHOW_AFTER_MS, self._show_dialog)
        if self.outcome is None:
            _active.append(self)
            try:
                self.loop.exec()
            finally:
                _active.remove(self)
        self.runner.progressed.disconnect(self._show)
        self.dialog.canceled.disconnect(self._cancel)
        self.dialog.close()
        self.dialog.deleteLater()
        return self.outcome


_active: list["_Load"] = []          # the reads whose event loop is running (a nested Open is refused by modality)


def reading() -> bool:
    """True while a file is being read (its progress loop running): what a test waits out before the next dialog."""
    return bool(_active)


def load_with_progress(parent, path, columns=None) -> Dataset | None:
    """The dataset at path read off the GUI thread; DataError as load_dataset raises it; None if cancelled."""
    kind, value = _Load(parent, path, columns).run()
    if kind == "error":
        raise value if isinstance(value, DataError) else DataError([])
    return value if kind == "ok" else None
