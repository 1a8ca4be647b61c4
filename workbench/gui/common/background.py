"""Short jobs off the GUI thread (Ask, tracing a row, evaluating on a file), one at a time, in order.

`runner.submit(fn, on_done)` runs the plain function `fn()` in a daemon worker thread and calls
`on_done(TaskResult)` back in the GUI thread. The rules of the training worker hold here too:
- the result crosses back by a Qt signal connected to a bound method of a GUI-thread QObject
  (the emitter is a parentless object the thread keeps alive, so it is never deleted mid-emit);
- cyclic GC is off while a job runs (gc_guard), so it never runs in the worker thread;
- a finished job's callable is released in the GUI thread, never in the worker's (see _loop).
A daemon thread rather than a QThread: a window closed mid-job leaves no running QThread behind.
"""

from __future__ import annotations

import queue
import threading
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal, Slot

from workbench.gui.common.gc_guard import GuiThreadGC


@dataclass
class TaskResult:
    value: Any = None
    error: str = ""          # one line; "" when fn returned normally
    details: str = ""        # the full message and traceback, for a dialog's details

    @property
    def ok(self) -> bool:
        return not self.error


class _Emitter(QObject):
    finished = Signal(object)    # (task id, TaskResult), emitted from the worker thread
    progress = Signal(object)    # anything a job reports on the way (an EmbedProgress), from the worker thread


def _error_text(exc: Exception) -> str:
    report = getattr(exc, "report", None)          # DataError lists every problem
    text = report() if callable(report) else f"{type(exc).__name__}: {exc}"
    return text or type(exc).__name__


def _loop(jobs: queue.Queue, emitter: _Emitter, done: list) -> None:
    while True:
        tid, fn = jobs.get()
        try:
            res = TaskResult(fn())
        except Exception as exc:    # any failure is shown by the caller, never a dead thread
            text = _error_text(exc)
            res = TaskResult(None, text.splitlines()[0], text + "\n\n" + traceback.format_exc())
        # The job's last reference must not die here: a bound method keeps its object (a file read's QEventLoop)
        # alive, and a Qt object freed in this thread disconnects its signals under Qt's lock, then waits for the
        # GIL, while the GUI thread holds the GIL and waits for that lock in a connect(): a deadlock (seen as a
        # hung test). `done` hands it to the GUI thread, which drops it in _deliver.
        done.append(fn)
        del fn
        emitter.finished.emit((tid, res))


class TaskRunner(QObject):
    busyChanged = Signal(bool)
    progressed = Signal(object)  # in the GUI thread: what a job passed to `report` (see below)

    def __init__(self, name: str = "lattice-tasks", parent=None):
        super().__init__(parent)
        self._jobs: queue.Queue = queue.Queue()
        self._emitter = _Emitter()
        self._emitter.finished.connect(self._deliver)     # bound method of this GUI-thread object: queued
        self._emitter.progress.connect(self._relay)
        self.report = self._emitter.progress.emit          # a job calls runner.report(obj) from its thread
        self._callbacks: dict[int, Callable[[TaskResult], None]] = {}
        self._next = 0
        self._gc = GuiThreadGC(self)
        self._done: list = []       # finished jobs' callables, released in the GUI thread (see _loop)
        self._thread = threading.Thread(target=_loop, args=(self._jobs, self._emitter, self._done), name=name,
                                        daemon=True)
        self._started = False

    @property
    def busy(self) -> bool:
        return bool(self._callbacks)

    def submit(self, fn: Callable[[], Any], on_done: Callable[[TaskResult], None]) -> int:
        if not self._started:
            self._thread.start()
            self._started = True
        self._next += 1
        was_busy = self.busy
        self._callbacks[self._next] = on_done
        self._gc.worker_started()
        self._jobs.put((self._next, fn))
        if not was_busy:
            self.busyChanged.emit(True)
        return self._next

    @Slot(object)
    def _relay(self, obj) -> None:
        self.progressed.emit(obj)

    @Slot(object)
    def _deliver(self, item) -> None:
        tid, res = item
        while self._done:           # the finished jobs' callables die here, in the GUI thread
            self._done.pop()
        cb = self._callbacks.pop(tid, None)
        if not self._callbacks:
            self._gc.worker_ended()
            self.busyChanged.emit(False)
        if cb is not None:
            cb(res)
