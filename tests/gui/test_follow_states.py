"""A followed run is shown like the app's own: each state of a run folder another process writes (setting up,
running, finished), what the previous run left on screen, `workbench --run` and dropping a folder on the window.

The folders are written by the shipped writer (ProgressLog, what every run writes), line by line as a run would."""

from pathlib import Path

import pytest

from workbench.train.events import BatchProgress, EpochMetrics, Finished, RunStarted, TrainWarning
from workbench.train.record.progress_log import ProgressLog

pytestmark = pytest.mark.gui

BASE = {"identity": {"val_cosine": 0.41, "val_top1": 0.2}, "ridge": {"val_cosine": 0.45}}


class Writer:
    """A run folder written as a run of `n_train` pairs in batches of 4 over `epochs` epochs writes it."""

    def __init__(self, folder: Path, n_train: int = 40, epochs: int = 2):
        self.folder, self.n_train, self.epochs = folder, n_train, epochs
        self.log = ProgressLog(folder, n_epochs=epochs, interval=0.0)
        self.n_batches = n_train // 4

    def start(self):
        (self.folder / "config.json").write_text('{"target_similarity": 0.7}')
        self.log(RunStarted(self.n_train, 10, 384, (4, 4, 4), 100, "cpu", BASE, {}))

    def batches(self, epoch: int, upto: int | None = None):
        for b in range(1, (upto or self.n_batches) + 1):
            self.log(BatchProgress(epoch, b, self.n_batches, 1.0 / (epoch * b), 1.0, self.epochs,
                                   ((epoch - 1) * self.n_batches + b) * 4, 0.5, 80.0, 95.0))

    def epoch(self, epoch: int):
        self.log(EpochMetrics(epoch, {"epoch": epoch, "loss": 0.5 / epoch, "val_cosine": 0.5 + epoch / 100, "lr": 1e-3}, True))

    def finish(self):
        (self.folder / "metrics.json").write_text('{"val_cosine": 0.52}')
        self.log(Finished("completed", self.epochs, self.epochs, {}, 3.0))

    def whole(self):
        self.start()
        for e in range(1, self.epochs + 1):
            self.batches(e)
            self.epoch(e)
        self.finish()
        return self.folder


def x_range(win) -> tuple[float, float]:
    win.charts.redraw()
    return tuple(win.charts.plots["loss"].getViewBox().viewRange()[0])


def test_a_folder_still_setting_up_is_waited_for_then_shown_with_progress_eta_and_state(window, qtbot, tmp_path):
    win = window
    folder = tmp_path / "cli-run"
    folder.mkdir()
    (folder / "run.log").write_text("2026-12-07 18:33:49,942 INFO    workbench.cli: preset: large-data, chosen\n")
    follower = win.library.follow(folder)
    assert follower is not None and not win.errors                 # accepted, not "Not a run folder"
    t = win.training
    assert "waiting for the run to start" in t.train_bar.format()
    assert "only run.log" in t.eta.text() and "preset: large-data, chosen" in t.eta.text()
    w = Writer(folder)
    w.start()
    w.batches(1, upto=4)
    follower.poll()
    qtbot.waitUntil(lambda: t.train_bar.format().startswith("epoch 1/2 · batch 4/10"), timeout=5000)
    assert t.train_bar.value() == 4 and t.train_bar.maximum() == 20
    assert "ETA" in t.eta.text() and "80 samples/s" in t.eta.text()
    assert "only run.log" not in t.eta.text()
    assert follower.run.baselines["identity"]["val_cosine"] == 0.41 and win.charts.target == 0.7
    w.log(TrainWarning("no-gradient", "the lattice gets no gradient"))
    w.batches(1)
    w.epoch(1)
    follower.poll()
    assert t.banner.isVisible() and "no gradient" in t.banner.text()
    assert [int(r["epoch"]) for r in follower.run.history] == [1]
    w.batches(2)
    w.epoch(2)
    w.finish()
    with qtbot.waitSignal(follower.ended, timeout=5000):
        follower.poll()
    assert t.train_bar.format() == "completed: best epoch 2 of 2" and t.eta.text() == ""
    assert win.report.run_dir == str(folder) and follower.run.history[-1]["samples_seen"] == 80


def test_nothing_of_the_previous_run_lingers_and_the_view_starts_afresh(window, qtbot, tmp_path):
    win = window
    long = Writer(tmp_path / "long", n_train=40_000, epochs=2).whole()
    win.library.follow(long)
    assert x_range(win)[1] >= 80_000 * 0.99
    t = win.training
    t.show_warning("⚠ the previous run's warning")                  # what a stopped run leaves up
    t.show_status("stopped: best epoch 0 of 0")
    short = Writer(tmp_path / "short", n_train=40, epochs=2)
    short.start()
    short.batches(1)
    follower = win.library.follow(short.folder)
    assert not t.banner.isVisible() and "stopped" not in t.train_bar.format()
    assert win.charts.current is follower.run and win.report.run_dir == str(short.folder)
    lo, hi = x_range(win)
    assert hi < 200 and lo <= 0           # the short run fills the view, not a sliver at x=0 of the long run's range
    # followed again (re-opened): replayed from its first line, not drawn twice
    short.epoch(1)
    again = win.library.follow(short.folder)
    assert again.run is follower.run and again.run.batch_loss.n == 10 and len(again.run.history) == 1


def test_workbench_dash_dash_run_opens_a_run_folder(qtbot, env_dirs, tmp_path, data_copy):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from workbench.gui import app as app_module
    folder = Writer(tmp_path / "done").whole()
    seen = {}

    def look():
        win = next(w for w in QApplication.topLevelWidgets() if hasattr(w, "library"))
        if not win.library.followers:
            QTimer.singleShot(100, look)
            return
        f = win.library.followers[0]
        seen.update(folder=f.folder, finished=f.finished, current=win.charts.current is f.run,
                    status=win.training.train_bar.format(), welcome=getattr(win, "welcome", None))
        win.model.undo.setClean()
        win.quit_now(0)
    QTimer.singleShot(0, look)
    assert app_module.main([str(data_copy), "--run", str(folder)]) == 0
    assert seen == {"folder": folder, "finished": True, "current": True, "status": "completed: best epoch 2 of 2",
                    "welcome": None}


def test_a_folder_dropped_on_the_window_is_followed(window, tmp_path):
    from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    folder = Writer(tmp_path / "dropped").whole()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    enter = QDragEnterEvent(QPoint(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    enter.ignore()
    window.event(enter)                  # Qt delivers a real drag only while one is under way: handed over directly
    assert enter.isAccepted() and not window.library.followers
    drop = QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    drop.ignore()
    window.event(drop)
    assert drop.isAccepted() and [f.folder for f in window.library.followers] == [folder]
    assert window.charts.current.folder == str(folder)
    text = QMimeData()
    text.setText("not a folder")
    other = QDropEvent(QPointF(10, 10), Qt.CopyAction, text, Qt.LeftButton, Qt.NoModifier)
    other.ignore()
    window.event(other)
    assert not other.isAccepted() and len(window.library.followers) == 1
