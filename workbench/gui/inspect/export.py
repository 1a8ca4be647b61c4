"""Run ▸ Export…: the shown run's map as ONNX (workbench-export's core), written in the background task thread."""

from __future__ import annotations

from pathlib import Path
from typing import Callable


def _export(run, path: str):
    from workbench.use.export import export_onnx      # torch and the exporter load on first use, not at app start
    return export_onnx(run, path)


def pick_and_export(win) -> bool:
    """Ask where, then export; False when there is no run to export or the dialog was cancelled."""
    ckpt = win.ask_panel.checkpoint
    if not ckpt:
        win.show_error("Nothing to export", "Train a run, or open a finished run folder (Run ▸ Open run folder…), "
                       "first: Export writes the shown run's best checkpoint.")
        return False
    path = win.choose_path("Export the run's map as ONNX", str(Path(ckpt).parent / "lattice.onnx"), "ONNX (*.onnx)",
                           True)
    return bool(path) and export_to(win, path)


def export_to(win, path: str, on_done: Callable | None = None) -> bool:
    """Export the Ask panel's checkpoint to `path`; the status bar says where it went, a dialog why it failed."""
    ask = win.ask_panel
    ckpt, session = ask.checkpoint, ask.session
    if not ckpt:
        return False

    def done(res) -> None:
        if res.ok:
            win.statusBar().showMessage(f"exported the run's map to {res.value} (question_embedding → "
                                        "answer_embedding, the teacher in its metadata)", 15_000)
        else:
            win.show_error("Could not export", res.error, res.details)
        if on_done is not None:
            on_done(res)
    win.statusBar().showMessage(f"exporting the run's map to {path}…")
    ask.tasks.submit(lambda: _export(session.load(ckpt), path), done)
    return True
