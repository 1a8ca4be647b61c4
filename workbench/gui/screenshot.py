"""`workbench FILE --screenshot out.png`: train briefly inside the app, show the cube and curves, save the window.

It always says what it did: how many rows trained (and how many with errors it left out, as the
app's "train without them" does), or why it did not train. Exit status: 0 after a finished run
and a saved PNG, 2 when it could not train or could not save (the PNG still shows the window).
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication


def say(text: str, error: bool = False) -> None:
    print(f"workbench: {text}", file=sys.stderr if error else sys.stdout, flush=True)


def run_and_capture(win, path: str, epochs: int | None = None) -> None:
    win.window_layout.persist = False        # a screenshot run must not change the user's saved layout
    win.window_layout.apply_default()
    win.runs.ask_slow = False                # nobody is there to answer "keep training?"
    win.window_layout.show_training()
    form = win.training.form
    if epochs:
        form.set_value("optim.epochs", epochs)
    n = win.model.rowCount()
    if not n:
        say("not training: no dataset is open (give a file: workbench FILE --screenshot out.png)", error=True)
        return _capture(win, path, ok=False)
    win.lattice.ensure_plotter()
    started = win.start_training(drop_errors=True)
    if not started:
        say(f"not training: {win.runs.refused or (win.last_error or ('', 'Start refused'))[1]}", error=True)
        return _capture(win, path, ok=False)
    dropped = win.runs.dropped
    checks = win.model.checks
    warned = len(checks.rows_dropped_by_run())
    left_out = [f"{k:,} with {what}" for k, what in ((dropped, "errors"), (warned, "warnings")) if k]
    say(f"training {form.config.optim.epochs} epoch(s) on {n - dropped - warned:,} of {n:,} rows"
        + (f", without {' and '.join(left_out)} (listed in the app's Problems tab)" if left_out else ""))

    def wait():
        if win.run is not None and win.run.is_running():
            QTimer.singleShot(200, wait)
            return
        fin = win.last_finished          # the run's Finished event
        if fin is None or fin.reason == "error":
            title, msg = win.last_error or ("", "the run ended without a result")
            say(f"training failed: {msg}", error=True)
            return _capture(win, path, ok=False)
        say(f"run {fin.reason}: best epoch {fin.best_epoch} of {fin.epochs_run}; report in {win.runs.out_dir}")
        win.lattice.mode.setCurrentText("voxels")
        win.lattice.refresh()
        _capture(win, path, ok=True)
    QTimer.singleShot(500, wait)


def _capture(win, path: str, ok: bool) -> None:
    QApplication.processEvents()
    saved = win.save_screenshot(path)
    say(f"screenshot of the window saved to {path}" if saved else f"could not save the screenshot to {path}",
        error=not saved)
    win.model.undo.setClean()
    win.close()
    QApplication.instance().exit(0 if ok and saved else 2)
