"""Opening a large or endless file (issue 21): read off the GUI thread, refused or cancelled, never a frozen window."""

import os
import subprocess
import threading

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QProgressDialog, QPushButton


def _endless(tmp_path, suffix=".jsonl"):
    zero = tmp_path / f"zero{suffix}"
    os.symlink("/dev/zero", zero)
    return zero


def test_opening_an_endless_file_is_refused_while_the_window_keeps_answering(window, qtbot, tmp_path):
    before = list(window.model.dataset.pairs)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(20)
    try:
        assert not window.open_file(str(_endless(tmp_path)))
    finally:
        timer.stop()
    # A read on the GUI thread would deliver no timer event until it ended (0 or 1 tick): the window was alive.
    assert len(ticks) >= 3, window.errors
    title, message = window.errors[-1]
    assert title == "Cannot open dataset" and "a file without a size" in message
    assert window.model.dataset.pairs == before                       # the table still holds the old file
    assert not window.open_file(str(_endless(tmp_path, ".csv")))      # the endless CSV: refused at its "header"
    assert "no header line" in window.errors[-1][1]


def test_cancel_stops_the_read_and_keeps_the_table(window, qtbot, tmp_path):
    """A pipe that never ends (a record every 10 ms): only Cancel ends the read."""
    fifo = tmp_path / "slow.jsonl"
    os.mkfifo(fifo)
    record = '{"question": "What is it?", "answer": "A thing."}'
    writer = subprocess.Popen(["sh", "-c", f"while :; do echo '{record}'; sleep 0.01; done > '{fifo}'"])
    before, errors, pressed, ticks = list(window.model.dataset.pairs), len(window.errors), [], []

    def press_cancel():
        dialogs = [d for d in window.findChildren(QProgressDialog) if d.isVisible()]
        ticks.append(1)
        if dialogs and "MB" in dialogs[0].labelText():
            pressed.append(dialogs[0].labelText())
            dialogs[0].findChild(QPushButton).click()                 # the dialog's Cancel button
        else:
            QTimer.singleShot(20, press_cancel)
    QTimer.singleShot(0, press_cancel)
    guard = threading.Timer(60, writer.kill)   # Cancel not working: the pipe ends, the file loads, the test fails
    guard.start()
    try:
        assert not window.open_file(str(fifo))
    finally:
        guard.cancel()
        writer.kill()
        writer.wait()
    assert pressed and pressed[0].startswith("Reading slow.jsonl: ") and "(a file without a size)" in pressed[0]
    assert len(ticks) >= 3                                             # the window answered while it read
    assert len(window.errors) == errors                                # cancelled: nothing to report
    assert window.model.dataset.pairs == before
