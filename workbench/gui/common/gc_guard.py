"""Cyclic garbage collection while worker threads run: only on the GUI thread, young generations only."""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

_holders: set[int] = set()     # ids of the GuiThreadGC objects whose worker is running
_timer: QTimer | None = None   # collects young generations on the GUI thread while any worker runs


def _collect_young() -> None:
    """The youngest generation, then freeze its survivors: each pass scans only the last 0.1 s of allocations.
    A pass over everything that survived since Start grew to ~90 ms (the window's longest stall,
    benchmarks/gui_events.py). Plain objects still die by reference counting while frozen; cyclic garbage among
    the frozen waits for worker_ended, which unfreezes them into the old generation."""
    gc.collect(0)
    gc.freeze()


class GuiThreadGC(QObject):
    """While a worker runs, cyclic garbage is collected on this (the GUI) thread only.

    Python's automatic GC runs in whichever thread happens to allocate. If it frees a dead Qt
    wrapper (an old window, a closed dialog) in the worker thread, ~QObject takes a Qt lock
    and then waits for the GIL, while this thread holds the GIL and waits for that lock: a
    deadlock (seen here with PySide6 6.11). So automatic GC is off while any worker runs (the
    training run, a background Ask or evaluation: GC is process-wide, so the holders are
    counted), and this thread collects the youngest generation ten times a second instead. Everything
    alive at the start is frozen first: a full collection over torch, transformers and VTK objects
    takes ~0.2 s, which would stall the UI, while a young-generation pass takes about a millisecond.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.active = False

    def worker_started(self) -> None:
        global _timer
        if self.active:
            return
        self.active = True
        if not _holders:
            gc.collect()
            gc.freeze()
            gc.disable()
            if _timer is None:
                _timer = QTimer()
                _timer.setInterval(100)
                _timer.timeout.connect(_collect_young)
            _timer.start()
        _holders.add(id(self))

    def worker_ended(self) -> None:
        if not self.active:
            return
        self.active = False
        _holders.discard(id(self))
        if not _holders:
            _timer.stop()
            gc.unfreeze()
            # young generations now, on this thread: a count left high while GC was off would otherwise
            # trigger the next collection on the first allocation anywhere, maybe in a worker thread
            gc.collect(0)
            gc.enable()   # automatic collection resumes; no forced full pass that would stall the UI
