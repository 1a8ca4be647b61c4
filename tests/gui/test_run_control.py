"""Issue 8/11 in the app: run.log in an app run's folder, the run's own copy of the table, evaluation progress in
the progress label, and closing mid-run without blocking the GUI thread or closing before the thread has ended."""

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QObject, QTimer

from gui_helpers import wait_for_run
from workbench.data.pairs import Dataset, DialoguePair
from workbench.gui.training.controller import snapshot_pairs
from workbench.train import eval_pass

pytestmark = pytest.mark.gui


def test_an_app_run_folder_has_a_run_log_with_its_epoch_lines(window, qtbot):
    assert window.start_training()
    wait_for_run(qtbot, window)
    assert window.last_finished.reason == "completed"
    log = (Path(window.runs.out_dir) / "run.log").read_text(encoding="utf-8")
    for n in (1, 2, 3):
        assert f"epoch {n}: loss" in log
    assert "app run: 45 pairs" in log and "finished: completed after 3 epoch(s)" in log


def test_an_edit_during_a_run_does_not_change_the_runs_data(window, qtbot):
    original = window.model.dataset.pairs[0].question
    assert window.start_training()
    window.model.set_text(0, "question", "Edited while the run trains?")
    original_category = window.model.dataset.pairs[1].category
    assert window.model.set_text(1, "category", "edited")
    run_pairs = window.run.worker.dataset.pairs
    assert run_pairs[0].question == original and run_pairs[1].category == original_category
    wait_for_run(qtbot, window)
    assert window.last_finished.reason == "completed"
    assert window.model.dataset.pairs[0].question == "Edited while the run trains?"


def test_the_snapshot_shares_nothing_the_table_changes():
    pairs = [DialoguePair(f"q{i}", f"a{i}", "c", {"document": str(i)}) for i in range(100_000)]
    snap = snapshot_pairs(pairs)
    assert [(p.question, p.answer, p.category, p.extra) for p in snap[:5]] == \
        [(p.question, p.answer, p.category, p.extra) for p in pairs[:5]]
    assert all(a is not b and a.extra is not b.extra for a, b in zip(snap, pairs))
    pairs[0].question = "changed"
    pairs[1].extra["document"] = "changed in place"     # the table never does this; the snapshot is safe anyway
    assert snap[0].question == "q0" and snap[1].extra["document"] == "1"


def test_evaluation_progress_shows_in_the_progress_label(window, qtbot, monkeypatch):
    monkeypatch.setattr(eval_pass, "CHUNK_ROWS", 4)
    labels = []
    window.training.train_bar.setFormat = (lambda orig: lambda text: (labels.append(text), orig(text)))(
        window.training.train_bar.setFormat)
    assert window.start_training()
    wait_for_run(qtbot, window)
    assert "before training: evaluating training subset 4/36 pairs" in labels
    assert "epoch 1: evaluating validation 9/9 pairs" in labels


class _CloseWatch(QObject):
    """Whether the worker's thread was still running when the window received its Close event."""

    def __init__(self, win):
        super().__init__()
        self.win, self.thread_alive_at_close = win, []

    def eventFilter(self, obj, ev):
        if ev.type() == QEvent.Type.Close and obj is self.win:
            self.thread_alive_at_close.append(self.win.run.thread.isRunning())
        return False


def test_closing_mid_run_never_blocks_and_never_closes_before_the_thread_ends(window, qtbot):
    window.training.form.set_value("optim.epochs", 200)
    assert window.start_training()
    qtbot.waitUntil(lambda: window.charts.current is not None and bool(window.charts.current.history), timeout=120_000)
    watch = _CloseWatch(window)
    window.installEventFilter(watch)
    ticks = []                                  # the GUI thread's event loop, sampled every 20 ms
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(20)
    t = time.perf_counter()
    assert not window.close()
    assert "stopping" in window.training.train_bar.format()
    window.runs._on_done()                      # the worker's last signal, as if it came before its thread ended
    assert time.perf_counter() - t < 1.0        # a moment, not a wait for the thread
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
    timer.stop()
    assert watch.thread_alive_at_close and not any(watch.thread_alive_at_close[-1:])
    times = [t, *ticks, time.perf_counter()]
    assert max(b - a for a, b in zip(times, times[1:])) < 1.0
    assert not window.run.thread.isRunning()
