"""Ask and Evaluate run off the GUI thread, and the window stays responsive while they run (issue 20, item 4).

The teacher's encode (the slow part of both) is wrapped to note its thread and to take 0.4 s longer; a 20 ms
QTimer on the GUI thread is the heartbeat. Run on the GUI thread, the job would see the main thread and the
heartbeat would not tick during it.
"""

import threading
import time

import pytest
from PySide6.QtCore import QTimer

from gui_helpers import wait_for_run
from workbench.teacher.encoder import Teacher

pytestmark = pytest.mark.gui


class SlowEncodeSpy:
    def __init__(self, monkeypatch):
        self.calls = []            # (thread, start, end) of every encode
        real = Teacher.encode

        def encode(teacher, *args, **kwargs):
            start = time.monotonic()
            time.sleep(0.4)
            try:
                return real(teacher, *args, **kwargs)
            finally:
                self.calls.append((threading.current_thread(), start, time.monotonic()))
        monkeypatch.setattr(Teacher, "encode", encode)


def heartbeat(window):
    ticks = []
    timer = QTimer(window)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(20)
    return timer, ticks


def check_off_thread(spy, ticks):
    assert spy.calls, "the job never encoded anything"
    for thread, start, end in spy.calls:
        assert thread is not threading.main_thread(), "ran on the GUI thread"
        assert sum(start <= t <= end for t in ticks) >= 3, "the GUI thread did not tick while the job ran"


def test_ask_and_evaluate_run_off_the_gui_thread_and_the_window_keeps_ticking(window, qtbot, monkeypatch, data_copy):
    assert window.start_training()
    wait_for_run(qtbot, window)
    assert window.last_finished.reason == "completed"
    spy = SlowEncodeSpy(monkeypatch)
    timer, ticks = heartbeat(window)
    window.ask_panel.question.setText("Why do networks overfit?")
    with qtbot.waitSignal(window.ask_panel.answered, timeout=120_000) as answered:
        assert window.ask_panel.ask()
    assert answered.args[0] is not None
    check_off_thread(spy, ticks)
    spy.calls.clear()
    with qtbot.waitSignal(window.report.evaluated, timeout=300_000) as evaluated:
        assert window.report.evaluate(str(data_copy))
    timer.stop()
    assert evaluated.args[0] is not None
    check_off_thread(spy, ticks)


def test_a_finished_jobs_callable_is_released_in_the_gui_thread_not_the_workers(qtbot):
    """A job's bound method keeps its object alive (a file read's _Load holds a QEventLoop). Released in the worker
    thread, a Qt object disconnects its signals under Qt's lock and then waits for the GIL, while the GUI thread
    holds the GIL in a connect() waiting for that lock: the clean-clone test run hung there. The object dies in
    the GUI thread, however the jobs follow each other."""
    from workbench.gui.common.background import TaskRunner
    died_in: list[str] = []

    class Job:
        def work(self):
            return 1

        def __del__(self):
            died_in.append(threading.current_thread().name)

    runner = TaskRunner("test-release")
    results = []
    runner.submit(Job().work, results.append)
    qtbot.waitUntil(lambda: len(results) == 1, timeout=5000)
    runner.submit(lambda: 2, results.append)             # the worker takes its next job: the old one is let go
    qtbot.waitUntil(lambda: len(results) == 2, timeout=5000)
    qtbot.waitUntil(lambda: bool(died_in), timeout=5000)
    assert died_in == ["MainThread"]
