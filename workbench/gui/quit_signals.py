"""Quit cleanly on SIGTERM, SIGINT and SIGHUP (logout, `kill`, Ctrl+C in the terminal).

Python runs signal handlers only when the interpreter gets control, which Qt's C++ event loop
may not give it for a long time. `signal.set_wakeup_fd` makes the C-level handler write the
signal number into a socket; a QSocketNotifier on the other end wakes the event loop, and the
callback runs in the GUI thread, where saving edits and stopping a run are safe.
"""

from __future__ import annotations

import signal
import socket
from typing import Callable

from PySide6.QtCore import QObject, QSocketNotifier

SIGNALS = tuple(s for s in (getattr(signal, n, None) for n in ("SIGTERM", "SIGINT", "SIGHUP")) if s is not None)


class QuitOnSignal(QObject):
    def __init__(self, on_signal: Callable[[int], None], parent=None):
        super().__init__(parent)
        self.on_signal = on_signal
        self._read, self._write = socket.socketpair()
        for s in (self._read, self._write):
            s.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._write.fileno())
        self._previous = {}
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, lambda *_: None)   # the work happens in _wake, on the GUI thread
        self.notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Read, self)
        self.notifier.activated.connect(self._wake)

    def _wake(self, *_) -> None:
        try:
            data = self._read.recv(64)
        except BlockingIOError:
            return
        for signum in data:
            if signum in SIGNALS:
                self.on_signal(signum)
                return

    def uninstall(self) -> None:
        self.notifier.setEnabled(False)
        signal.set_wakeup_fd(self._previous_fd)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._read.close()
        self._write.close()
