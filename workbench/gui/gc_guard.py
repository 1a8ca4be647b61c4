"""Cyclic garbage collection while a training thread runs: only on the GUI thread, young generations only."""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class GuiThreadGC(QObject):
    """While the worker runs, cyclic garbage is collected on this (the GUI) thread only.

    Python's automatic GC runs in whichever thread happens to allocate. If it frees a dead Qt
    wrapper (an old window, a closed dialog) in the worker thread, ~QObject takes a Qt lock
    and then waits for the GIL, while this thread holds the GIL and waits for that lock: a
    deadlock (seen here with PySide6 6.11). So automatic GC is off during a run, and this
    thread collects the young generations every second instead. Everything alive at the start
    is frozen first: a full collection over torch, transformers and VTK objects takes ~0.2 s,
    which would stall the UI, while a young-generation pass takes about a millisecond.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(lambda: gc.collect(1))
        self.active = False

    def worker_started(self) -> None:
        if self.active:
            return
        self.active = True
        gc.collect()
        gc.freeze()
        gc.disable()
        self.timer.start()

    def worker_ended(self) -> None:
        if not self.active:
            return
        self.active = False
        self.timer.stop()
        gc.unfreeze()
        gc.enable()   # automatic collection resumes; no forced full pass that would stall the UI
