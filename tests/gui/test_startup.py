"""The window appears before torch, transformers and pyvista are imported; they load in the background after it
is up, and the status bar says so until they are in (benchmarks/startup.py times it)."""

import os
import subprocess
import sys

import pytest

from helpers import ROOT, SAMPLE_45

pytestmark = pytest.mark.gui

# the real `workbench DATA` start in a fresh interpreter: which heavy modules are loaded once the window is mapped,
# and what the status bar says while the background load runs and after it
CHILD = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from workbench.gui import app as app_module
HEAVY = app_module.HEAVY
def shown():
    win = next(w for w in QApplication.topLevelWidgets() if hasattr(w, "library"))
    if not win.windowHandle() or not win.windowHandle().isExposed():
        return QTimer.singleShot(10, shown)
    print("mapped:", [m for m in HEAVY if m in sys.modules], win.model.rowCount(), flush=True)
    QTimer.singleShot(100, lambda: loading(win))
def loading(win):
    if not hasattr(win, "preload"):       # started 300 ms after the window is shown
        return QTimer.singleShot(50, lambda: loading(win))
    thread, note = win.preload
    print("loading:", thread.is_alive(), note.text(), flush=True)
    thread.join(300)
    QTimer.singleShot(500, lambda: done(win))
def done(win):
    print("done:", [m for m in HEAVY if m in sys.modules], win.statusBar().currentMessage(), flush=True)
    win.quit_now(0)
QTimer.singleShot(0, shown)
sys.exit(app_module.main([sys.argv[1]]))
"""


def test_the_window_is_mapped_before_torch_and_the_status_bar_says_what_loads(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LATTICE_WORKBENCH_SETTINGS": str(tmp_path / "settings.ini"),
           "LATTICE_WORKBENCH_RUNS": str(tmp_path / "runs"), "LATTICE_WORKBENCH_AUTOSAVE": str(tmp_path / "autosave"),
           "LATTICE_WORKBENCH_DOCUMENTS": str(tmp_path / "documents")}
    out = subprocess.run([sys.executable, "-c", CHILD, str(SAMPLE_45)], env=env, capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = dict(line.split(": ", 1) for line in out.stdout.splitlines() if ": " in line)
    assert lines["mapped"] == "[] 45"                 # the table is filled; not one of the heavy modules is loaded
    assert lines["loading"].startswith("True loading torch, transformers and pyvista in the background")
    assert lines["done"].startswith("['torch', 'transformers', 'pyvista', 'pyvistaqt'] ready: torch, transformers "
                                    "and pyvista loaded in")


def test_a_wayland_desktop_runs_the_app_on_xwayland_unless_the_user_chose_a_platform():
    """The cube renders into a native X window (pyvistaqt < 0.13), which Qt's Wayland backend cannot host: on
    Wayland with XWayland the app asks for xcb; a QT_QPA_PLATFORM the user set, or no XWayland, is left alone."""
    from workbench.gui.app import x11_for_the_cube
    env = {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}
    assert x11_for_the_cube(env, "linux") and env["QT_QPA_PLATFORM"] == "xcb"
    chosen = {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0", "QT_QPA_PLATFORM": "wayland"}
    assert not x11_for_the_cube(chosen, "linux") and chosen["QT_QPA_PLATFORM"] == "wayland"
    for env in ({"WAYLAND_DISPLAY": "wayland-0"}, {"DISPLAY": ":0"}):
        assert not x11_for_the_cube(env, "linux") and "QT_QPA_PLATFORM" not in env
    env = {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}
    assert not x11_for_the_cube(env, "darwin") and "QT_QPA_PLATFORM" not in env
