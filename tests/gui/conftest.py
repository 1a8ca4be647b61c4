import shutil

import pytest

from helpers import SAMPLE_45, small_config


@pytest.fixture
def env_dirs(tmp_path, monkeypatch, cache_dir):
    monkeypatch.setenv("LATTICE_WORKBENCH_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("LATTICE_WORKBENCH_AUTOSAVE", str(tmp_path / "autosave"))
    monkeypatch.setenv("LATTICE_WORKBENCH_CACHE", str(cache_dir))
    monkeypatch.setenv("LATTICE_WORKBENCH_SETTINGS", str(tmp_path / "settings.ini"))   # never the user's QSettings
    monkeypatch.setenv("LATTICE_WORKBENCH_DOCUMENTS", str(tmp_path / "documents"))
    return tmp_path


@pytest.fixture
def data_copy(tmp_path):
    dst = tmp_path / "pairs.csv"
    shutil.copy(SAMPLE_45, dst)
    return dst


@pytest.fixture
def window(qtbot, env_dirs, data_copy, cache_dir):
    from workbench.gui.main_window import MainWindow
    win = MainWindow(str(data_copy), small_config(cache_dir, **{"optim.epochs": 3}))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    from PySide6.QtWidgets import QMessageBox
    win.ask = lambda *a: QMessageBox.No   # no modal dialog may block a test; tests that need one override this
    errors = []
    win.show_error = lambda title, msg, details="": (errors.append((title, msg)), setattr(win, "last_error", (title, msg)))
    win.errors = errors
    yield win
    if win.run is not None and win.run.is_running():
        win.run.stop_and_wait(15000)
    win.model.undo.setClean()
    win.close()
