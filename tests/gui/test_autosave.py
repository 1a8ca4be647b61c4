"""GUI autosave (issue 7, item 7): the first edit is saved, SIGTERM loses nothing, a damaged recovery file is reported."""

import os
import signal
import subprocess
import sys

import pytest
from PySide6.QtWidgets import QMessageBox

from workbench.data.dataset import load_dataset

pytestmark = pytest.mark.gui


def edit(win, row, col, text):
    assert win.dataset_panel.proxy.setData(win.dataset_panel.index_of(row, col), text)


def test_first_edit_after_open_and_after_save_is_autosaved(window, qtbot):
    f = window.autosaver.recovery_file()
    assert not f.exists()
    edit(window, 0, 0, "What is the very first edit?")          # the first command after open
    qtbot.waitUntil(f.exists, timeout=4000)
    assert load_dataset(f).pairs[0].question == "What is the very first edit?"
    assert window.save()
    assert not f.exists()                                       # saved: nothing to recover
    edit(window, 1, 0, "What is the first edit after saving?")  # the first command after save
    qtbot.waitUntil(f.exists, timeout=4000)
    assert load_dataset(f).pairs[1].question == "What is the first edit after saving?"
    window.model.undo.undo()                                    # back at the saved state
    qtbot.waitUntil(lambda: not f.exists(), timeout=4000)


SIGTERM_APP = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from workbench.gui.app import save_edits_on_quit
from workbench.gui.main_window import MainWindow
app = QApplication(sys.argv[:1])
win = MainWindow(sys.argv[1])
win.show()
save_edits_on_quit(app, win)
win.autosaver.timer.setInterval(3_600_000)   # the timer can never save first: only the signal handler can
def edit():
    win.model.setData(win.model.index(2, 1), "An answer typed a moment before the session ended.")
    print("EDITED", flush=True)
QTimer.singleShot(0, edit)
sys.exit(app.exec())
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_a_quit_signal_right_after_an_edit_keeps_it(env_dirs, data_copy, tmp_path, sig):
    proc = subprocess.Popen([sys.executable, "-c", SIGTERM_APP, str(data_copy)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        assert proc.stdout.readline().strip() == "EDITED", proc.stderr.read()
        assert not list((tmp_path / "autosave").glob("pairs-*.jsonl"))    # nothing saved yet: the timer is off
        proc.send_signal(sig)
        assert proc.wait(30) == 128 + sig, proc.stderr.read()
    finally:
        proc.kill()
    recovered = list((tmp_path / "autosave").glob("pairs-*.jsonl"))
    assert len(recovered) == 1
    assert load_dataset(recovered[0]).pairs[2].answer == "An answer typed a moment before the session ended."


def test_damaged_recovery_file_is_reported_kept_and_not_offered_again(window, qtbot, data_copy):
    f = window.autosaver.recovery_file()
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text('{"question": "What is a cut-off', encoding="utf-8")   # a write torn in half
    asked = []
    window.ask = lambda *a: (asked.append(a[0]), QMessageBox.Yes)[1]
    original = load_dataset(data_copy).pairs
    assert window.open_file(str(data_copy))
    assert asked == ["Recover unsaved edits?"]
    title, message = window.errors[-1]
    assert title == "Could not recover unsaved edits" and "damaged" in message and "invalid JSON" in message
    assert window.model.dataset.pairs == original and not window.isWindowModified()
    assert not f.exists()
    kept = list(f.parent.glob(f"{f.stem}.damaged-*.jsonl"))
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8").startswith('{"question"')
    assert kept[0].name in message
    assert window.open_file(str(data_copy)) and asked == ["Recover unsaved edits?"]   # not offered again


def test_declined_recovery_is_kept_aside_and_not_offered_again(window, qtbot, data_copy):
    edit(window, 0, 0, "What is an edit the user will decline?")
    f = window.autosave()
    assert f.exists()
    window.model.undo.setClean()
    asked = []
    window.ask = lambda *a: (asked.append(a[0]), QMessageBox.No)[1]
    assert window.open_file(str(data_copy)) and asked == ["Recover unsaved edits?"]
    assert not f.exists() and list(f.parent.glob(f"{f.stem}.declined-*.jsonl"))
    assert window.open_file(str(data_copy)) and len(asked) == 1
