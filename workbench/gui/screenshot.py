"""`workbench --screenshot out.png`: train briefly inside the app, show the cube and curves, save the window."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication


def run_and_capture(win, path: str, epochs: int | None = None) -> None:
    form = win.training.form
    if epochs:
        form.set_value("optim.epochs", epochs)
    win.lattice.ensure_plotter()
    win.start_training()

    def wait():
        if win.run is not None and win.run.is_running():
            QTimer.singleShot(200, wait)
            return
        win.lattice.mode.setCurrentText("voxels")
        win.lattice.refresh()
        QApplication.processEvents()
        ok = win.save_screenshot(path)
        print(f"screenshot {'saved to' if ok else 'FAILED:'} {path}")
        win.model.undo.setClean()
        win.close()
        QApplication.quit()
    QTimer.singleShot(500, wait)
